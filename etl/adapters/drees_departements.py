"""The DREES « enquête Aide sociale » sheet by département × year, shared by `drees_aide_sociale` and
`drees_personnel` (not an adapter itself: it recognises no file).

Each sheet: a few title and note rows, a header row (« Code département » or « Numéro de département », the name,
one column per year, sometimes a « Code région » column first), one row per département, then total rows and,
in some sheets, a second table by région. How its cells are read:
- codes as text ('01') or numbers (1 → '01'); `69D` (Rhône) and `69M` (Métropole de Lyon) are kept as the
  breakdowns `perimetre:69D` / `perimetre:69M` of DEP-69; the « 69 » figure is the file's own (the cached value
  of its formula) or, where its cell is empty, 69D + 69M (a derived figure, recorded as a note);
- `20` (Collectivité de Corse, since 2018) is the région Corse (REG-94) where neither 2A nor 2B has a figure that
  year; otherwise it is the sub-total of 2A + 2B, recomputed;
- « TOTAL estimé France entière » is DREES's national figure (FR, status `estimated`: it imputes missing
  départements); the metropolitan and DROM sub-totals and the table by région are recomputed from the
  départements (rejected with that reason);
- `ND` (non disponible) is stored as `missing` (value NULL, never 0), so a total that lacks it is `partial`;
  `-` (sans objet: a perimeter that did not exist) and empty cells are no figure; a count published with
  decimals is a DREES estimate (`estimated`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from etl.adapters.common import concat, observation_frame
from etl.errors import LoadError
from etl.frames import NOTE, REJECTION_COLUMNS, Rejections
from etl.read.columns import normalise_header
from etl.read.numbers import NON_FINITE, parse_numbers
from etl.read.xlsx import cell_text

CODE_HEADERS = ("codedepartement", "numerodedepartement", "numerodudepartement", "departementcode")
NOT_AVAILABLE = re.compile(r"^\s*n\.?\s*d\.?\s*$", re.I)
NOT_APPLICABLE = re.compile(r"^\s*[-–—]\s*$")
NATION = re.compile(r"^\s*total.*france\s+enti[èe]re", re.I)
TOTAL = re.compile(r"^\s*(total|france|drom|dom\b|ensemble)", re.I)
YEAR = re.compile(r"^\s*((?:19|20)\d\d)\s*$")
PARTS = {"69D": "perimetre:69D", "69M": "perimetre:69M"}
CORSICA, CORSICA_PARTS, CORSICA_REGION = "20", ("2A", "2B"), "REG-94"


def _code(value) -> str:
    text = cell_text(value).upper()
    return text.zfill(2) if text.isdigit() else text


def find_header(rows: list[list], sheet: str, file: str) -> tuple[int, int, dict[int, int]]:
    """(header row index, code column, column → year) of the sheet's first table."""
    for i, row in enumerate(rows[:40]):
        for j, cell in enumerate(row):
            if normalise_header(cell_text(cell)) in CODE_HEADERS:
                years = {k: int(m.group(1)) for k, c in enumerate(row)
                         if k > j and (m := YEAR.match(cell_text(c)))}
                if years:
                    return i, j, years
    raise LoadError("no_drees_departement_header", file, sheet=sheet, row=1,
                    expected="a header row « Code département » (or « Numéro de département ») followed by years")


def read_sheet(rows: list[list], sheet: str, file: str, indicator_id: str, departements: set[str], *,
               counts: bool = True) -> tuple[pd.DataFrame, Rejections, pd.DataFrame, int]:
    """(observations, rejections, notes, data rows read) of one sheet into `indicator_id`."""
    header, code_col, years = find_header(rows, sheet, file)
    reject = Rejections()
    cells: list[tuple[str, str, int, object, int]] = []  # (territory, breakdown, year, raw, spreadsheet row)
    read = 0
    by_code: dict[str, tuple[int, list]] = {}
    for i in range(header + 1, len(rows)):
        row = rows[i]
        first = cell_text(row[0]) if row else ""
        code = _code(row[code_col]) if code_col < len(row) else ""
        if not code and not first:
            if read:
                break  # the blank row after the table
            continue
        if not code and not any(cell_text(row[k]) for k in years if k < len(row)):
            break  # a title row: the table by région follows
        read += 1
        number = i + 1
        if NATION.match(first) or NATION.match(code):
            for k, year in years.items():
                cells.append(("FR", "", year, row[k] if k < len(row) else None, number))
            continue
        if TOTAL.match(first) or TOTAL.match(code):
            reject.add(np.array([number]), "Code département", np.array([first or code], dtype=object),
                       "sub-total: the observatory recomputes it from the départements")
            continue
        if code in departements or code in PARTS or code == CORSICA or code == "69":
            by_code[code] = (number, row)
            continue
        reject.add(np.array([number]), "Code département", np.array([code or first], dtype=object),
                   "département not in the Insee reference")
    # Région block rows after the first table: recomputed from the départements.
    regional = [j + 1 for j in range(i + 1, len(rows)) if rows[j] and _code(rows[j][0]).isdigit()
                and any(isinstance(c, (int, float)) for c in rows[j][1:])] if read else []
    notes = []
    for code, (number, row) in by_code.items():
        for k, year in years.items():
            raw = row[k] if k < len(row) else None
            if code == CORSICA:
                parts = [by_code.get(p) for p in CORSICA_PARTS]
                if any(p and cell_text(p[1][k] if k < len(p[1]) else None) not in ("", "-") for p in parts):
                    continue  # 2A and 2B are published that year: « 20 » is their sub-total
                cells.append((CORSICA_REGION, "", year, raw, number))
            elif code in PARTS:
                cells.append(("DEP-69", PARTS[code], year, raw, number))
            elif code == "69" and cell_text(raw) == "" and all(p in by_code for p in PARTS):
                continue  # computed below from its parts
            else:
                cells.append(("DEP-" + code, "", year, raw, number))
    frame = _frame(cells, reject, indicator_id, counts)
    derived, computed = _rhone_from_parts(frame, by_code, years)
    for year in computed:
        notes.append({"row_number": by_code.get("69", (by_code["69D"][0],))[0], "column_name": str(year),
                      "value": "", "reason": f"{NOTE}69 = 69D + 69M computed for {year} (no value in the file's "
                      "« 69 » cell: a formula without its cached value, or no « 69 » row)"})
    for number in regional:
        reject.add(np.array([number]), "Code région", np.array([cell_text(rows[number - 1][0])], dtype=object),
                   "regional sub-total: the observatory recomputes it from the départements")
    read += len(regional)
    frame = pd.concat([frame, derived], ignore_index=True) if len(derived) else frame
    return frame, reject, pd.DataFrame(notes, columns=REJECTION_COLUMNS), read


