"""`python -m etl build`: the store from every bundled file, in a fixed order."""
from __future__ import annotations

import gc
from pathlib import Path

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from etl.loader import Progress, load_file
from etl.reference import load_reference
from etl.summary import LoadSummary
from observatory.config import DATA_DIR, REAL_DIR
from observatory.schema import metadata, private_upload, store_meta
from observatory.store import init_store, writing

ILLUSTRATIVE_DIR = DATA_DIR / "illustrative"
KEPT = ("private_upload", "private_figure")  # not published data: `build` leaves them in place

# (relative path under data/real/, adapter)
BUNDLED: tuple[tuple[str, str], ...] = (
    # BMO vintages, oldest first (each loads under its own period; names come from the latest).
    ("francetravail/bmo_series/ResMetBE17.xlsx", "bmo"),
    ("francetravail/bmo_series/ResMetBE18.xlsx", "bmo"),
    ("francetravail/bmo_series/ResMetBE19.xlsx", "bmo"),
    ("francetravail/bmo_series/ResMetBE20.xlsx", "bmo"),
    ("francetravail/bmo_series/Base_open_data_21_def.xlsx", "bmo"),
    ("francetravail/bmo_series/Base_open_data_22_def.xlsx", "bmo"),
    ("francetravail/Base_open_data_BMO_2023.xlsx", "bmo"),
    ("dares/evol_mmo.csv", "dares_mmo"),
    ("dares/tensions.csv", "dares_tensions"),
    ("dares/part_femmes.csv", "dares_portrait"),
    ("dares/part_cdd.csv", "dares_portrait"),
    ("dares/salaire_median_3niv.csv", "dares_portrait"),
    ("dares/effectifs_3niv.csv", "dares_outlook"),
    ("dares/age_2017_2019_3niv.csv", "dares_outlook"),
    ("dares/age_agrege_1982_1984_a_2017_2019_restructure.csv", "dares_outlook"),
    ("dares/input_carte1.csv", "dares_outlook"),
    ("dares/types_sorties.csv", "dares_outlook"),
    ("francetravail/francetravail_tension_rome_bassin_2021.csv", "ft_tension"),
    ("insee/estim-pop-dep-sexe-aq-1975-2022.xlsx", "insee_population"),
    ("drees/Les bénéficiaires de l'aide sociale départementale - séries longues (1996-2020).xlsx",
     "drees_aide_sociale"),
    ("drees/Le personnel départemental de l'action sociale et médico-sociale de 2014 à 2020.xlsx", "drees_personnel"),
    ("drees/APA - Données détaillées par GIR, âge et sexe en 2019.xlsx", "drees_apa_gir"),
    *((f"insee/projections_2021_2070/{name}.xlsx", "insee_projections")
      for name in ("00_central", "11_fec_haute", "12_fec_basse", "13_ev_haute", "14_ev_basse")),
)


# Illustrative files (data/illustrative/), written by `python -m etl illustrative`.
ILLUSTRATIVE: tuple[tuple[str, str], ...] = (
    *((f"tdbms/ANN_MS_TDP_ET_{year}.csv", "tdbms") for year in range(2017, 2024)),
    ("drees_ecoles/formations_sociales_2017_2024.xlsx", "drees_ecoles"),
)


def bundled_files() -> list[tuple[Path, str, bool]]:
    """(path, adapter, is_illustrative) for every file `build` loads."""
    return [(REAL_DIR / rel, adapter, False) for rel, adapter in BUNDLED] + [
        (ILLUSTRATIVE_DIR / rel, adapter, True) for rel, adapter in ILLUSTRATIVE]


def build(engine: Engine, *, progress: Progress | None = None) -> list[LoadSummary]:
    """A new store: drop every table (a store built by an older version may lack columns), write the
    reference tables, then load every bundled file in order."""
    version = _version(engine)
    with writing(engine) as conn:
        conn.execute(text("DROP VIEW IF EXISTS observations"))
    # Users' private uploads survive a rebuild (their links keep working); everything published is made anew.
    metadata.drop_all(engine, tables=[t for t in metadata.sorted_tables if t.name not in KEPT])
    init_store(engine)
    with writing(engine) as conn:
        conn.execute(update(private_upload).values(load_id=None))  # the loads they came with are gone
        load_reference(conn)
        # the version goes on from the old store's, so that running processes see a rebuilt store as changed
        conn.execute(store_meta.insert().values(name="version", value=version + 1))
    summaries = []
    for path, adapter, illustrative in bundled_files():
        summaries.append(load_file(engine, path, adapter, progress=progress, illustrative=illustrative,
                                   scope="published"))
        if not gc.isenabled():  # batch mode (`etl.__main__.batch_gc`): one file's cycles at a time
            gc.collect()
    return summaries


def _version(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT value FROM store_meta WHERE name = 'version'")).scalar() or 0)
    except SQLAlchemyError:  # no store yet, or one built before versions existed
        return 0


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for the build summary and the idempotence checks."""
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in sorted(metadata.tables.items())}
