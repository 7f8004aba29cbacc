"""France Travail BMO workbook (`Base_open_data_BMO_<year>.xlsx`), any vintage.

Columns are found by name (their order and the `BE<yy>` bassin columns change every year). A row is a
métier × bassin part (one row per département of a straddling bassin). `*` is statistical secrecy: the
figure is stored NULL with status `secret`, never 0. Social-work métier codes go through the crosswalk;
every other métier and every bassin is defined by the file itself.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters.common import observation_frame
from etl.errors import LoadError
from etl.frames import OBS_COLUMNS, Parsed, Rejections
from etl.readers import by_unique, find_columns, open_workbook, parse_numbers, sheet_rows
from etl.reference import Reference
from observatory import sources

NAME = "bmo"
SHEET = re.compile(r"^BMO_(\d{4})_open_data$", re.IGNORECASE)
COLUMNS = {
    "annee": r"annee",
    "code": r"codemetierbmo",
    "label": r"nommetierbmo",
    "bassin": r"be\d{2}",
    "bassin_name": r"nombe\d{2}",
    "dept": r"dept",
    "reg": r"reg",
    "met": r"met",
    "xmet": r"xmet",
    "smet": r"smet",
}
# Shares of met stored with their parts. The seasonal share (smet / met) is not stored: its 100,000 rows
# would cost the BMO load about 0.2 s, past its budget of half a plain openpyxl read; screens show the
# seasonal projects as counts.
SHARES = {"recruitment_difficulty_share": "xmet"}
FIRST_FAP2021_VINTAGE = 2025
COUNTS = {"met": "recruitment_projects", "xmet": "recruitment_projects_difficult",
          "smet": "recruitment_projects_seasonal"}


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        return any(SHEET.match(s) for s in open_workbook(path).sheet_names)
    except LoadError:
        return False


def _pad(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-pad codes that a re-saved copy turned into numbers (1 → '01'; 101.0 → '0101')."""
    def one(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = str(v).strip()
        return text.zfill(width) if text.isdigit() else text
    return by_unique(values, one)


def _text(values: np.ndarray) -> np.ndarray:
    return by_unique(values, lambda v: "" if v is None else str(v).strip())


def _first_occurrence(*columns: np.ndarray) -> np.ndarray:
    """Position of the first row with the same values in `columns`, for every row."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column)
        combined = combined * (len(uniques) + 1) + codes
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first[inverse]


def parse(path: Path, ref: Reference) -> Parsed:
    workbook = open_workbook(path)
    data_sheets = [s for s in workbook.sheet_names if SHEET.match(s)]
    if len(data_sheets) != 1:
        raise LoadError(path.name, "no data sheet named BMO_<year>_open_data" if not data_sheets
                        else f"several data sheets {data_sheets}",
                        expected=f"one sheet BMO_<year>_open_data; sheets found: {workbook.sheet_names}")
    sheet = data_sheets[0]
    vintage = int(SHEET.match(sheet).group(1))
    rows = sheet_rows(workbook, sheet, path.name)
    if len(rows) < 2:
        raise LoadError(path.name, "the data sheet has no data rows", sheet=sheet)
    header = rows[0]
    cols = find_columns(header, COLUMNS, path.name, sheet=sheet)
    while len(rows) > 1 and all(v in ("", None) for v in rows[-1]):
        rows.pop()  # formatted but empty rows after the table
    body = rows[1:]
    width = len(header)
    if any(len(r) != width for r in body):  # calamine gives a rectangle; other writers may not
        body = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    grid = np.empty((len(body), width), dtype=object)
    grid[:] = body
    raw = {role: grid[:, i] for role, i in cols.items()}
    row_numbers = np.arange(len(body)) + 2  # 1-based, after the header row
    reject = Rejections()
    nomenclature = "fap2021" if vintage >= FIRST_FAP2021_VINTAGE else "fap2009"

    year, _, bad_year = parse_numbers(raw["annee"])
    wrong_year = bad_year | np.isnan(year) | (year != vintage)
    reject.add(row_numbers[wrong_year], header[cols["annee"]], raw["annee"][wrong_year],
               f"expected the survey year {vintage} (from the sheet name)")

    code, label = _text(raw["code"]), _text(raw["label"])
    no_code = code == ""
    reject.add(row_numbers[no_code], header[cols["code"]], code[no_code], "empty métier code")

    dept, reg, bassin = _pad(raw["dept"], 2), _pad(raw["reg"], 2), _pad(raw["bassin"], 4)
    expected_reg = by_unique(dept, ref.departement_region.get)
    unknown_dept = pd.isna(expected_reg)
    reject.add(row_numbers[unknown_dept], header[cols["dept"]], dept[unknown_dept],
               "département not in the INSEE reference")
    wrong_reg = (reg != expected_reg) & ~unknown_dept
    reject.add(row_numbers[wrong_reg], header[cols["reg"]], reg[wrong_reg],
               [f"région does not match département {d} (reference: région {r})"
                for d, r in zip(dept[wrong_reg], expected_reg[wrong_reg])])
    bad_bassin = ~by_unique(bassin, lambda b: re.fullmatch(r"\d{4}", b) is not None).astype(bool)
    reject.add(row_numbers[bad_bassin], header[cols["bassin"]], raw["bassin"][bad_bassin],
               "expected a bassin d'emploi code (digits)")

    numbers = {}
    for column in COUNTS:
        value, secret, bad = parse_numbers(raw[column])
        negative = ~np.isnan(value) & (value < 0)
        empty = np.isnan(value) & ~secret & ~bad
        wrong = bad | negative | empty
        reject.add(row_numbers[wrong], header[cols[column]], raw[column][wrong],
                   "expected a non-negative count or '*' (secret)")
        numbers[column] = (value, secret)
    met, xmet, smet = (numbers[c][0] for c in ("met", "xmet", "smet"))
    over = ~np.isnan(met) & ((xmet > met) | (smet > met))
    reject.add(row_numbers[over], header[cols["xmet"]], raw["xmet"][over],
               "projects judged difficult or seasonal exceed all projects (met)")

    first = _first_occurrence(code, bassin, dept)
    duplicate = first != np.arange(len(body))
    reject.add(row_numbers[duplicate], header[cols["code"]], code[duplicate],
               [f"duplicate of row {r} (same métier, bassin and département)" for r in row_numbers[first[duplicate]]])

    keep = ~reject.rejected(row_numbers)
    social = ref.codes(nomenclature)
    code_k, label_k = code[keep], label[keep]
    profession_id = pd.Categorical(by_unique(code_k, lambda c: social.get(c, f"{nomenclature}_{c}")))
    territory_id = pd.Categorical(["BE-" + b + "-" + d for b, d in zip(bassin[keep], dept[keep])])
    period = np.full(keep.sum(), vintage, dtype=np.int64)

    parts = []
    for column, indicator_id in COUNTS.items():
        value, secret = numbers[column]
        parts.append(observation_frame(indicator_id, profession_id, territory_id, period, value[keep],
                                       np.where(secret[keep], "secret", "ok")))
    for indicator_id, part in SHARES.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            num, den = numbers[part][0][keep], met[keep]
            known = ~np.isnan(num) & ~np.isnan(den)
            share = np.where(known & (den > 0), 100.0 * num / den, np.nan)
        status = np.where(~known, "secret", np.where(den > 0, "ok", "undefined"))
        parts.append(observation_frame(indicator_id, profession_id, territory_id, period, share, status,
                                       is_derived=1, numerator=np.where(known, num, np.nan),
                                       denominator=np.where(known, den, np.nan)))

    file_defined = pd.DataFrame({"code": code_k, "label": label_k, "profession_id": np.asarray(profession_id)},
                                dtype=object).drop_duplicates("code")
    others = file_defined[~file_defined["code"].isin(list(social))]
    professions = pd.DataFrame({
        "profession_id": others["profession_id"], "label": others["label"], "level": "profession",
        "parent_id": "autres_metiers", "is_social_work": False,
        "note": f"Métier BMO ({nomenclature.upper()}) défini par le fichier",
    })
    crosswalk = pd.DataFrame({
        "nomenclature": nomenclature, "source_code": others["code"], "profession_id": others["profession_id"],
        "source_label": others["label"], "break_year": None, "break_note": None,
    })
    bassins = pd.DataFrame({"territory_id": np.asarray(territory_id), "code": bassin[keep],
                            "name": by_unique(_text(raw["bassin_name"])[keep], str.title), "dept": dept[keep]},
                           dtype=object).drop_duplicates("territory_id")
    territories = pd.DataFrame({
        "territory_id": bassins["territory_id"], "level": "bassin", "code": bassins["code"],
        "name": bassins["name"], "parent_id": "DEP-" + bassins["dept"],
    })
    return Parsed(
        adapter=NAME, source=sources.bmo(vintage),
        observations=pd.concat(parts, ignore_index=True)[OBS_COLUMNS],
        rejections=reject.frame(), rows_read=len(row_numbers),
        territories=territories, professions=professions, crosswalk=crosswalk,
    )
