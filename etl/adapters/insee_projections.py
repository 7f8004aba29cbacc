"""Insee « Projections de population 2021-2070 » for France (one XLSX per scenario: central and variants).

Sheet `lisezmoi` says which scenario the file is: a star under « centrale », « basse », « haute » or « de travail »
for each of fertility, life expectancy and migration (all central: `central`; fertility high: `fec_haute`; life
expectancy low: `ev_basse`…). Sheet `population`: « Âge au 1er janvier » then one column per year (1962 … 2121),
one row per single age 0 … 104, « 105+ » and « Total ». Read: the years from 2021 (the projection's base, an
estimate; the years up to it are Insee's estimates as the file gives them, those its note calls provisional
`provisional`) from 2014 (France including Mayotte) to 2070 (Insee's horizon; later columns are mechanical
extensions, not published projections), each age
as `population_projection` with the breakdown `age:<n>` (`age:105+`), the total without one. Each scenario is its
own source (`insee_proj_2021_<scenario>`) and its own series: two scenarios never share a line.
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

NAME = "insee_projections"
TITLE = re.compile(r"projection de population 20\d\d-20\d\d", re.I)
FIRST, LAST = 2014, 2070  # France including Mayotte from 2014 (the file's scope note); Insee's horizon
PROVISIONAL = re.compile(r"provisoires? de (\d{4}) à (\d{4})", re.I)
LEVERS = {"fécondité": "fec", "espérance de vie": "ev", "solde migratoire": "mig"}
COLUMNS = {"centrale": "", "basse": "basse", "haute": "haute", "de travail": "travail"}
AGE = re.compile(r"^\s*(\d{1,3})(\+)?\s*$")


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = open_workbook(path)
        if "lisezmoi" not in book.sheet_names or "population" not in book.sheet_names:
            return False
        return any(TITLE.search(cell_text(c)) for row in sheet_rows(book, "lisezmoi", path.name)[:2] for c in row)
    except LoadError:
        return False


def scenario(rows: list[list], file: str) -> str:
    """`central`, or the one lever that is not central: `fec_haute`, `ev_basse`, `mig_haute`…"""
    header = next((r for r in rows[:12] if any(cell_text(c).strip().lower() == "centrale" for c in r)), None)
    if header is None:
        raise LoadError("no_projection_scenario", file, sheet="lisezmoi", row=1,
                        expected="the scenario table (« centrale », « basse », « haute ») with a star per lever")
    columns = {j: COLUMNS[cell_text(c).strip().lower()] for j, c in enumerate(header)
               if cell_text(c).strip().lower() in COLUMNS}
    chosen, at = [], rows.index(header)
    for r in rows[at + 1:at + 1 + len(LEVERS)]:  # the lever rows right under the header
        lever = next((LEVERS[cell_text(c).strip().lower()] for c in r if cell_text(c).strip().lower() in LEVERS), None)
        stars = [columns[j] for j, c in enumerate(r) if j in columns and cell_text(c) == "*"]
        if lever is None or len(stars) != 1:
            raise LoadError("no_projection_scenario", file, sheet="lisezmoi", row=rows.index(r) + 1,
                            expected="a lever (fécondité, espérance de vie, solde migratoire) with one star")
        if stars[0]:
            chosen.append(f"{lever}_{stars[0]}")
    return "_".join(chosen) or "central"


def parse(path: Path, ref: Reference) -> Parsed:
    book = open_workbook(path)
    name = scenario(sheet_rows(book, "lisezmoi", path.name), path.name)
    rows = sheet_rows(book, "population", path.name)
    at = next((i for i, r in enumerate(rows[:10]) if r and cell_text(r[0]).lower().startswith("âge")), None)
    if at is None:
        raise LoadError("no_projection_scenario", path.name, sheet="population", row=1,
                        expected="a header row « Âge au 1er janvier » followed by years")
    years = {j: int(float(c)) for j, c in enumerate(rows[at]) if j and cell_text(c).isdigit()
             and FIRST <= int(float(c)) <= LAST}
    reject = Rejections()
    cells, read = [], 0
    for i in range(at + 1, len(rows)):
        label = cell_text(rows[i][0]) if rows[i] else ""
        match = AGE.match(label)
        if not match and label.lower() != "total":
            if label and read and not label.lower().startswith(("note", "champ", "france", "source")):
                read += 1
                reject.add(np.array([i + 1]), "Âge au 1er janvier", np.array([label], dtype=object),
                           "not an age (0 … 104, 105+) nor « Total »")
            continue
        read += 1
        breakdown = "" if not match else f"age:{int(match.group(1))}{'+' if match.group(2) else ''}"
        for j, year in years.items():
            cells.append((breakdown, year, rows[i][j] if j < len(rows[i]) else None, i + 1))
    if not cells:
        raise LoadError("no_projection_scenario", path.name, sheet="population", row=at + 1,
                        expected=f"one row per age with the years {FIRST}–{LAST}")
    breakdown, year, raw, number = (np.array(p, dtype=object) for p in zip(*cells))
    value, secret, bad, non_finite = parse_numbers(pd.Series(raw, dtype=object))
    numbers = number.astype(int)
    reject.add(numbers[non_finite], "year", raw[non_finite], NON_FINITE)
    reject.add(numbers[bad | secret], "year", raw[bad | secret], "not a number of persons")
    keep = ~reject.rejected(numbers) & ~np.isnan(value)
    notes = [m for r in rows for c in r[:1] if (m := PROVISIONAL.search(cell_text(c)))]
    status = np.full(len(value), "ok", dtype=object)
    for m in notes:
        status[(year >= int(m.group(1))) & (year <= int(m.group(2)))] = "provisional"
    frame = observation_frame("population_projection", np.full(int(keep.sum()), "ensemble", dtype=object),
                              np.full(int(keep.sum()), "FR", dtype=object), year[keep].astype(np.int64),
                              value[keep], status[keep])
    frame["breakdown"] = breakdown[keep]
    source = sources.projection_source(name)
    rejected = reject.frame()
    return Parsed(adapter=NAME, source=source, observations=frame, rejections=rejected, rows_read=read,
                  rows_rejected=int(rejected["row_number"].nunique()) if len(rejected) else 0)
