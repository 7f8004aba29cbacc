"""`python -m etl build`: the store from every bundled file, in a fixed order."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from etl.loader import LoadSummary, Progress, load_file
from etl.reference import load_reference
from observatory.config import REAL_DIR
from observatory.schema import metadata
from observatory.store import init_store

# (relative path under data/, adapter)
BUNDLED: tuple[tuple[str, str], ...] = (
    ("francetravail/Base_open_data_BMO_2023.xlsx", "bmo"),
    ("dares/evol_mmo.csv", "dares_mmo"),
    ("dares/tensions.csv", "dares_tensions"),
    ("dares/part_femmes.csv", "dares_portrait"),
    ("dares/part_cdd.csv", "dares_portrait"),
    ("dares/salaire_median_3niv.csv", "dares_portrait"),
    ("francetravail/francetravail_tension_rome_bassin_2021.csv", "ft_tension"),
)


def bundled_files() -> list[tuple[Path, str]]:
    return [(REAL_DIR / rel, adapter) for rel, adapter in BUNDLED]


def build(engine: Engine, *, progress: Progress | None = None) -> list[LoadSummary]:
    """Refresh the reference tables, then load every bundled file (each load replaces its earlier rows)."""
    init_store(engine)
    with engine.begin() as conn:
        load_reference(conn)
    return [load_file(engine, path, adapter, progress=progress) for path, adapter in bundled_files()]


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for the build summary and the idempotence checks."""
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in sorted(metadata.tables.items())}
