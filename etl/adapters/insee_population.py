"""Insee « Estimation de population au 1er janvier, par département, sexe et âge quinquennal » (XLSX, Strict OOXML:
openpyxl refuses it, calamine reads it).

One sheet per year (`2022` … `1975`) after an « À savoir » sheet. Each has a title, a header on two rows
(« Départements », then the blocks « Ensemble », « Hommes », « Femmes », each with its five-year age bands and a
« Total ») and one row per département: code (text such as '01', '2A', or a number such as 972) and name. The
Ensemble block is read: each band is a `population` figure with the breakdown `age:<lo>-<hi>` (`age:95+`, or
`age:90+` where the DOM top band is 90+), the « Total » the figure for all ages (no breakdown). Sub-total rows
(« France métropolitaine », « DOM », « France métropolitaine et DOM ») are rejected with their reason: the
observatory recomputes them from the départements. Years the sheet's source line calls « provisoires » are
`provisional`.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters.common import concat, observation_frame
from etl.errors import LoadError
from etl.frames import Parsed, Rejections
from etl.read.columns import normalise_header
from etl.read.numbers import NON_FINITE, parse_numbers
from etl.read.xlsx import cell_text, open_workbook, sheet_rows
from etl.reference import Reference
from observatory import sources

NAME = "insee_population"
TITLE = re.compile(r"estimation de population au 1er janvier, par d[ée]partement, sexe et [âa]ge quinquennal", re.I)
BAND = re.compile(r"^\s*(\d+)\s*(?:à\s*(\d+)\s*ans|ans\s*ou\s*plus|\s*ans\s*et\s*plus|\+)", re.I)
PROVISIONAL = re.compile(r"provisoire", re.I)
YEAR_SHEET = re.compile(r"^\s*(\d{4})\s*$")
FOOTER = re.compile(r"^\s*(source|note|nb\s*:|champ|lecture|\(p\)|\(\*\))", re.I)
TOTAL = re.compile(r"^\s*(france|dom\b|total|ensemble)", re.I)


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = open_workbook(path)
        sheet = next((s for s in book.sheet_names if YEAR_SHEET.match(s)), None)
        return sheet is not None and any(TITLE.search(cell_text(c)) for row in sheet_rows(book, sheet, path.name)[:3]
                                         for c in row)
    except LoadError:
        return False


def _breakdown(label: str) -> str | None:
    """'0 à 4 ans' → 'age:0-4', '95 ans ou plus' → 'age:95+', 'Total' → '' (all ages); None when unknown."""
    if normalise_header(label) == "total":
        return ""
    match = BAND.match(label)
    if not match:
        return None
    low, high = match.group(1), match.group(2)
    return f"age:{low}-{high}" if high else f"age:{low}+"


def _code(value) -> str:
    """A département code as the reference writes it: 1 → '01', 972.0 → '972', '2A' kept."""
    text = cell_text(value).upper()
    return text.zfill(2) if text.isdigit() else text


def parse(path: Path, ref: Reference) -> Parsed:
    book = open_workbook(path)
    years = [s for s in book.sheet_names if YEAR_SHEET.match(s)]
    if not years:
        raise LoadError("no_population_sheet", path.name, sheets=book.sheet_names)
    departements = set(ref.departement_region)
    parts, rejections, rows_read, rows_rejected = [], [], 0, 0
    for sheet in years:
        frame, reject, read = _sheet(sheet_rows(book, sheet, path.name), sheet, path.name, departements)
        parts.append(frame)
        rejected = reject.frame()
        rows_rejected += rejected["row_number"].nunique()
        rejections.append(rejected.assign(column_name=sheet + " › " + rejected["column_name"].astype(str)))
        rows_read += read
    observations = concat(parts)
    source = sources.static("insee_estim_pop") | {"vintage": str(max(int(y) for y in years))}
    return Parsed(adapter=NAME, source=source, observations=observations,
                  rejections=pd.concat(rejections, ignore_index=True), rows_read=rows_read,
                  rows_rejected=rows_rejected)


def _sheet(rows: list[list], sheet: str, file: str, departements: set[str]):
    """(observations, rejections, data rows read) of one year sheet. A sheet may hold several tables, each under
    its own two header rows (1990–98: the DOM apart, with a « 90 ans et plus » top band)."""
    year = int(sheet.strip())
    notes = [cell_text(r[0]) for r in rows if r and FOOTER.match(cell_text(r[0]))]
    status = "provisional" if any(PROVISIONAL.search(n) for n in notes) else "ok"
    reject = Rejections()
    cells: list[tuple[str, str, object]] = []  # (territory, breakdown, raw value)
    places: list[tuple[int, str]] = []  # (spreadsheet row, column named) of each cell
    columns: dict[int, tuple[str, str]] | None = None
    read, i = 0, 0
    while i < len(rows):
        row = rows[i]
        ensemble = next((j for j, c in enumerate(row) if normalise_header(cell_text(c)) == "ensemble"), None)
        if ensemble is not None and i + 1 < len(rows):
            columns = _columns(row, rows[i + 1], ensemble, file, sheet, i)
            i += 2
            continue
        first = cell_text(row[0]) if row else ""
        i += 1
        if not first or columns is None or FOOTER.match(first):
            continue  # the title rows, blank rows, the source line
        read += 1
        code = _code(row[0])
        if code not in departements:
            why = ("sub-total row: the observatory recomputes totals from the départements" if TOTAL.match(first)
                   else "département not in the Insee reference")
            reject.add(np.array([i]), "Départements", np.array([first], dtype=object), why)
            continue
        for j, (breakdown, name) in columns.items():
            cells.append(("DEP-" + code, breakdown, row[j] if j < len(row) else None))
            places.append((i, name))
    if columns is None:
        raise LoadError("no_population_header", file, sheet=sheet, row=1,
                        expected="a header row with an « Ensemble » block and its age bands")
    if not cells:
        return concat([]), reject, read
    territory, breakdown, raw = (np.array(part, dtype=object) for part in zip(*cells))
    value, secret, bad, non_finite = parse_numbers(pd.Series(raw, dtype=object))
    numbers = np.array([p[0] for p in places])
    named = np.array([p[1] for p in places], dtype=object)
    reject.add(numbers[non_finite], named[non_finite], raw[non_finite], NON_FINITE)
    reject.add(numbers[bad], named[bad], raw[bad], "not a number")
    bad_rows = set(numbers[bad | non_finite].tolist())  # a row with one unreadable band is rejected whole
    keep = ~np.isin(numbers, list(bad_rows)) & ~(np.isnan(value) & ~secret)  # an empty cell is not published
    frame = observation_frame("population", np.full(int(keep.sum()), "ensemble", dtype=object), territory[keep],
                              np.full(int(keep.sum()), year), value[keep],
                              np.where(secret[keep], "secret", status), breakdown="")
    frame["breakdown"] = breakdown[keep]
    return pd.concat([frame, *(_older(frame, low) for low in OLDER)], ignore_index=True), reject, read


OLDER = (75, 85)  # the ages the need for home care and APA is read against (`age:75+`, `age:85+`)


def _older(frame: pd.DataFrame, low: int) -> pd.DataFrame:
    """People aged `low` or more per territory: the sum of the published bands from `low` up (derived, so that
    pages, the API and the need ratios read one figure; a band that is secret or missing leaves no sum)."""
    band = frame["breakdown"].astype(str)
    first = band.str.extract(r"^age:(\d+)", expand=False).astype(float)
    bands = frame.loc[(first >= low).to_numpy()]
    if bands.empty:
        return bands
    grouped = bands.groupby(["territory_id", "period"], sort=False)
    out = grouped.agg(value=("value", lambda v: v.sum(min_count=len(v))),
                      provisional=("status", lambda s: (s == "provisional").any())).reset_index()
    out = out[out["value"].notna()]
    result = observation_frame("population", np.full(len(out), "ensemble", dtype=object),
                               out["territory_id"].to_numpy(object), out["period"].to_numpy(),
                               out["value"].to_numpy(float),
                               np.where(out["provisional"], "provisional", "ok"), is_derived=1)
    result["breakdown"] = f"age:{low}+"
    return result


def _columns(blocks: list, bands: list, ensemble: int, file: str, sheet: str, at: int) -> dict[int, tuple[str, str]]:
    """Column → (breakdown, header as written) for the Ensemble block of one table; a band column left blank in
    the header (the DOM's 95+ in 1990–98) is not read."""
    columns = {}
    for j in range(ensemble, len(bands)):
        if j > ensemble and cell_text(blocks[j]):
            break  # the next block (Hommes)
        label = cell_text(bands[j])
        if not label:
            continue
        breakdown = _breakdown(label)
        if breakdown is None:
            raise LoadError("no_population_header", file, sheet=sheet, row=at + 2,
                            expected=f"an age band or « Total » in column {j + 1}, not {label!r}")
        columns[j] = (breakdown, f"{cell_text(blocks[ensemble])} › {label}")
    return columns
