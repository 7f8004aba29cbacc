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


def _pad(values: pd.Series, width: int) -> pd.Series:
    """Zero-pad codes that a re-saved copy turned into numbers (1 → '01'; 101.0 → '0101')."""
    def one(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = str(v).strip()
        return text.zfill(width) if text.isdigit() else text
    return pd.Series(by_unique(values, one), index=values.index)


def _text(values: pd.Series) -> pd.Series:
    return pd.Series(by_unique(values, lambda v: "" if v is None else str(v).strip()), index=values.index)


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
    body = pd.DataFrame(rows[1:], dtype=object)
    raw = pd.DataFrame({role: body.iloc[:, i].to_numpy() for role, i in cols.items()})
    row_numbers = body.index.to_numpy() + 2  # 1-based, after the header row
    reject = Rejections()
    nomenclature = "fap2021" if vintage >= FIRST_FAP2021_VINTAGE else "fap2009"

    year, _, bad_year = parse_numbers(raw["annee"])
    wrong_year = bad_year | np.isnan(year) | (year != vintage)
    reject.add(row_numbers[wrong_year], header[cols["annee"]], raw["annee"][wrong_year],
               f"expected the survey year {vintage} (from the sheet name)")

    code = _text(raw["code"])
    label = _text(raw["label"])
    no_code = (code == "").to_numpy()
    reject.add(row_numbers[no_code], header[cols["code"]], code[no_code], "empty métier code")

    dept = _pad(raw["dept"], 2)
    reg = _pad(raw["reg"], 2)
    bassin = _pad(raw["bassin"], 4)
    unknown_dept = ~dept.isin(ref.departement_region.keys()).to_numpy()
    reject.add(row_numbers[unknown_dept], header[cols["dept"]], dept[unknown_dept],
               "département not in the INSEE reference")
    expected_reg = dept.map(ref.departement_region)
    wrong_reg = (reg != expected_reg).to_numpy() & ~unknown_dept
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
        reject.add(row_numbers[bad | negative | empty], header[cols[column]],
                   raw[column][bad | negative | empty], "expected a non-negative count or '*' (secret)")
        numbers[column] = (value, secret)
    met, xmet, smet = (numbers[c][0] for c in ("met", "xmet", "smet"))
    over = (~np.isnan(met) & ((xmet > met) | (smet > met)))
    reject.add(row_numbers[over], header[cols["xmet"]], raw["xmet"][over],
               "projects judged difficult or seasonal exceed all projects (met)")

    key = pd.DataFrame({"code": code, "bassin": bassin, "dept": dept})
    first_row = pd.Series(row_numbers).groupby([key[c].to_numpy() for c in key]).transform("min").to_numpy()
    duplicate = first_row != row_numbers
    reject.add(row_numbers[duplicate], header[cols["code"]], code[duplicate],
               [f"duplicate of row {r} (same métier, bassin and département)" for r in first_row[duplicate]])

    keep = ~reject.rejected(row_numbers)
    social = ref.codes(nomenclature)
    code_k, label_k = code[keep].to_numpy(), label[keep].to_numpy()
    profession_id = np.array([social.get(c, f"{nomenclature}_{c}") for c in code_k], dtype=object)
    territory_id = ("BE-" + bassin[keep] + "-" + dept[keep]).to_numpy()
    period = np.full(keep.sum(), vintage, dtype=np.int64)

    parts = []
    for column, indicator_id in COUNTS.items():
        value, secret = numbers[column]
        parts.append(observation_frame(indicator_id, profession_id, territory_id, period, value[keep],
                                       np.where(secret[keep], "secret", "ok")))
    with np.errstate(divide="ignore", invalid="ignore"):
        for indicator_id, part in (("recruitment_difficulty_share", xmet),):
            num, den = part[keep], met[keep]
            known = ~np.isnan(num) & ~np.isnan(den)
            share = np.where(known & (den > 0), 100.0 * num / den, np.nan)
            status = np.where(~known, "secret", np.where(den > 0, "ok", "undefined"))
            parts.append(observation_frame(indicator_id, profession_id, territory_id, period, share, status,
                                           is_derived=1, numerator=np.where(known, num, np.nan),
                                           denominator=np.where(known, den, np.nan)))

    file_defined = pd.DataFrame({"code": code_k, "label": label_k, "profession_id": profession_id})
    file_defined = file_defined.drop_duplicates("code")
    others = file_defined[~file_defined["code"].isin(social.keys())]
    professions = pd.DataFrame({
        "profession_id": others["profession_id"], "label": others["label"], "level": "profession",
        "parent_id": "autres_metiers", "is_social_work": False,
        "note": f"Métier BMO ({nomenclature.upper()}) défini par le fichier",
    })
    crosswalk = pd.DataFrame({
        "nomenclature": nomenclature, "source_code": others["code"], "profession_id": others["profession_id"],
        "source_label": others["label"], "break_year": None, "break_note": None,
    })
    bassins = pd.DataFrame({"territory_id": territory_id, "code": bassin[keep].to_numpy(),
                            "name": _text(raw["bassin_name"])[keep].str.title().to_numpy(),
                            "dept": dept[keep].to_numpy()}).drop_duplicates("territory_id")
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

