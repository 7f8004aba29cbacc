"""DARES Portrait statistique des métiers: the inputs of a workforce outlook, five files, five layouts.

* `effectifs_3niv.csv` — WIDE: `Annee` then one column per FAP code (domain, FAP-87, FAP-225), persons in
  employment in thousands. The DARES dates each three-year average by its CENTRAL year (its row « 2018 » is the
  2017-2019 average: T2A 557.61707 = the sum of T2A over the age bands of `age_2017_2019_3niv.csv`); it is stored
  under the window's LAST year (Annee + 1), the project's convention for three-year averages. Each cell is one
  figure: rows read and rejected count cells, a rejection names the cell's line and FAP column. `NA` cells
  (FAP-225 up to the row 2003, T2A and T2B up to the row 1994) are rejected.
* `age_2017_2019_3niv.csv` — latin-1, `fap,tr_age,annee_2017_2019,…`: thousands by FAP × nine age bands; the
  window is in the value column's name (stored under its last year).
* `age_agrege_1982_1984_a_2017_2019_restructure.csv` — latin-1, `Fap,Annee,Age,effectif_age,Pourcentage`:
  thousands by FAP-87 × three broad age bands for every window 1982-1984 … 2017-2019 (stored under its last
  year). A FAP not defined yet (T2A, T2B before 1992-1994) is published as 0 in every band: rejected.
* `input_carte1.csv` — latin-1, `code_reg,FAP_3,…,emp_fap_reg2,pourcentage`: persons by FAP-87 × région, the
  DROM coded 101-106 (→ régions 01-06). Stored as the région's share of the FAP's employment (× 100), with
  its parts; the file states no period: stored under 2019, the Portrait's edition. A FAP with a rejected row
  is rejected whole (its shares would no longer sum to 100).
* `types_sorties.csv` — latin-1, `;`, labels right-padded with spaces: share of exits by type and FAP-87; no
  period in the file: stored under 2014, the last year of the DARES mouvements de main-d'œuvre series.

A zero in a count is kept (an age band with nobody surveyed) unless every known figure of the FAP × window is
0: that is the DARES writing a FAP not defined yet, rejected. Every rejected figure keeps its reason.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters import common
from etl.errors import LoadError
from etl.frames import Parsed, Rejections
from etl.read.columns import by_unique, find_columns, normalise_header
from etl.read.text import read_csv
from etl.reference import Reference
from observatory import sources

NAME = "dares_outlook"

THOUSANDS = 1000.0
PORTRAIT_EDITION = 2019  # input_carte1.csv states no period: the Portrait statistique des métiers 2017-2019
MMO_LAST_YEAR = 2014  # types_sorties.csv states no period: last year of the DARES DMMO series (source dares_mmo)
UNDEFINED = "0 publié pour une FAP pas encore définie"
EMPTY = "no value published (empty cell)"
_CELL = "<cell>"  # column of a wide file's cell rejection, replaced by the cell's FAP column once collected

AGE_BANDS = {  # normalise_header(label) → breakdown code (observatory.catalogue.BREAKDOWNS)
    "1524ans": "age:15-24", "2529ans": "age:25-29", "3034ans": "age:30-34", "3539ans": "age:35-39",
    "4044ans": "age:40-44", "4549ans": "age:45-49", "5054ans": "age:50-54", "5559ans": "age:55-59",
    "60ansouplus": "age:60+",
}
BROAD_AGE_BANDS = {"moinsde30ans": "age:<30", "de30a49ans": "age:30-49", "50ansouplus": "age:50+"}
EXIT_TYPES = {
    "finsdecdd": "sortie:fin_cdd", "demissions": "sortie:demission", "licenciements": "sortie:licenciement",
    "rupturesconventionnelles": "sortie:rupture_conventionnelle",
    "finsdeperiodedessai": "sortie:fin_periode_essai", "departsenretraite": "sortie:retraite",
    "autressorties": "sortie:autre",
}


def _layout(header: str) -> str | None:
    """The layout of a file from its first line (`sniff_header`), or None."""
    if re.fullmatch(r"annee(,[a-z0-9]+)+", header) and re.search(r",[a-z]\d[a-z](,|$)", header):
        return "wide_employment"
    if header.startswith("fap,tr_age,annee_"):
        return "age"
    if header.startswith("fap,annee,age,effectif_age"):
        return "broad_age"
    if header.startswith("code_reg,fap_3,") and "emp_fap_reg2" in header:
        return "regions"
    if header.startswith("fap3;type_sortie;"):
        return "exit_types"
    return None


def recognise(path: Path) -> bool:
    return _layout(common.sniff_header(path)) is not None


def parse(path: Path, ref: Reference) -> Parsed:
    layout = _layout(common.sniff_header(path))
    if layout is None:
        raise LoadError("not_outlook", path.name, row=1)
    return {"wide_employment": _employment, "age": _age, "broad_age": _broad_age, "regions": _regions,
            "exit_types": _exit_types}[layout](path, ref)


def _counts(reject: Rejections, raw: pd.Series, rows: np.ndarray, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Thousands of persons → (persons, secret): NA, empty, garbage and negative cells rejected."""
    value, secret = common.numbers(reject, raw, rows, column)
    empty = np.isnan(value) & ~secret
    reject.add(rows[empty], column, raw.to_numpy()[empty], EMPTY)
    negative = value < 0
    reject.add(rows[negative], column, raw.to_numpy()[negative], "a count of persons cannot be negative")
    return np.round(value * THOUSANDS, 3), secret


