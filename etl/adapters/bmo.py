"""France Travail BMO workbook (« Besoins en main-d'œuvre »), any vintage (2017 … 2023, and unseen ones).

The data sheet is the one whose header row has the BMO columns (`annee`, a métier code, `met`, `xmet`,
a `BE<yy>` bassin…), whatever the sheet is called (`ResMetBe17`, `BMO_2019_open_data`…). Columns are found by
meaning, never by position: their order and names change between vintages (`nom_metier BMO` | `nommetier`,
`Famille_metier` | `Famille_met`, `NOM_REG` | `NOM_REG18`, `BE17` … `BE23`). The vintage is the `annee` column.

A row is a métier × bassin part (one row per département of a straddling bassin). `*` is statistical secrecy:
the figure is stored NULL with status `secret`, never 0. A vintage published as unrounded decimal estimates
(2017, 2018) keeps its values as published, with status `estimated`. Codes come as numbers or zero-padded text
(`8438.0`, `1.0`, `'0101'`) and are padded back. A row is placed by its département: the région column is
only a checked hint (INSEE régions since 2016, or the régions before 2016); when it disagrees the row is kept
under its département and the correction is recorded as a note (`frames.NOTE`), not a rejection. A département
code the INSEE reference lacks (977, 978, « 99 » in 2019) counts in the nation only (« non ventilé »).
A bassin is its code, département and name: two bassins the file gives under one code (2019 7548 « SAINT
YRIEIX » / « ST YRIEIX », 2021 0102 Grande-Terre / Îles du Nord) are kept apart. Only an exact repeat (same
métier, bassin, département and figures) is dropped. Social-work métier codes go through the crosswalk; every
other métier and every bassin is defined by the file itself.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters.common import finite_only, observation_frame
from etl.errors import LoadError
from etl.frames import LABEL_COLUMNS, NOTE, OBS_COLUMNS, REJECTION_COLUMNS, Parsed, Rejections
from etl.read.columns import by_unique, find_columns, normalise_header
from etl.read.numbers import NON_FINITE, parse_numbers
from etl.read.text import read_csv
from etl.read.xlsx import open_workbook, sheet_headers, sheet_rows
from etl.reference import Reference
from observatory import sources
from observatory.config import REFERENCE_DIR

NAME = "bmo"
# Regexes over `etl.read.columns.normalise_header` (no case, accents, spaces, underscores).
COLUMNS = {
    "annee": r"annee",
    "code": r"code(metier|met)(bmo)?",
    "label": r"(nom|libelle|lbl|intitule)(du)?(metier|met)(bmo)?",
    "bassin": r"(code)?(be|bassin)(\d{2}|\d{4})?",
    "bassin_name": r"(nom|libelle|lbl)(be|bassin)(\d{2}|\d{4})?",
    "dept": r"(code)?(dept?|departement)",
    "reg": r"(code)?(reg|region)(\d{2}|\d{4})?",
    "met": r"met",
    "xmet": r"xmet",
    "smet": r"smet",
}
OPTIONAL = {
    "family": r"fam(ille)?(de)?(metier|met)(bmo)?",
    "family_label": r"(libelle|lbl|nom)(de)?(la)?fam(ille)?(de)?(metier|met)(bmo)?",
}
# A BMO data sheet is the one whose header has most of the BMO columns, `met` among them (a sheet with only
# some of them is still the data sheet, so that the load names the columns it lacks).
MIN_COLUMNS = len(COLUMNS) // 2
# Shares of met stored with their parts. The seasonal share (smet / met) is not stored: it is computed at
# query time; screens show the seasonal projects as counts.
SHARES = {"recruitment_difficulty_share": "xmet"}
FIRST_FAP2021_VINTAGE = 2025
UNSPECIFIED_BASSIN = "0000"  # rows published without a bassin code, kept in their département
DEPT_CODE = r"\d{2,3}|2[AB]"  # the shape of a département code; one the INSEE reference lacks counts in the nation
NATION = "FR"
COUNTS = {"met": "recruitment_projects", "xmet": "recruitment_projects_difficult",
          "smet": "recruitment_projects_seasonal"}
YEARS = (1990, 2100)  # a survey year outside this range is not a year
REGIONS_BEFORE_2016 = REFERENCE_DIR / "regions_before_2016.csv"


def bmo_columns(header: list) -> int:
    """How many BMO columns a header row has (0 when it has no `met`: not a BMO table)."""
    normalised = [normalise_header(h) for h in header if h not in (None, "")]
    found = {role for role, pattern in COLUMNS.items() if any(re.fullmatch(pattern, h) for h in normalised)}
    return len(found) if "met" in found else 0


def is_bmo_header(header: list) -> bool:
    return bmo_columns(header) >= MIN_COLUMNS


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        return any(is_bmo_header(header) for header in sheet_headers(path).values())
    except Exception:  # a damaged or foreign file is simply not a BMO workbook
        return False


def _data_sheet(path: Path, workbook) -> str:
    try:
        headers = sheet_headers(path)
    except Exception:  # an unusual container: read each sheet through calamine instead
        headers = {}
        for name in workbook.sheet_names:
            rows = sheet_rows(workbook, name, path.name)
            headers[name] = next((r for r in rows if any(v not in (None, "") for v in r)), [])
    scores = {name: bmo_columns(header) for name, header in headers.items()}
    best = max(scores.values(), default=0)
    found = [name for name, score in scores.items() if score == best]
    if best < MIN_COLUMNS or len(found) != 1:
        raise LoadError("no_bmo_sheet" if best < MIN_COLUMNS else "several_bmo_sheets", path.name, found=found,
                        sheets=workbook.sheet_names)
    return found[0]


# --- Codes ---------------------------------------------------------------------------------------------------

def _pad(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-pad codes written as numbers (1 → '01'; 101.0 → '0101'; '8438.0' → '8438'); '2A', '971' kept."""
    def one(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = re.sub(r"^(\d+)\.0*$", r"\1", str(v).strip()).upper()
        return text.zfill(width) if text.isdigit() else text
    return by_unique(values, one)


def _text(values: np.ndarray) -> np.ndarray:
    return by_unique(values, lambda v: "" if v is None else str(v).strip())


@lru_cache(maxsize=1)
def regions_before_2016() -> dict[str, str]:
    """Département → its région before the 2016 merger (INSEE COG 2015)."""
    frame, _ = read_csv(REGIONS_BEFORE_2016)
    return dict(zip(frame["dep"], frame["reg"]))


def _first_occurrence(*columns: np.ndarray) -> np.ndarray:
    """Position of the first row with the same values in `columns`, for every row (NaN equals NaN)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        combined = combined * (len(uniques) + 1) + codes
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first[inverse]


def _bassin_ids(bassin: np.ndarray, dept: np.ndarray, names: np.ndarray) -> np.ndarray:
    """`BE-<bassin>-<département>` for every row; a bassin code the file gives under several names in one
    département is several bassins: the name carrying most rows keeps the plain id, each other name gets its
    letters as a suffix (`BE-0102-971-BASSINILESDUNORD`)."""
    frame = pd.DataFrame({"b": bassin, "d": dept, "n": names})
    counts = frame.groupby(["b", "d", "n"], sort=False).size().reset_index(name="rows")
    counts["seen"] = np.arange(len(counts))  # order of first appearance in the file
    counts = counts.sort_values(["rows", "seen"], ascending=[False, True], kind="stable")
    ids: dict[tuple, str] = {}
    taken: set[str] = set()
    for b, d, n in zip(counts["b"], counts["d"], counts["n"]):
        plain = f"BE-{b}-{d}"
        if plain not in taken:
            ids[(b, d, n)] = plain
        else:
            ascii_name = unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode()
            suffix = re.sub(r"[^A-Z0-9]", "", ascii_name.upper())[:16] or "BIS"
            candidate, k = f"{plain}-{suffix}", 2
            while candidate in taken:
                candidate, k = f"{plain}-{suffix}{k}", k + 1
            ids[(b, d, n)] = candidate
        taken.add(ids[(b, d, n)])
    return np.array([ids[key] for key in zip(bassin, dept, names)], dtype=object)


def _vintage(raw_year: np.ndarray, path: Path, sheet: str) -> tuple[np.ndarray, int]:
    """The survey year of every row and the file's vintage: the year most rows give."""
    year = parse_numbers(raw_year).value
    plausible = ~np.isnan(year) & (year == np.round(year)) & (year >= YEARS[0]) & (year <= YEARS[1])
    if not plausible.any():
        raise LoadError("no_survey_year", path.name, sheet=sheet, first=YEARS[0], last=YEARS[1])
    years, counts = np.unique(year[plausible], return_counts=True)
    return year, int(years[np.argmax(counts)])


# --- Parsing -------------------------------------------------------------------------------------------------

def parse(path: Path, ref: Reference) -> Parsed:
    workbook = open_workbook(path)
    sheet = _data_sheet(path, workbook)
    rows = sheet_rows(workbook, sheet, path.name)
    top = next((i for i, r in enumerate(rows) if any(v not in (None, "") for v in r)), len(rows))
    while len(rows) > top + 1 and all(v in ("", None) for v in rows[-1]):
        rows.pop()  # formatted but empty rows after the table
    if len(rows) < top + 2:
        raise LoadError("no_sheet_rows", path.name, sheet=sheet)
    header = rows[top]
    cols = find_columns(header, COLUMNS, path.name, sheet=sheet, optional=OPTIONAL)
    body = rows[top + 1:]
    width = len(header)
    if any(len(r) != width for r in body):  # calamine gives a rectangle; other writers may not
        body = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    grid = np.empty((len(body), width), dtype=object)
    grid[:] = body
    raw = {role: grid[:, i] for role, i in cols.items()}
    row_numbers = np.arange(len(body)) + top + 2  # 1-based file rows, after the header row
    reject = Rejections()

    def name(role: str) -> str:
        return str(header[cols[role]])

    def shown(role: str, mask: np.ndarray) -> np.ndarray:
        """Rejected cells as the spreadsheet shows them (2015, not 2015.0)."""
        return by_unique(raw[role][mask], lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else v)

    year, vintage = _vintage(raw["annee"], path, sheet)
    nomenclature = "fap2021" if vintage >= FIRST_FAP2021_VINTAGE else "fap2009"
    wrong_year = ~(year == vintage)
    reject.add(row_numbers[wrong_year], name("annee"), shown("annee", wrong_year),
               f"survey year differs from the file's year {vintage} (the annee of the other rows)")

    code, label = _text(raw["code"]), _text(raw["label"])
    no_code = code == ""
    reject.add(row_numbers[no_code], name("code"), code[no_code], "empty métier code")

    dept, reg, bassin = _pad(raw["dept"], 2), _pad(raw["reg"], 2), _pad(raw["bassin"], 4)
    region_now = by_unique(dept, ref.departement_region.get)
    region_before = by_unique(dept, regions_before_2016().get)
    bad_dept = ~by_unique(dept, lambda d: re.fullmatch(DEPT_CODE, d) is not None).astype(bool)
    reject.add(row_numbers[bad_dept], name("dept"), shown("dept", bad_dept),
               "expected a département code (01 … 95, 2A, 2B, 971 …)")
    # 977 (Saint-Barthélemy), 978 (Saint-Martin), « 99 »: no INSEE département, so in the nation only.
    outside = pd.isna(region_now)
    # The région is a hint: a row that disagrees stays under its département, with a note (below).
    wrong_reg = ~outside & (reg != region_now) & (reg != region_before)
    # A row the file gives without a bassin (BMO 2021: all of Corse, part of the Alpes-Maritimes) still counts in
    # its département, région and the nation: it goes to the département's « bassin non précisé » (code 0000);
    # without a département of the reference either (2019: 977, 978, 99), to the nation's « non ventilé ».
    no_bassin = bassin == ""
    bassin = np.where(no_bassin, UNSPECIFIED_BASSIN, bassin).astype(object)
    bad_bassin = ~by_unique(bassin, lambda b: re.fullmatch(r"\d{4}", b) is not None).astype(bool)
    reject.add(row_numbers[bad_bassin], name("bassin"), shown("bassin", bad_bassin),
               "expected a bassin d'emploi code (digits)")

    numbers = {}
    for column in COUNTS:
        value, secret, bad, non_finite = parse_numbers(raw[column])
        with np.errstate(invalid="ignore"):
            negative = value < 0
        empty = np.isnan(value) & ~secret & ~bad & ~non_finite
        reject.add(row_numbers[non_finite], name(column), shown(column, non_finite), NON_FINITE)
        wrong = bad | negative | empty
        reject.add(row_numbers[wrong], name(column), shown(column, wrong),
                   "expected a non-negative count or '*' (secret)")
        numbers[column] = (value, secret)
    met, xmet, smet = (numbers[c][0] for c in ("met", "xmet", "smet"))
    with np.errstate(invalid="ignore"):
        slack = 1e-6 * np.maximum(met, 1.0)  # unrounded estimates: tolerate float noise, no more
        over = ~np.isnan(met) & ((xmet > met + slack) | (smet > met + slack))
    reject.add(row_numbers[over], name("xmet"), shown("xmet", over),
               "projects judged difficult or seasonal exceed all projects (met)")

    # A row is a métier in a bassin (code, name) of a département. Only an exact repeat is dropped (BMO 2019
    # and 2020 give each Mayotte row twice); the same key with other figures cannot be told apart: rejected.
    bassin_name = _text(raw["bassin_name"])
    for figures, why in (((met, xmet, smet), "exact repeat of row {} (same métier, bassin, département and figures)"),
                         ((), "same métier, bassin and département as row {} with other figures (cannot tell "
                              "which is right)")):
        kept_so_far = np.flatnonzero(~reject.rejected(row_numbers))
        first = _first_occurrence(code[kept_so_far], bassin[kept_so_far], bassin_name[kept_so_far],
                                  dept[kept_so_far], *(f[kept_so_far] for f in figures))
        repeat = first != np.arange(len(first))
        candidates = row_numbers[kept_so_far]
        reject.add(candidates[repeat], name("code"), code[kept_so_far][repeat],
                   [why.format(r) for r in candidates[first[repeat]]])

    keep = ~reject.rejected(row_numbers)
    corrected = wrong_reg & keep
    notes = pd.DataFrame({
        "row_number": row_numbers[corrected].astype(int), "column_name": name("reg"),
        "value": ["" if v is None else str(v) for v in shown("reg", corrected)],
        "reason": [f"{NOTE}row kept under département {d} (région {n}); the file gives région {r or '(vide)'}"
                   for r, d, n in zip(reg[corrected], dept[corrected], region_now[corrected])],
    }, columns=REJECTION_COLUMNS)
    if not keep.any():
        raise LoadError("no_row_loadable", path.name, sheet=sheet,
                        reasons=reject.frame()["reason"].value_counts().head(3).to_dict())
    # A vintage published as unrounded estimates (2017, 2018): every figure of the file is an estimate.
    with np.errstate(invalid="ignore"):
        estimated = any(bool(np.any(np.isfinite(v[keep]) & (v[keep] != np.floor(v[keep])))) for v in (met, xmet, smet))
    published = "estimated" if estimated else "ok"

    social = ref.codes(nomenclature)
    code_k, label_k = code[keep], label[keep]
    profession_id = pd.Categorical(by_unique(code_k, lambda c: social.get(c, f"{nomenclature}_{c}")))
    territory_id = pd.Categorical(_bassin_ids(bassin[keep], dept[keep], bassin_name[keep]))
    period = np.full(keep.sum(), vintage, dtype=np.int64)

    parts = []
    for column, indicator_id in COUNTS.items():
        value, secret = numbers[column]
        parts.append(observation_frame(indicator_id, profession_id, territory_id, period, value[keep],
                                       np.where(secret[keep], "secret", published)))
    den = met[keep]
    for indicator_id, part in SHARES.items():
        # As the publisher computes it: a cell whose xmet is secret but whose met is known counts in the
        # denominator only (numerator NULL, denominator met); a cell whose met is secret counts nowhere.
        num = numbers[part][0][keep]
        known = ~np.isnan(num) & ~np.isnan(den)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(known & (den > 0), 100.0 * num / den, np.nan)
        status = np.where(~known, "secret", np.where(den > 0, published, "undefined"))
        parts.append(observation_frame(indicator_id, profession_id, territory_id, period, share, status,
                                       is_derived=1, numerator=np.where(known, num, np.nan), denominator=den))

    # One row per métier code and per bassin part: the first row that carries it.
    _, first_code = np.unique(code_k, return_index=True)
    family = _text(raw["family"])[keep][first_code] if "family" in cols else np.full(len(first_code), "")
    family_label = (_text(raw["family_label"])[keep][first_code] if "family_label" in cols
                    else np.full(len(first_code), ""))
    metiers = pd.DataFrame({"code": code_k[first_code], "label": label_k[first_code],
                            "profession_id": np.asarray(profession_id)[first_code],
                            "scope": [f"{f} {fl}".strip() or None for f, fl in zip(family, family_label)]})
    others = metiers[~metiers["code"].isin(list(social))]
    professions = pd.DataFrame({
        "profession_id": others["profession_id"], "label": others["label"], "level": "profession",
        "parent_id": "autres_metiers", "is_social_work": False,
        "note": f"Métier BMO ({nomenclature.upper()}) défini par le fichier",
    })
    crosswalk = pd.DataFrame({
        "nomenclature": nomenclature, "source_code": others["code"], "profession_id": others["profession_id"],
        "source_label": others["label"], "break_year": None, "break_note": None,
    })
    _, first_part = np.unique(territory_id.codes, return_index=True)
    parts_dept = dept[keep][first_part]
    parts_outside = outside[keep][first_part].astype(bool)
    bassins = pd.DataFrame({"territory_id": np.asarray(territory_id)[first_part], "code": bassin[keep][first_part],
                            "name": by_unique(bassin_name[keep][first_part], str.title),
                            "dept": parts_dept}, dtype=object)
    unnamed = bassins["name"].to_numpy(object) == ""
    bassins["name"] = np.where(unnamed & parts_outside, "Non ventilé (département « " + bassins["dept"] +
                               " » du fichier, hors référentiel INSEE)",
                               np.where(unnamed & (bassins["code"] == UNSPECIFIED_BASSIN),
                                        "Bassin non précisé par le fichier", bassins["name"]))
    territories = pd.DataFrame({
        "territory_id": bassins["territory_id"], "level": "bassin", "code": bassins["code"],
        "name": bassins["name"], "parent_id": np.where(parts_outside, NATION, "DEP-" + bassins["dept"]),
    })
    labels = pd.concat([
        pd.DataFrame({"kind": "profession", "subject_id": metiers["profession_id"], "code": metiers["code"],
                      "period": vintage, "label": metiers["label"], "scope": metiers["scope"]}),
        pd.DataFrame({"kind": "territory", "subject_id": bassins["territory_id"], "code": bassins["code"],
                      "period": vintage, "label": bassins["name"], "scope": bassins["dept"]}),
    ], ignore_index=True)[LABEL_COLUMNS]
    return Parsed(
        adapter=NAME, source=sources.bmo(vintage),
        observations=finite_only(pd.concat(parts, ignore_index=True)[OBS_COLUMNS]),
        rejections=reject.frame(), notes=notes, rows_read=len(row_numbers),
        territories=territories, professions=professions, crosswalk=crosswalk, labels=labels,
    )
