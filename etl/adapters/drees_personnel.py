"""DREES « Le personnel départemental de l'action sociale et médico-sociale » (XLSX, 2014–2020): the staff of the
départements' social services at 31 December, one sheet per category and measure, by département × year (layout
and reading rules in `etl.adapters.drees_departements`: 'ND', 69D / 69M, the « 69 » row written as formulas).

Read: the social and educational staff (`eff - pers social et educatif` → `dept_social_staff`, `etp - …` →
`dept_social_staff_fte`) and the foster carers the département employs (`eff - pers ass fam` → `foster_carers`).
The other categories (medical, psychologists, paramedical, administrative) and the national sheets are not
loaded: no indicator of the catalogue is defined on them yet.
"""
from __future__ import annotations

import re
from pathlib import Path

from etl.adapters.drees_departements import read_sheets
from etl.errors import LoadError
from etl.frames import Parsed
from etl.read.columns import normalise_header
from etl.read.xlsx import cell_text, open_workbook, sheet_rows
from etl.reference import Reference
from observatory import sources

NAME = "drees_personnel"
# Title (first cell) → (indicator, a headcount: decimals in a headcount mean an estimate).
MEASURES = (
    (re.compile(r"^effectifs au 31/12 exprim[ée]s en etp - personnel social et [ée]ducatif", re.I),
     "dept_social_staff_fte", False),
    (re.compile(r"^effectifs au 31/12 - personnel social et [ée]ducatif", re.I), "dept_social_staff", True),
    (re.compile(r"^effectifs au 31/12 - assistants familiaux", re.I), "foster_carers", True),
)
SIGNATURE = re.compile(r"personnel de l'action sociale et m[ée]dico-sociale des d[ée]partements", re.I)


def _title(rows: list[list]) -> str:
    return re.sub(r"\s+", " ", cell_text(rows[0][0]) if rows and rows[0] else "")


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = open_workbook(path)
        if not any(normalise_header(n).startswith(("eff", "etp")) for n in book.sheet_names):
            return False
        return bool(SIGNATURE.search(_title(sheet_rows(book, book.sheet_names[0], path.name)[:1])))
    except LoadError:
        return False


def _measures(book, file: str):
    """(sheet, rows, indicator, counts) of each `eff -`/`etp -` sheet whose title names a measure read (first one)."""
    seen = set()
    for sheet in book.sheet_names:
        if not normalise_header(sheet).startswith(("eff", "etp")):
            continue
        rows = sheet_rows(book, sheet, file)
        measure = next(((i, c) for p, i, c in MEASURES if p.search(_title(rows))), None)
        if measure is not None and measure[0] not in seen:
            seen.add(measure[0])
            yield sheet, rows, measure[0], measure[1]


def parse(path: Path, ref: Reference) -> Parsed:
    book = open_workbook(path)
    observations, rejections, notes, read, rejected = read_sheets(_measures(book, path.name), path.name,
                                                                  set(ref.departement_region))
    if observations.empty:
        raise LoadError("no_drees_measure", path.name, sheets=book.sheet_names)
    source = sources.static("drees_personnel") | {"vintage": str(int(observations["period"].max()))}
    return Parsed(adapter=NAME, source=source, observations=observations,
                  rejections=rejections, notes=notes, rows_read=read, rows_rejected=rejected)