def _reject_undefined(reject: Rejections, value: np.ndarray, groups: list[np.ndarray], rows: np.ndarray,
                      column: str, raw: pd.Series) -> None:
    """Reject the zeros of every FAP × window whose known figures are all 0 (a FAP not defined yet)."""
    alive = ~reject.rejected(rows) & ~np.isnan(value)
    if not alive.any():
        return
    zero = pd.Series(value[alive] == 0)
    all_zero = zero.groupby([g[alive] for g in groups]).transform("all").to_numpy()
    undefined = np.zeros(len(rows), dtype=bool)
    undefined[np.flatnonzero(alive)[all_zero]] = True
    reject.add(rows[undefined], column, raw.to_numpy()[undefined], UNDEFINED)


def _window_end(text: str) -> int | None:
    """Last year of a three-year window written '2017-2019' or '2017_2019' (None otherwise)."""
    match = re.fullmatch(r"\D*(\d{4})\s*[-–_]\s*(\d{4})", str(text).strip())
    if not match or int(match.group(2)) - int(match.group(1)) != 2:
        return None
    return int(match.group(2))


def _parsed(source_id: str, parts: list[pd.DataFrame], reject: Rejections, rows_read: int) -> Parsed:
    return Parsed(adapter=NAME, source=sources.static(source_id), observations=common.concat(parts),
                  rejections=reject.frame(), rows_read=rows_read)


def _employment(path: Path, ref: Reference) -> Parsed:
    """`effectifs_3niv.csv`: one figure per cell, stored under Annee + 1 (the window's last year)."""
    frame, _ = read_csv(path, sep=",")
    if frame.empty:
        raise LoadError("no_data_rows", path.name)
    header = list(frame.columns)
    at = find_columns(header, {"year": r"annee"}, path.name)["year"]
    fap_at = [i for i in range(len(header)) if i != at]
    n_rows, n_fap = len(frame), len(fap_at)
    # Cells in row-major order; Rejections keys them by cell number, turned back into line and column below.
    cell = np.arange(n_rows * n_fap)
    line = np.repeat(np.arange(n_rows) + 2, n_fap)
    code = pd.Series(np.tile(np.array([header[i] for i in fap_at], dtype=object), n_rows))
    raw = pd.Series(frame.iloc[:, fap_at].to_numpy(dtype=object).ravel())
    raw_year = pd.Series(np.repeat(frame.iloc[:, at].to_numpy(dtype=object), n_fap))
    reject = Rejections()
    profession_id = common.fap_professions(reject, code, cell, _CELL, ref)
    year = common.years(raw_year)
    bad_year = np.isnan(year) | ~raw_year.str.fullmatch(r"\d{4}").to_numpy(dtype=bool)
    reject.add(cell[bad_year], header[at], raw_year[bad_year], "expected a year (the window's central year)")
    value, secret = _counts(reject, raw, cell, _CELL)
    period = year + 1  # the DARES's central year → the window's last year
    _reject_undefined(reject, value, [code.to_numpy(), period], cell, _CELL, raw)
    common.reject_duplicates(reject, pd.DataFrame({"profession": profession_id, "period": period}), cell, _CELL)
    keep = ~reject.rejected(cell)
    part = common.observation_frame("employment", profession_id[keep], np.full(keep.sum(), "FR"), period[keep],
                                    value[keep], np.where(secret[keep], "secret", "ok"))
    parsed = _parsed("dares_portrait_employment", [part], reject, len(cell))
    rejections = parsed.rejections
    ids = rejections["row_number"].to_numpy(dtype=np.int64)
    rejections["column_name"] = np.where(rejections["column_name"] == _CELL, code.to_numpy()[ids],
                                         rejections["column_name"])
    rejections["row_number"] = line[ids]
    parsed.rows_rejected = len(ids)  # cells: a line holds many figures
    return parsed


