"""ATIH/ANAP TDBMS establishment extracts (DIAMANT `ANN_MS_TDP_ET_*.CSV`) and the observatory's XLSX template.

Extracts circulate as `;` CSV, latin-1 (older) or UTF-8 (newer), decimal commas in some vintages, FINESS
numbers that lost their leading zero, long French column labels. The inputs become the five TDBMS rates
by the exact TDBMS formulas (domain reference §1.2), each with its numerator and denominator so that
départements, régions, ESMS categories and the nation aggregate as ratios of sums:

- entry_rate    = recruitments / persons at 31/12 of N-1 × 100
- exit_rate     = departures / persons at 31/12 of N-1 × 100
- turnover_rate = (recruitments + departures) / 2 / persons at 31/12 of N-1 × 100   (permanent staff)
- absenteeism_rate = absence days (all reasons given) / (ETP réels × 365) × 100
- vacancy_rate  = max(ETP budgétés − ETP réalisés, 0) / ETP budgétés × 100

A rate whose denominator is zero or whose inputs are missing is `undefined` (NULL, no division).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters.common import concat, finite_only, numbers, reject_duplicates, years
from etl.errors import LoadError, reason
from etl.frames import Parsed, Rejections
from etl.read.columns import by_unique, find_columns, normalise_header
from etl.read.text import detect_encoding, read_csv, read_text
from etl.read.xlsx import open_workbook, sheet_rows
from etl.reference import Reference
from observatory import sources

NAME = "tdbms"
COLUMNS = {  # who, where, when; then the counts the rates are made of (staff, movements, FTE)
    "year": r"annee|anneedereference|exercice", "finess": r"(n|no|numero)?finess(et|etablissement|geographique)?",
    "category": r"(code)?categorie(esms|finess|detablissement)?", "departement": r"(code)?departement",
    "recruitments": r"nombrederecrutements.*", "departures": r"nombrededeparts.*",
    "headcount": r"effectifs?reels?enpersonnes.*", "etp_real": r"nombredetpreels.*",
    "etp_budget": r"nombredetpbudgetes.*", "etp_done": r"nombredetp(realises|pourvus).*",
}
OPTIONAL = {"name": r"raisonsociale.*"}
ABSENCE = re.compile(r"nombredejoursdabsence.*")
TEMPLATE_SHEET = "Données"
RATES = ("entry_rate", "exit_rate", "turnover_rate", "absenteeism_rate", "vacancy_rate")


def recognise(path: Path) -> bool:
    try:
        header = _header(path)
    except LoadError:
        return False
    names = [normalise_header(h) for h in header]
    return any(re.fullmatch(COLUMNS["finess"], n) for n in names) and any(ABSENCE.fullmatch(n) for n in names)


def _header(path: Path) -> list:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        book = open_workbook(path)
        sheet = TEMPLATE_SHEET if TEMPLATE_SHEET in book.sheet_names else book.sheet_names[0]
        rows = sheet_rows(book, sheet, path.name)
        return list(rows[0]) if rows else []
    with path.open("rb") as handle:
        first = handle.readline(8192)
    return first.decode(detect_encoding(first, path.name)).strip().split(";")


def _read(path: Path) -> tuple[pd.DataFrame, str | None]:
    """The table as strings/cells, and the sheet name for an XLSX template."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        book = open_workbook(path)
        if TEMPLATE_SHEET not in book.sheet_names:
            raise LoadError("no_template_sheet", path.name, name=TEMPLATE_SHEET, sheets=book.sheet_names)
        rows = sheet_rows(book, TEMPLATE_SHEET, path.name)
        while len(rows) > 1 and all(v in ("", None) for v in rows[-1]):
            rows.pop()
        if len(rows) < 2:
            raise LoadError("template_no_data_rows", path.name, sheet=TEMPLATE_SHEET)
        frame = pd.DataFrame(rows[1:], columns=[str(h).strip() for h in rows[0]], dtype=object)
        frame.index = np.arange(len(frame)) + 2  # the sheet's row numbers
        return _without_blank_rows(frame, path.name), TEMPLATE_SHEET
    frame, _ = read_csv(path, sep=";")
    if frame.empty:
        raise LoadError("no_data_rows", path.name)
    # pandas skips empty lines: number the rows as the file does, so that messages name the right line
    text = read_text(path)[0]
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    frame.index = np.array(lines[1:]) if len(lines) == len(frame) + 1 else np.arange(len(frame)) + 2
    return _without_blank_rows(frame, path.name), None


