"""What an adapter hands to the loader: validated frames, nothing written yet."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.errors import Reason

OBS_COLUMNS = [
    "indicator_id", "profession_id", "territory_id", "breakdown", "period",
    "value", "numerator", "denominator", "status", "is_derived",
]
REJECTION_COLUMNS = ["row_number", "column_name", "value", "reason"]
# A row kept with a correction (BMO: a région that disagrees with the département) is recorded beside the
# rejections of its load, in `etl_rejection`, with a reason starting with NOTE: it is not a rejection and
# counts in no rejected total.
NOTE = "note: "
TERRITORY_COLUMNS = ["territory_id", "level", "code", "name", "parent_id"]
PROFESSION_COLUMNS = ["profession_id", "label", "level", "parent_id", "is_social_work", "note"]
UNIT_COLUMNS = ["finess", "indicator_id", "period", "value", "numerator", "denominator", "status"]
ESTABLISHMENT_COLUMNS = ["finess", "name", "esms_category", "territory_id"]
CROSSWALK_COLUMNS = ["nomenclature", "source_code", "profession_id", "source_label", "break_year", "break_note"]
# What a source code or a bassin meant in one vintage, so that series breaks are found by comparing vintages and a
# figure is always shown under the label of its own vintage. kind: `profession` (subject_id a profession_id,
# scope the file's family of métiers) or `territory` (subject_id a territory_id, scope its département).
LABEL_COLUMNS = ["kind", "subject_id", "code", "period", "label", "scope"]


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class Parsed:
    """One file, read and validated by its adapter."""

    adapter: str
    source: dict
    observations: pd.DataFrame
    rejections: pd.DataFrame
    rows_read: int
    territories: pd.DataFrame = field(default_factory=lambda: empty(TERRITORY_COLUMNS))
    professions: pd.DataFrame = field(default_factory=lambda: empty(PROFESSION_COLUMNS))
    crosswalk: pd.DataFrame = field(default_factory=lambda: empty(CROSSWALK_COLUMNS))
    # Establishment-level figures (TDBMS): stored apart, rolled up into `observation` by ESMS category.
    units: pd.DataFrame = field(default_factory=lambda: empty(UNIT_COLUMNS))
    establishments: pd.DataFrame = field(default_factory=lambda: empty(ESTABLISHMENT_COLUMNS))
    labels: pd.DataFrame = field(default_factory=lambda: empty(LABEL_COLUMNS))
    notes: pd.DataFrame = field(default_factory=lambda: empty(REJECTION_COLUMNS))  # kept rows, corrected (NOTE)
    rows_rejected: int | None = None  # set by adapters reading several tables (row numbers repeat)

    @property
    def rows_loaded(self) -> int:
        if self.rows_rejected is not None:
            return self.rows_read - self.rows_rejected
        rejected = self.rejections["row_number"].nunique() if len(self.rejections) else 0
        return self.rows_read - rejected

    @property
    def periods(self) -> list[int]:
        return sorted({int(p) for p in self.observations["period"].unique()}
                      | {int(p) for p in self.units["period"].unique()})


class Rejections:
    """Collects rejected rows; a row is rejected once, for its first failing reason.

    A reason is English text, or a `Reason` (etl/errors.py) whose French the frame keeps in a column `french`
    beside `REJECTION_COLUMNS` (the store keeps the English only)."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self._rejected: set[int] = set()

    def add(self, rows: np.ndarray, column: str, values, reason) -> None:
        """Reject `rows` (file row numbers) that are not rejected yet, for `reason` (one for all, or one each)."""
        rows = np.asarray(rows)
        values = np.asarray(values, dtype=object)
        fresh = np.array([r not in self._rejected for r in rows.tolist()], dtype=bool)
        if not fresh.any():
            return
        if isinstance(reason, (str, Reason)):
            english, french = str(reason), getattr(reason, "french", None)
        else:
            kept = [r for r, keep in zip(reason, fresh.tolist(), strict=True) if keep]
            english, french = [str(r) for r in kept], [getattr(r, "french", None) for r in kept]
        self._rejected.update(rows[fresh].tolist())
        self._parts.append(pd.DataFrame({
            "row_number": rows[fresh].astype(int),
            "column_name": column,
            "value": ["" if v is None else str(v) for v in values[fresh]],
            "reason": english,
            "french": french,
        }))

    def rejected(self, rows: np.ndarray) -> np.ndarray:
        """Mask of `rows` already rejected."""
        return np.array([r in self._rejected for r in np.asarray(rows).tolist()], dtype=bool)

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return empty(REJECTION_COLUMNS)
        return pd.concat(self._parts, ignore_index=True).sort_values("row_number", kind="stable")
