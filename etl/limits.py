"""Bounds on what a load reads: a hostile or broken file is refused (`LoadError`, nothing written) before it
can make the loader allocate more memory or time than a 2-core, 24 GiB machine shared with the app can spare.

Each value sits far above the bundled real files (measured on `data/real/**`, `data/illustrative/**` and
`data/templates/**`) and far below what hurts:

- `MAX_FILE_BYTES` (64 MiB): size of any file on disk, checked before a byte is read. The largest bundled file
  is the BMO 2017 workbook, 3.7 MB; the largest CSV is `tensions.csv`, 2.1 MB.
- `MAX_XLSX_DECOMPRESSED_BYTES` (256 MiB): sum of the decompressed sizes of the XLSX members the reader reads
  (XML parts, worksheets, shared strings), counted while they are decompressed in bounded chunks — never
  taken from the ZIP's own size fields, which a zip bomb lies in. The largest bundled workbook (BMO 2022)
  decompresses to 31 MB; a 4.8 MB zip bomb that inflates to 5 GB stops here after 256 MiB.
- `MAX_ZIP_MEMBERS` (10,000): members of an XLSX container. Real workbooks have 10 to 30.
- `MAX_ROWS` (500,000): rows of a sheet (the highest row a cell or row element reaches, or declares) or data
  lines of a CSV. The largest bundled sheet has 50,939 rows (BMO 2022), the longest CSV 35,357 lines. A file
  near the limit still yields at most that many rejection rows.
- `MAX_COLUMNS` (1,000): columns of a sheet or CSV. The widest bundled sheet declares 102 (BMO 2017,
  `A1:CX43509`, styled empty cells), the widest data 17 (TDBMS).
- `MAX_CELLS` (10,000,000): rows × columns of the dense grid the XLSX reader (python-calamine) allocates
  from A1 to the furthest cell, and rows × columns of a CSV. A single cell at XFD1048576 means a grid of 17
  billion cells (512 GiB): the process used to abort. The largest bundled grid is BMO 2017's declared
  43,509 × 102 = 4.4 million cells (700,000 really read); at 10 million a load stays within a few GiB.
- `MAX_CELL_CHARS` (32,767): characters of one cell (shared or inline string, CSV field): Excel's own limit,
  so no real workbook passes it.
- `MAX_ABS_NUMBER` (1e15) and `MIN_ABS_NUMBER` (1e-200): a parsed figure outside [1e-200, 1e15] in magnitude
  (zero excepted) is rejected like `inf` and `NaN`: no count, rate or salary of these sources comes near, and
  inside these bounds the sums and ratios the loader computes over a whole file can never overflow to
  infinity.
"""
from __future__ import annotations

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_XLSX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_ROWS = 500_000
MAX_COLUMNS = 1_000
MAX_CELLS = 10_000_000
MAX_CELL_CHARS = 32_767
MAX_ABS_NUMBER = 1e15
MIN_ABS_NUMBER = 1e-200

WHERE = "limit in etl/limits.py"  # said in every refusal, so that the one error line names where to look