def _without_blank_rows(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """Rows with no value at all (`;;;;`, an empty row of the template) are not rows of the file's data: neither
    read nor rejected, so the counts shown match what the user sees in the file."""
    blank = frame.apply(lambda column: column.map(lambda v: v is None or (isinstance(v, float) and v != v)
                                                  or str(v).strip() == "")).all(axis=1)
    if blank.all():
        raise LoadError("no_data_rows", file)
    return frame.loc[~blank.to_numpy()]


def _finess(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().replace(" ", "")
    if text.isdigit() and len(text) < 9:
        text = text.zfill(9)  # a spreadsheet turned "010000123" into 10000123
    return text if re.fullmatch(r"\d{9}|2[AB]\d{7}", text) else ""


def _departement(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().upper()
    if text.isdigit():
        text = text.zfill(2)
    return text


def parse(path: Path, ref: Reference) -> Parsed:
    frame, sheet = _read(path)
    rows = frame.index.to_numpy()  # the file's own row numbers (blank rows skipped, not renumbered)
    frame = frame.reset_index(drop=True)
    header = list(frame.columns)
    cols = find_columns(header, COLUMNS, path.name, sheet=sheet, optional=OPTIONAL)
    absence_cols = [i for i, h in enumerate(header) if ABSENCE.fullmatch(normalise_header(h))]
    if not absence_cols:
        raise LoadError("no_absence_column", path.name, sheet=sheet, row=1)
    raw = {role: frame.iloc[:, i] for role, i in cols.items()}
    reject = Rejections()

    finess = pd.Series(by_unique(raw["finess"], _finess), dtype=object)
    bad_finess = (finess == "").to_numpy()
    reject.add(rows[bad_finess], header[cols["finess"]], raw["finess"][bad_finess],
               reason("bad_finess"))
    dept = pd.Series(by_unique(raw["departement"], _departement), dtype=object)
    unknown_dept = ~dept.isin(ref.departement_region.keys()).to_numpy()
    reject.add(rows[unknown_dept], header[cols["departement"]], raw["departement"][unknown_dept],
               reason("unknown_departement"))
    category = pd.Series(by_unique(raw["category"], lambda v: str(int(v)) if isinstance(v, float)
                                   and v.is_integer() else str(v).strip()), dtype=object)
    unknown_category = ~category.isin(ref.esms_categories).to_numpy()
    reject.add(rows[unknown_category], header[cols["category"]], raw["category"][unknown_category],
               reason("unknown_category"))
    year = years(raw["year"])
    reject.add(rows[np.isnan(year)], header[cols["year"]], raw["year"][np.isnan(year)], reason("no_year"))

    value = {}
    for role in ("recruitments", "departures", "headcount", "etp_real", "etp_budget", "etp_done"):
        parsed, _secret = numbers(reject, raw[role], rows, header[cols[role]])
        negative = parsed < 0
        reject.add(rows[negative], header[cols[role]], raw[role][negative], reason("negative"))
        value[role] = parsed
    absence = np.zeros(len(frame))
    absence_known = np.ones(len(frame), dtype=bool)
    for i in absence_cols:
        parsed, _secret = numbers(reject, frame.iloc[:, i], rows, header[i])
        absence_known &= ~np.isnan(parsed)
        absence += np.nan_to_num(parsed)
    absence = np.where(absence_known, absence, np.nan)

    reject_duplicates(reject, pd.DataFrame({"finess": finess, "year": year}), rows, header[cols["finess"]])

    keep = ~reject.rejected(rows)
    v = {k: a[keep] for k, a in value.items()}
    recruitments, departures, headcount = v["recruitments"], v["departures"], v["headcount"]
    parts = {
        "entry_rate": (recruitments, headcount),
        "exit_rate": (departures, headcount),
        "turnover_rate": ((recruitments + departures) / 2, headcount),
        "absenteeism_rate": (absence[keep], v["etp_real"] * 365),
        "vacancy_rate": (np.maximum(v["etp_budget"] - v["etp_done"], 0), v["etp_budget"]),
    }
    unit_frames = []
    for indicator_id, (num, den) in parts.items():
        unit_frames.append(unit_rates(indicator_id, finess[keep].to_numpy(), year[keep], num, den))
    units = finite_only(pd.concat(unit_frames, ignore_index=True))
    names = frame.iloc[:, cols["name"]].astype(str).str.strip() if "name" in cols else pd.Series([""] * len(frame))
    establishments = pd.DataFrame({
        "finess": finess[keep].to_numpy(), "name": names[keep].to_numpy(),
        "esms_category": category[keep].to_numpy(), "territory_id": ("DEP-" + dept[keep]).to_numpy(),
    }).drop_duplicates("finess", keep="last")
    return Parsed(adapter=NAME, source=sources.static("tdbms_extract"), observations=concat([]),
                  rejections=reject.frame(), rows_read=len(rows), units=units, establishments=establishments)


def unit_rates(indicator_id: str, finess: np.ndarray, period: np.ndarray, num: np.ndarray,
               den: np.ndarray) -> pd.DataFrame:
    """One rate per establishment: value = num / den × 100, `undefined` when den is 0 or an input missing."""
    known = ~np.isnan(num) & ~np.isnan(den)
    defined = known & (den > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(defined, 100.0 * num / den, np.nan)
    return pd.DataFrame({
        "finess": finess, "indicator_id": indicator_id, "period": period.astype(np.int64), "value": rate,
        "numerator": np.where(known, num, np.nan), "denominator": np.where(known, den, np.nan),
        "status": np.where(defined, "ok", "undefined"),
    })