def _age(path: Path, ref: Reference) -> Parsed:
    """`age_2017_2019_3niv.csv`: FAP × nine age bands, one window named in the value column's header."""
    raw, header, rows = common.read_table(path, {"fap": r"fap", "band": r"trage", "value": r"annee\d{4}\d{4}"},
                                          sep=",")
    end = _window_end(header["value"])
    if end is None:
        raise LoadError("no_window", path.name, row=1, header=header["value"])
    return _banded(path, ref, raw, header, rows, np.full(len(rows), float(end)), AGE_BANDS,
                   "employment_by_age", "dares_portrait_age")


def _broad_age(path: Path, ref: Reference) -> Parsed:
    """`age_agrege_…_restructure.csv`: FAP-87 × three broad age bands × every window since 1982-1984."""
    raw, header, rows = common.read_table(path, {"fap": r"fap", "year": r"annee", "band": r"age",
                                                 "value": r"effectifage"}, sep=",")
    end = by_unique(raw["year"], _window_end)
    period = np.array([np.nan if e is None else float(e) for e in end])
    return _banded(path, ref, raw, header, rows, period, BROAD_AGE_BANDS, "employment_by_broad_age",
                   "dares_portrait_broad_age")


def _banded(path: Path, ref: Reference, raw: pd.DataFrame, header: dict[str, str], rows: np.ndarray,
            period: np.ndarray, bands: dict[str, str], indicator_id: str, source_id: str) -> Parsed:
    reject = Rejections()
    code = raw["fap"]
    profession_id = common.fap_professions(reject, code, rows, header["fap"], ref)
    if "year" in header:
        bad = np.isnan(period)
        reject.add(rows[bad], header["year"], raw["year"][bad], "expected a three-year window such as 2017-2019")
    breakdown = by_unique(raw["band"], lambda label: bands.get(normalise_header(label)))
    unknown = pd.isna(breakdown)
    reject.add(rows[unknown], header["band"], raw["band"][unknown],
               f"expected an age band among {sorted(bands)} (written without accents, spaces or dashes)")
    value, secret = _counts(reject, raw["value"], rows, header["value"])
    _reject_undefined(reject, value, [code.to_numpy(), period], rows, header["value"], raw["value"])
    common.reject_duplicates(reject, pd.DataFrame({"profession": profession_id, "period": period,
                                                   "band": breakdown}), rows, header["fap"])
    keep = ~reject.rejected(rows)
    parts = []
    for band in sorted(set(breakdown[keep])):
        m = keep & (breakdown == band)
        parts.append(common.observation_frame(indicator_id, profession_id[m], np.full(m.sum(), "FR"), period[m],
                                              value[m], np.where(secret[m], "secret", "ok"), breakdown=band))
    return _parsed(source_id, parts, reject, len(rows))


def _region(code: str) -> str:
    """code_reg → territory_id: the DROM 101-106 are régions 01-06, the others keep their two digits."""
    text = str(code).strip()
    if re.fullmatch(r"10[1-6]", text):
        return f"REG-0{text[-1]}"
    return f"REG-{text.zfill(2)}" if re.fullmatch(r"\d{1,2}", text) else ""


