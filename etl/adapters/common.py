"""Shared steps of the long-format CSV adapters: codes through the crosswalk, years, duplicates, frames."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.errors import LoadError, reason
from etl.frames import OBS_COLUMNS, Rejections
from etl.read.columns import by_unique, find_columns, normalise_header
from etl.read.numbers import NON_FINITE, parse_numbers
from etl.read.text import read_csv
from etl.reference import Reference

ENSEMBLE_CODES = {"ensemble": "ensemble", "ens": "ensemble"}


def read_table(path: Path, wanted: dict[str, str], *, sep: str | None = None,
               optional: dict[str, str] | None = None) -> tuple[pd.DataFrame, dict[str, str], np.ndarray]:
    """(frame with one column per role, role → header as written, file row numbers)."""
    frame, _encoding = read_csv(path, sep=sep)
    if frame.empty:
        raise LoadError("no_data_rows", path.name)
    header = list(frame.columns)
    cols = find_columns(header, wanted, path.name, optional=optional)
    roles = pd.DataFrame({role: frame.iloc[:, i].to_numpy() for role, i in cols.items()})
    return roles, {role: header[i] for role, i in cols.items()}, np.arange(len(frame)) + 2


def read_fap_table(path: Path, wanted: dict[str, str], sep: str, ref: Reference
                   ) -> tuple[pd.DataFrame, dict[str, str], np.ndarray, Rejections, pd.Series, np.ndarray]:
    """A long-format DARES file keyed by FAP (`wanted` has a `fap` role): `read_table`'s three parts, a new
    `Rejections`, the FAP codes and their professions (a code outside the crosswalk rejected)."""
    raw, header, rows = read_table(path, wanted, sep=sep)
    reject = Rejections()
    code = raw["fap"]
    return raw, header, rows, reject, code, fap_professions(reject, code, rows, header["fap"], ref)


def coded(reject: Rejections, raw: pd.DataFrame, header: dict[str, str], rows: np.ndarray, role: str,
          codes: dict[str, str], expected: str) -> np.ndarray:
    """A column of published labels as codes (`codes`: normalised label → code); a label it does not know
    rejects its row with `expected`."""
    values = by_unique(raw[role], lambda label: codes.get(normalise_header(label)))
    unknown = pd.isna(values)
    reject.add(rows[unknown], header[role], raw[role][unknown], expected)
    return values


def professions_for(codes: pd.Series, ref: Reference, nomenclature_of) -> np.ndarray:
    """profession_id per code via the crosswalk (None when the code is not in the reference).

    `nomenclature_of(code)` names the nomenclature a code belongs to (None for no nomenclature).
    """
    def one(code: str):
        if code.casefold() in ENSEMBLE_CODES:
            return ENSEMBLE_CODES[code.casefold()]
        nomenclature = nomenclature_of(code)
        return ref.crosswalk.get((nomenclature, code)) if nomenclature else None
    return by_unique(codes, one)


def fap_professions(reject: Rejections, codes: pd.Series, rows: np.ndarray, column: str,
                    ref: Reference) -> np.ndarray:
    """profession_id per FAP code (domain, FAP-87 or FAP-225 level); unknown codes rejected, never guessed."""
    profession_id = professions_for(codes, ref, fap_nomenclature)
    unknown = pd.isna(profession_id)
    reject.add(rows[unknown], column, codes[unknown], "FAP code not in the FAP reference")
    return profession_id


def fap_nomenclature(code: str) -> str | None:
    """FAP level from the code's shape: 'V' domain, 'V4Z' FAP-87, 'V4Z83' FAP-2009 (225 families).

    Three letters ('SAL', every employee) are totals DARES publishes in its FAP column: no FAP code, they
    go through the crosswalk under `dares_total` like any other code (unknown ones are rejected).
    """
    if re.fullmatch(r"[A-Z]", code):
        return "fap22"
    if re.fullmatch(r"[A-Z]\d[A-Z]", code):
        return "fap87"
    if re.fullmatch(r"[A-Z]\d[A-Z]\d\d", code):
        return "fap2009"
    if re.fullmatch(r"[A-Z]{3}", code):
        return "dares_total"
    return None


def years(values: pd.Series) -> np.ndarray:
    """Year per cell: '2014' → 2014, '2017-2019' → 2019 (a range takes its last year); NaN when bad."""
    def one(v) -> float:
        text = str(v).strip()
        if re.fullmatch(r"\d{4}(\.0)?", text):
            return float(text[:4])
        match = re.fullmatch(r"(\d{4})\s*[-–]\s*(\d{4})", text)
        return float(match.group(2)) if match else np.nan
    return by_unique(values, one).astype(float)


def reject_duplicates(reject: Rejections, keys: pd.DataFrame, rows: np.ndarray, column: str) -> None:
    """Reject every repeat of an already seen key, naming the row it repeats."""
    alive = ~reject.rejected(rows)
    first = pd.Series(rows[alive]).groupby([keys[c].to_numpy()[alive] for c in keys]).transform("min").to_numpy()
    duplicate = first != rows[alive]
    reject.add(rows[alive][duplicate], column, keys.iloc[:, 0].to_numpy()[alive][duplicate],
               [reason("duplicate", row=r) for r in first[duplicate]])


def numbers(reject: Rejections, raw: pd.Series, rows: np.ndarray, column: str,
            *, allow_empty: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Parsed numbers and secret flags; garbage, non-finite numbers (`inf`, `NaN`, overflow: see
    `etl.read.numbers.NON_FINITE`) and empties unless allowed rejected."""
    value, secret, bad, non_finite = parse_numbers(raw)
    reject.add(rows[non_finite], column, raw.to_numpy()[non_finite], NON_FINITE)
    empty = np.isnan(value) & ~secret & ~bad & ~non_finite
    not_available = bad & (raw.astype(str).str.strip().str.upper() == "NA").to_numpy()
    reject.add(rows[not_available], column, raw.to_numpy()[not_available], reason("not_available"))
    wrong = (bad & ~not_available) | (empty & (not allow_empty))
    reject.add(rows[wrong], column, raw.to_numpy()[wrong], reason("not_a_number"))
    return value, secret


def observation_frame(indicator_id: str, profession_id, territory_id, period, value, status,
                      *, is_derived: int = 0, numerator=None, denominator=None,
                      breakdown: str = "") -> pd.DataFrame:
    n = len(profession_id)
    nan = np.full(n, np.nan)
    return pd.DataFrame({
        "indicator_id": indicator_id, "profession_id": profession_id, "territory_id": territory_id,
        "breakdown": breakdown, "period": np.asarray(period, dtype=np.int64), "value": value,
        "numerator": nan if numerator is None else numerator,
        "denominator": nan if denominator is None else denominator,
        "status": status, "is_derived": is_derived,
    })[OBS_COLUMNS]


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else observation_frame("", [], [], [], [], [])


def finite_only(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without the rows whose value, numerator or denominator is infinite. Source figures are finite
    and bounded (`etl.read.numbers.parse_numbers`); this guards the figures an adapter derives from them (a rate over
    a tiny denominator), so that nothing infinite is ever stored."""
    columns = [c for c in ("value", "numerator", "denominator") if c in frame]
    if not len(frame) or not columns:
        return frame
    infinite = np.isinf(frame[columns].to_numpy(dtype=float)).any(axis=1)
    return frame[~infinite].reset_index(drop=True) if infinite.any() else frame


def sniff_header(path: Path) -> str:
    """The first line of a text file, normalised, for `recognise` (never raises)."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return ""
    return first.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").strip().lower().replace('"', "")
