"""DREES enquête « Écoles » tables (formations aux professions sociales), XLSX.

Each sheet holds one measure (students enrolled, first-year entrants, graduates, definitive
interruptions) by diploma × région, one column per year. Around the table: single-cell metadata rows
("Tableau N…", "Retour au sommaire", "Source", "Champ", "Note", "Lecture"); the table has one to three
header rows (a group row, codes and labels, years, sometimes a unit row); years may carry "(p)" or "*"
(provisional); `nd`/`nr`/`ns`/`nc`/`/`/`-` mark figures not published (status `secret`, value NULL).

Total rows ("Total", "Ensemble", "France") are rejected with their reason: the observatory recomputes
totals from the detail, so that a total is never counted twice. Derived here, with numerator and
denominator: the interruption rate (interruptions / enrolled) and graduates per entrant of the matching
cohort (graduates of N / entrants of N − duration + 1).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters.common import concat, finite_only, observation_frame
from etl.errors import LoadError
from etl.frames import Parsed, Rejections
from etl.read.columns import normalise_header
from etl.read.numbers import NON_FINITE, parse_numbers
from etl.read.xlsx import cell_text, open_workbook, sheet_rows
from etl.reference import Reference
from observatory import sources
from observatory.config import REFERENCE_DIR

NAME = "drees_ecoles"
MEASURES = (  # tested in this order: a title "… inscrits, par diplôme" is about enrolment
    (re.compile(r"interruption", re.I), "training_interruptions"),
    (re.compile(r"entr[ée]s? en premi[èe]re|entrants?", re.I), "first_year_entrants"),
    (re.compile(r"inscrits?", re.I), "students_enrolled"),
    (re.compile(r"dipl[ôo]m[ée]s", re.I), "graduates"),
)
YEAR = re.compile(r"^\s*(\d{4})(?:\.0)?\s*(\(p\)|\*)?\s*$", re.I)
FOOTER = re.compile(r"^\s*(source|champ|note|lecture|retour|nd\s*:|\(p\))", re.I)
TOTAL = re.compile(r"^\s*(total|ensemble|france|toutes formations)", re.I)
MAX_HEADER_ROWS = 3


def recognise(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = open_workbook(path)
        return any(_header_start(sheet_rows(book, s, path.name)[:30]) is not None for s in book.sheet_names)
    except LoadError:
        return False


def _header_start(rows: list[list]) -> int | None:
    for i, row in enumerate(rows):
        if row and normalise_header(cell_text(row[0])) in ("diplome", "formation", "diplomeouformation"):
            return i
    return None


def _durations() -> dict[str, int]:
    frame = pd.read_csv(REFERENCE_DIR / "diplomas.csv", dtype={"code": str})
    return dict(zip(frame["code"], frame["duration_years"].astype(int)))


def parse(path: Path, ref: Reference) -> Parsed:
    book = open_workbook(path)
    parts, rejections, rows_read, rows_rejected, measures, sheets = [], [], 0, 0, [], []
    for sheet in book.sheet_names:
        rows = sheet_rows(book, sheet, path.name)
        table = _sheet(rows, sheet, path.name, ref)
        if table is None:
            continue
        frame, reject, read, indicator_id = table
        parts.append(frame)
        rejected = reject.frame()
        rows_rejected += rejected["row_number"].nunique()
        rejections.append(rejected.assign(column_name=sheet + " › " + rejected["column_name"].astype(str)))
        rows_read += read
        measures.append(indicator_id)
        sheets.append(sheet)
    if not parts:
        raise LoadError("no_drees_table", path.name, sheets=book.sheet_names)
    if rows_read == 0:
        raise LoadError("no_drees_rows", path.name, sheet=sheets[0] if len(sheets) == 1 else None)
    duplicated = {m for m in measures if measures.count(m) > 1}
    if duplicated:
        raise LoadError("repeated_measure", path.name, measures=sorted(duplicated))
    observations = concat(parts)
    observations = finite_only(concat([observations, *_rates(observations)]))
    rejection_frame = pd.concat(rejections, ignore_index=True) if rejections else Rejections().frame()
    return Parsed(adapter=NAME, source=sources.static("drees_ecoles_extract"), observations=observations,
                  rejections=rejection_frame, rows_read=rows_read, rows_rejected=rows_rejected)


def _sheet(rows: list[list], sheet: str, file: str, ref: Reference):
    """(observations, rejections, data rows read, indicator) for one sheet, or None if it has no table."""
    start = _header_start(rows)
    if start is None:
        return None
    title = " ".join(cell_text(c) for row in rows[:start] for c in row if cell_text(c))
    indicator_id = next((ind for pattern, ind in MEASURES if pattern.search(title)), None)
    if indicator_id is None:
        raise LoadError("unknown_measure", file, sheet=sheet, row=1)
    width = max(len(r) for r in rows)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    year_row = next((i for i in range(start, min(start + MAX_HEADER_ROWS, len(rows)))
                     if any(YEAR.match(cell_text(c)) for c in rows[i][1:])), None)
    if year_row is None:
        raise LoadError("no_year_row", file, sheet=sheet, row=start + 1, most=MAX_HEADER_ROWS)
    data_start = year_row + 1
    while data_start < len(rows) and not cell_text(rows[data_start][0]) and any(cell_text(c) for c in rows[data_start]):
        data_start += 1  # a unit row under the years ("effectifs")
    if data_start - start > MAX_HEADER_ROWS:
        raise LoadError("too_many_header_rows", file, sheet=sheet, row=start + 1, count=data_start - start,
                        most=MAX_HEADER_ROWS)
    header = [" ".join(cell_text(rows[r][j]) for r in range(start, data_start) if cell_text(rows[r][j]))
              for j in range(width)]
    years = {j: YEAR.match(cell_text(rows[year_row][j])) for j in range(width)}
    years = {j: (int(m.group(1)), bool(m.group(2))) for j, m in years.items() if m}
    region_cols = [j for j, h in enumerate(header) if "region" in normalise_header(h)]
    if not region_cols:
        raise LoadError("no_region_column", file, sheet=sheet, row=start + 1)
    region_col = next((j for j in region_cols if "code" in normalise_header(header[j])), region_cols[0])

    end = data_start
    while end < len(rows) and any(cell_text(c) for c in rows[end]) and not FOOTER.match(cell_text(rows[end][0])):
        end += 1
    body = rows[data_start:end]
    numbers = np.arange(data_start, end) + 1  # 1-based spreadsheet rows
    reject = Rejections()
    diploma_map = ref.codes("diploma")
    codes = np.array([cell_text(r[0]) for r in body], dtype=object)
    regions = [cell_text(r[region_col]) for r in body]
    regions = np.array([r.zfill(2) if r.isdigit() else r for r in regions], dtype=object)
    total = np.array([bool(TOTAL.match(c)) or bool(TOTAL.match(g)) for c, g in zip(codes, regions)], dtype=bool)
    reject.add(numbers[total], header[0] or "Diplôme", codes[total],
               "total row: the observatory recomputes totals from the detail")
    profession = np.array([diploma_map.get(c) for c in codes], dtype=object)
    unknown = pd.isna(profession)
    reject.add(numbers[unknown], header[0] or "Diplôme", codes[unknown], "diploma not in the diploma reference")
    territory = np.array(["REG-" + g for g in regions], dtype=object)
    bad_region = ~np.isin(regions, list(ref.regions))
    reject.add(numbers[bad_region], header[region_col], regions[bad_region], "région not in the INSEE reference")
    values = {}
    for j in years:
        cells = np.array([r[j] for r in body], dtype=object)
        value, secret, bad, non_finite = parse_numbers(pd.Series(cells, dtype=object))
        reject.add(numbers[non_finite], header[j], cells[non_finite], NON_FINITE)
        with np.errstate(invalid="ignore"):
            negative = value < 0
        reject.add(numbers[bad | negative], header[j], cells[bad | negative],
                   "expected a count or a marker (nd, nr, ns, nc, /, -)")
        values[j] = (value, secret)
    key = pd.Series([f"{c}|{g}" for c, g in zip(codes, regions)])
    first = key.groupby(key).cumcount().to_numpy()
    reject.add(numbers[first > 0], header[0] or "Diplôme", codes[first > 0], "duplicate diploma and région")
    keep = ~reject.rejected(numbers)
    frames = []
    for j, (year, provisional) in years.items():
        value, secret = values[j]
        status = np.where(secret[keep], "secret", "provisional" if provisional else "ok")
        frames.append(observation_frame(indicator_id, profession[keep], territory[keep], np.full(keep.sum(), year),
                                        value[keep], status))
    return concat(frames), reject, len(body), indicator_id


def _rates(obs: pd.DataFrame) -> list[pd.DataFrame]:
    """Interruption rate and graduates per entrant, from the measures of the same workbook."""
    key = ["profession_id", "territory_id", "period"]

    def measure(indicator_id: str) -> pd.DataFrame:
        part = obs.loc[obs["indicator_id"] == indicator_id, [*key, "value", "status"]]
        return part.rename(columns={"value": indicator_id, "status": indicator_id + "_status"})

    out = []
    enrolled, interrupted = measure("students_enrolled"), measure("training_interruptions")
    if len(enrolled) and len(interrupted):
        both = interrupted.merge(enrolled, on=key)
        out.append(_ratio("training_interruption_rate", both, "training_interruptions", "students_enrolled"))
    graduates, entrants = measure("graduates"), measure("first_year_entrants")
    if len(graduates) and len(entrants):
        duration = _durations()
        diploma_of = {}  # profession → duration, through the diploma crosswalk order of the reference file
        from etl.reference import professions_frames

        _, crosswalk = professions_frames()
        for row in crosswalk[crosswalk["nomenclature"] == "diploma"].itertuples():
            diploma_of[row.profession_id] = duration.get(row.source_code, 1)
        graduates["cohort"] = graduates["period"] - graduates["profession_id"].map(diploma_of).fillna(1).astype(int) + 1
        both = graduates.merge(entrants.rename(columns={"period": "cohort"}), on=["profession_id", "territory_id",
                                                                                  "cohort"])
        out.append(_ratio("graduates_per_entrant", both, "graduates", "first_year_entrants"))
    return out


def _ratio(indicator_id: str, both: pd.DataFrame, num: str, den: str) -> pd.DataFrame:
    n, d = both[num].to_numpy(float), both[den].to_numpy(float)
    known = ~np.isnan(n) & ~np.isnan(d)
    provisional = ((both[num + "_status"] == "provisional").to_numpy()
                   | (both[den + "_status"] == "provisional").to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(known & (d > 0), 100.0 * n / d, np.nan)
    status = np.where(~known, "secret", np.where(d > 0, np.where(provisional, "provisional", "ok"), "undefined"))
    return observation_frame(indicator_id, both["profession_id"].to_numpy(), both["territory_id"].to_numpy(),
                             both["period"].to_numpy(), value, status, is_derived=1,
                             numerator=np.where(known, n, np.nan), denominator=np.where(known, d, np.nan))
