"""DREES « APA – Données détaillées par GIR, âge et sexe » (XLSX, one year): the share of the population receiving
the APA by five-year age band, at home and in establishments (sheet « nat-part APA dans pop »).

Read: the « Total » block (both sexes), as `apa_prevalence`, `apa_prevalence_home`, `apa_prevalence_establishment`
(% of the population of the band, France excluding Mayotte, December of the year the title names), breakdown
`age:60-64` … `age:95+`. The « Hommes » and « Femmes » rows are rejected with that reason: the observatory's
population estimates are not loaded by sex, so prevalence by sex could not be applied. The other sheets (counts by
GIR) are not loaded.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters.common import observation_frame
from etl.errors import LoadError
from etl.frames import Parsed, Rejections
from etl.read.numbers import NON_FINITE, parse_numbers
from etl.read.xlsx import cell_text, open_workbook, sheet_rows
from etl.reference import Reference
from observatory import sources

NAME = "drees_apa_gir"
SHEET = re.compile(r"part apa dans (la )?pop", re.I)
TITLE_YEAR = re.compile(r"part des b[ée]n[ée]ficiaires de l'apa dans la population.*?(20\d\d)", re.I)
BAND = re.compile(r"(\d+)\s*(?:à\s*(\d+)\s*ans|ans\s*(?:et|ou)\s*plus)", re.I)
MEASURES = {"apa à domicile": "apa_prevalence_home", "apa en établissement": "apa_prevalence_establishment",
            "total": "apa_prevalence"}


def _sheet(book) -> str | None:
    return next((s for s in book.sheet_names if SHEET.search(s)), None)


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = open_workbook(path)
        sheet = _sheet(book)
        return sheet is not None and any(TITLE_YEAR.search(cell_text(c))
                                         for r in sheet_rows(book, sheet, path.name)[:3] for c in r)
    except LoadError:
        return False


def parse(path: Path, ref: Reference) -> Parsed:
    book = open_workbook(path)
    sheet = _sheet(book)
    if sheet is None:
        raise LoadError("no_drees_measure", path.name, sheets=book.sheet_names)
    rows = sheet_rows(book, sheet, path.name)
    year = next((int(m.group(1)) for r in rows[:3] for c in r if (m := TITLE_YEAR.search(cell_text(c)))), None)
    header = next((i for i, r in enumerate(rows[:10]) if any(cell_text(c).lower() == "total" for c in r)), None)
    if year is None or header is None:
        raise LoadError("no_drees_departement_header", path.name, sheet=sheet, row=1,
                        expected="a title « Part des bénéficiaires de l'APA dans la population … 2019 » and "
                        "a header « APA à domicile », « APA en établissement », « TOTAL »")
    columns = {j: MEASURES[cell_text(c).lower()] for j, c in enumerate(rows[header])
               if cell_text(c).lower() in MEASURES}
    reject, cells, read, block = Rejections(), [], 0, ""
    for i in range(header + 1, len(rows)):
        r = rows[i]
        label = next((cell_text(c) for c in r[2:3]), "")
        block = cell_text(r[1]) or block if len(r) > 1 else block
        match = BAND.search(label)
        if not match:
            continue
        read += 1
        if block.lower() != "total":
            reject.add(np.array([i + 1]), "sexe", np.array([block], dtype=object),
                       "by sex: not loaded (population estimates are not loaded by sex)")
            continue
        band = f"age:{match.group(1)}-{match.group(2)}" if match.group(2) else f"age:{match.group(1)}+"
        cells += [(indicator, band, r[j], i + 1) for j, indicator in columns.items()]
    indicator, band, raw, number = (np.array(p, dtype=object) for p in zip(*cells)) if cells else ([],) * 4
    if not len(raw):
        raise LoadError("no_drees_measure", path.name, sheets=book.sheet_names)
    value, secret, bad, non_finite = parse_numbers(pd.Series(raw, dtype=object))
    numbers = np.asarray(number, dtype=int)
    reject.add(numbers[non_finite], "part", raw[non_finite], NON_FINITE)
    reject.add(numbers[bad | secret], "part", raw[bad | secret], "not a share in %")
    keep = ~reject.rejected(numbers) & ~np.isnan(value)
    parts = []
    for name in MEASURES.values():
        mask = keep & (indicator == name)
        frame = observation_frame(name, np.full(int(mask.sum()), "ensemble", dtype=object),
                                  np.full(int(mask.sum()), "FR", dtype=object), np.full(int(mask.sum()), year),
                                  value[mask], np.full(int(mask.sum()), "ok", dtype=object))
        frame["breakdown"] = band[mask]
        parts.append(frame)
    rejected = reject.frame()
    return Parsed(adapter=NAME, source=sources.static("drees_apa_gir") | {"vintage": str(year)},
                  observations=pd.concat(parts, ignore_index=True), rejections=rejected, rows_read=read,
                  rows_rejected=int(rejected["row_number"].nunique()) if len(rejected) else 0)
