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

What one visitor may make the server do (« Mon établissement », and `python -m etl load --source tdbms`'s private
save); checked before the costly comparison with peers, each refusal in French on the page:

- `MAX_UPLOAD_ESTABLISHMENTS` (50) and `MAX_UPLOAD_YEARS` (10): an establishment's file holds one establishment,
  a group's its few establishments (at most 50, over at most 10 years). A whole TDBMS extract (1,256 fictitious
  establishments, 19,000 real ones) is refused: it is published data, not one's own figures.
- `MAX_UPLOAD_ROWS` (500 = 50 × 10): data rows of an upload, counted in the raw CSV before it is parsed, and in
  what the reader read (XLSX). The bundled template and example hold 1 to 3 rows.
- `MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES` (8 MiB): an uploaded workbook's members decompressed (counted in bounded
  chunks before any other reading). A 500-row sheet takes ≈ 330 KB, the example template 29 KB; a 1.9 MB upload
  of 36,000 rows inflates to 24 MB and its hostile-file pre-check alone took 5–7 s (256 MiB would take a
  minute, past gunicorn's 30 s): here it is refused in milliseconds.
- `MAX_PRIVATE_FIGURES_PER_SAVE` (2,500 = 500 rows × 5 indicators): what one private save may store.
- `MAX_PRIVATE_UPLOADS` (10,000) and `MAX_PRIVATE_FIGURES` (500,000, ≈ 70 MB with their index at ≈ 140 bytes a
  figure on SQLite): the whole private space; a save that would pass either is refused (« espace privé
  plein »), nothing written.
- `PRIVATE_RETENTION_DAYS` (30): a private upload older than this is deleted by the purge every save runs
  first, and by `python -m etl purge-private` (said on the page).
- `SAVE_RATE_LIMITS` ("5 per minute; 20 per 30 days", env `OBSERVATORY_SAVE_LIMITS`): private saves per client
  (its IP address), counted by the `limits` library (Flask-Limiter's core) in `OBSERVATORY_RATELIMIT_STORAGE`
  (default `memory://`: each gunicorn worker counts on its own, so N workers allow N times as many; a shared
  `redis://…` or `memcached://…` URI makes it one count). With the 30-day retention, one client holds at most
  20 live uploads, i.e. 20 × 2,500 figures (≈ 7 MB).
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

MAX_UPLOAD_ESTABLISHMENTS = 50
MAX_UPLOAD_YEARS = 10
MAX_UPLOAD_ROWS = MAX_UPLOAD_ESTABLISHMENTS * MAX_UPLOAD_YEARS
MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES = 8 * 1024 * 1024
OWN_INDICATORS = 5  # turnover, entry, exit, absenteeism, vacancy: the figures one TDBMS row gives
MAX_PRIVATE_FIGURES_PER_SAVE = MAX_UPLOAD_ROWS * OWN_INDICATORS
MAX_PRIVATE_UPLOADS = 10_000
MAX_PRIVATE_FIGURES = 500_000
PRIVATE_RETENTION_DAYS = 30
SAVE_RATE_LIMITS = "5 per minute; 20 per 30 days"

WHERE = "limit in etl/limits.py"  # said in every refusal, so that the one error line names where to look