def _regions(path: Path, ref: Reference) -> Parsed:
    """`input_carte1.csv`: the région's share of the FAP's employment, with its parts, under 2019."""
    raw, header, rows, reject, code, profession_id = common.read_fap_table(
        path, {"region": r"codereg", "fap": r"fap3", "employment": r"empfapreg2"}, ",", ref)
    territory_id = by_unique(raw["region"], _region)
    unknown = ~pd.Series(territory_id).isin(
        {t for t in ref.territory_ids if t.startswith("REG-")}).to_numpy()
    reject.add(rows[unknown], header["region"], raw["region"][unknown],
               "région code not in the INSEE reference (DROM written 101 to 106)")
    value, secret = common.numbers(reject, raw["employment"], rows, header["employment"])
    empty = np.isnan(value) & ~secret
    reject.add(rows[empty], header["employment"], raw["employment"][empty], EMPTY)
    negative = value < 0
    reject.add(rows[negative], header["employment"], raw["employment"][negative],
               "a count of persons cannot be negative")
    reject.add(rows[secret], header["employment"], raw["employment"][secret], "secret: the FAP's shares need "
               "every région")
    common.reject_duplicates(reject, pd.DataFrame({"fap": code, "region": territory_id}), rows, header["fap"])
    # A share needs its FAP's whole employment: one région missing and every share of the FAP is wrong.
    failed = set(code[reject.rejected(rows)])
    incomplete = code.isin(failed).to_numpy()
    reject.add(rows[incomplete], header["fap"], code[incomplete],
               "another row of this FAP was rejected: its régions' shares would not sum to 100")
    keep = ~reject.rejected(rows)
    total = pd.Series(value[keep]).groupby(code[keep].to_numpy()).transform("sum").to_numpy()
    zero_total = np.zeros(len(rows), dtype=bool)
    zero_total[np.flatnonzero(keep)[total == 0]] = True
    reject.add(rows[zero_total], header["employment"], raw["employment"][zero_total],
               "the FAP's employment is 0 in every région: no share")
    keep &= ~zero_total
    denominator = np.full(len(rows), np.nan)
    denominator[keep] = pd.Series(value[keep]).groupby(code[keep].to_numpy()).transform("sum").to_numpy()
    share = 100.0 * value / denominator
    part = common.observation_frame("employment_region_share", profession_id[keep], territory_id[keep],
                                    np.full(keep.sum(), PORTRAIT_EDITION), share[keep], "ok",
                                    numerator=value[keep], denominator=denominator[keep])
    return _parsed("dares_portrait_regions", [part], reject, len(rows))


def _exit_types(path: Path, ref: Reference) -> Parsed:
    """`types_sorties.csv`: shares of exits by type, as published, under 2014."""
    raw, header, rows, reject, code, profession_id = common.read_fap_table(
        path, {"fap": r"fap3", "type": r"typesortie", "value": r"pourcentage"}, ";", ref)
    breakdown = common.coded(reject, raw, header, rows, "type", EXIT_TYPES,
                             "expected an exit type: Fins de CDD, Démissions, Licenciements, Ruptures "
                             "conventionnelles, Fins de période d'essai, Départs en retraite or Autres sorties")
    value, secret = common.numbers(reject, raw["value"], rows, header["value"], allow_empty=False)
    outside = (value < 0) | (value > 100)
    reject.add(rows[outside], header["value"], raw["value"][outside], "a share must lie between 0 and 100")
    common.reject_duplicates(reject, pd.DataFrame({"fap": code, "type": breakdown}), rows, header["fap"])
    keep = ~reject.rejected(rows)
    parts = []
    for kind in sorted(set(breakdown[keep])):
        m = keep & (breakdown == kind)
        parts.append(common.observation_frame("exit_type_share", profession_id[m], np.full(m.sum(), "FR"),
                                              np.full(m.sum(), MMO_LAST_YEAR), value[m],
                                              np.where(secret[m], "secret", "ok"), breakdown=kind))
    return _parsed("dares_portrait_exit_types", parts, reject, len(rows))
