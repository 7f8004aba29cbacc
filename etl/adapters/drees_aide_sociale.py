"""DREES « Les bénéficiaires de l'aide sociale départementale – séries longues » (XLSX): one sheet per measure, by
département × year (layout and reading rules in `etl.adapters.drees_departements`).

Read: APA (`Tab4-pa`, and its parts at home `Tab5-pa` and in establishments `Tab6-pa`: recipients paid for
December), PCH (`Tab7-ph`, recipients at 31 December) and children in the care of the ASE (`Tab1-ase`, 31
December). The file's other sheets (ASH, aides ménagères, PSD, ACTP, ASE placements by kind…, the national sheet
and « Corrections ») are not loaded: no indicator of the catalogue is defined on them yet. A sheet is found by its
title (« Tableau 4 - Bénéficiaires de l'APA (à domicile et en établissement) … »), not by its name.
"""
from __future__ import annotations

import re
from pathlib import Path

from etl.adapters.drees_departements import read_sheets
from etl.errors import LoadError
from etl.frames import Parsed
from etl.read.xlsx import cell_text, open_workbook, sheet_rows
from etl.reference import Reference
from observatory import sources

NAME = "drees_aide_sociale"
# Title of the sheet (its first non-empty cells) → indicator.
MEASURES = (
    (re.compile(r"b[ée]n[ée]ficiaires de l'apa \(à domicile et en [ée]tablissement\)", re.I), "apa_recipients"),
    (re.compile(r"b[ée]n[ée]ficiaires de l'apa à domicile", re.I), "apa_recipients_home"),
    (re.compile(r"b[ée]n[ée]ficiaires de l'apa en [ée]tablissement", re.I), "apa_recipients_establishment"),
    (re.compile(r"tableau 7 - b[ée]n[ée]ficiaires de la pch,", re.I), "pch_recipients"),
    (re.compile(r"total des enfants accueillis à l'ase", re.I), "ase_children"),
)
SIGNATURE = re.compile(r"aide sociale d[ée]partementale", re.I)


def _title(rows: list[list]) -> str:
    return " ".join(cell_text(c) for row in rows[:2] for c in row[:2] if cell_text(c))


def _sheets(book, file: str) -> dict[str, str]:
    """Sheet → indicator, for the sheets whose title names a measure the catalogue defines."""
    found: dict[str, str] = {}
    for name in book.sheet_names:
        if not re.match(r"^\s*tab", name, re.I):
            continue
        title = _title(sheet_rows(book, name, file)[:2])
        for pattern, indicator_id in MEASURES:
            if pattern.search(title) and indicator_id not in found.values():
                found[name] = indicator_id
                break
    return found


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = open_workbook(path)
        names = book.sheet_names
        if not any(re.match(r"^tab\d+a?-(pa|ph|ase)$", n.strip(), re.I) for n in names):
            return False
        first = sheet_rows(book, names[0], path.name)[:2]
        return bool(SIGNATURE.search(_title(first)) or SIGNATURE.search(" ".join(cell_text(c) for c in first[0])))
    except LoadError:
        return False


def parse(path: Path, ref: Reference) -> Parsed:
    book = open_workbook(path)
    sheets = _sheets(book, path.name)
    if not sheets:
        raise LoadError("no_drees_measure", path.name, sheets=book.sheet_names)
    chosen = ((sheet, sheet_rows(book, sheet, path.name), indicator_id, True) for sheet, indicator_id in sheets.items())
    observations, rejections, notes, read, rejected = read_sheets(chosen, path.name, set(ref.departement_region))
    source = sources.static("drees_aide_sociale") | {"vintage": str(int(observations["period"].max()))}
    return Parsed(adapter=NAME, source=source, observations=observations,
                  rejections=rejections, notes=notes, rows_read=read, rows_rejected=rejected)
