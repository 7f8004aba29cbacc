"""Reading raw published files, bounded (etl/limits.py): every reader returns plain strings (or the workbook's own
cells) and leaves interpretation to the adapters; every failure to read becomes a `LoadError` naming the file.

One job per module: `files` (size on disk, file identity), `text` (encodings, CSV), `columns` (headers and
roles), `numbers` (French numbers, secret markers), `xlsx` (workbooks, sheets, header rows), `zipsafe` and
`grid` (a hostile XLSX refused before calamine allocates anything), `parts` (names inside an XLSX package),
`readahead` (a workbook parsed in the background while the CLI starts).

Imported by the adapters, `etl.reference` and the CLI (`read_ahead`); imports nothing of the ETL but `errors`
and `limits`. numpy and pandas are imported by the functions that use them, so that `python -m etl load` can
start reading a workbook before it imports them.
"""