def _frame(cells: list, reject: Rejections, indicator_id: str, counts: bool) -> pd.DataFrame:
    if not cells:
        return observation_frame(indicator_id, [], [], [], [], [])
    territory, breakdown, year, raw, number = (np.array(part, dtype=object) for part in zip(*cells))
    text = np.array([cell_text(v) for v in raw], dtype=object)
    missing = np.array([bool(NOT_AVAILABLE.match(t)) for t in text])
    skipped = (text == "") | np.array([bool(NOT_APPLICABLE.match(t)) for t in text])
    value, _secret, bad, non_finite = parse_numbers(pd.Series(np.where(missing | skipped, "", raw), dtype=object))
    numbers = number.astype(int)
    reject.add(numbers[non_finite], "year " + str(year[non_finite][0]) if non_finite.any() else "",
               raw[non_finite], NON_FINITE)
    reject.add(numbers[bad], "year " + str(year[bad][0]) if bad.any() else "", raw[bad],
               "not a number (expected a count, « ND » or « - »)")
    keep = ~reject.rejected(numbers) & ~skipped & (missing | ~np.isnan(value))
    status = np.where(missing, "missing", "ok").astype(object)
    if counts:
        status[~missing & (np.abs(value - np.round(value)) > 1e-9)] = "estimated"
    status[territory == "FR"] = np.where(missing[territory == "FR"], "missing", "estimated")
    frame = observation_frame(indicator_id, np.full(int(keep.sum()), "ensemble", dtype=object), territory[keep],
                              year[keep].astype(np.int64), value[keep], status[keep])
    frame["breakdown"] = breakdown[keep]
    return frame


def _rhone_from_parts(frame: pd.DataFrame, by_code: dict, years: dict[int, int]) -> tuple[pd.DataFrame, list[int]]:
    """DEP-69 = 69D + 69M for the years the file gives the parts but no « 69 » figure (derived, noted)."""
    if not all(p in by_code for p in PARTS):
        return frame.iloc[0:0], []
    rhone = frame["territory_id"].to_numpy() == "DEP-69"
    whole = set(frame.loc[rhone & (frame["breakdown"].to_numpy() == ""), "period"].tolist())
    parts = frame.loc[rhone & frame["breakdown"].isin(PARTS.values()).to_numpy()]
    rows, computed = [], []
    for year, group in parts.groupby("period"):
        if year in whole or len(group) < len(PARTS):
            continue
        complete = (group["status"] != "missing").all()
        value = group["value"].sum() if complete else np.nan
        status = "missing" if not complete else ("estimated" if (group["status"] == "estimated").any() else "ok")
        rows.append(observation_frame(frame["indicator_id"].iloc[0], ["ensemble"], ["DEP-69"], [year], [value],
                                      [status], is_derived=1))
        computed.append(int(year))
    return (pd.concat(rows, ignore_index=True) if rows else frame.iloc[0:0]), computed


def read_sheets(chosen, file: str, departements: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int, int]:
    """Every chosen sheet read by `read_sheet`: `chosen` yields (sheet name, its rows, indicator, counts). Returns
    (observations, rejections, notes, rows read, rows rejected), each rejection and note prefixed by its sheet."""
    parts, rejections, notes, read, rejected = [], [], [], 0, 0
    for sheet, rows, indicator_id, counts in chosen:
        frame, reject, noted, count = read_sheet(rows, sheet, file, indicator_id, departements, counts=counts)
        parts.append(frame)
        table = reject.frame()
        rejected += table["row_number"].nunique()
        rejections.append(table.assign(column_name=sheet + " › " + table["column_name"].astype(str)))
        notes.append(noted.assign(column_name=sheet + " › " + noted["column_name"].astype(str)))
        read += count
    if not parts:
        return concat([]), pd.DataFrame(columns=REJECTION_COLUMNS), pd.DataFrame(columns=REJECTION_COLUMNS), 0, 0
    return (concat(parts), pd.concat(rejections, ignore_index=True), pd.concat(notes, ignore_index=True), read,
            rejected)
