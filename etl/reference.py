"""Reference data: territories, the profession nomenclature and its crosswalk, the catalogue, the sources.

Built from the files in `data/reference/` and from `observatory.catalogue` / `observatory.sources`, and
written by upsert so that observations already loaded keep their keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Table, and_, bindparam, func, select

from etl.errors import LoadError
from etl.frames import CROSSWALK_COLUMNS, PROFESSION_COLUMNS, TERRITORY_COLUMNS
from etl.read.text import read_csv
from observatory import catalogue, sources
from observatory.config import REAL_DIR, REFERENCE_DIR
from observatory.schema import esms_category, indicator, profession, profession_crosswalk, source, territory

REFERENCE_FILES = {
    "regions": REFERENCE_DIR / "insee_cog2020_region.csv",
    "departements": REFERENCE_DIR / "insee_cog2020_departement.csv",
    "bassins": REAL_DIR / "francetravail" / "francetravail_lexique_bassins_BE19_communes.csv",
    "professions": REFERENCE_DIR / "professions.csv",
    "crosswalk": REFERENCE_DIR / "profession_crosswalk.csv",
    "fap22": REFERENCE_DIR / "fap22.csv",
    "fap87": REFERENCE_DIR / "fap87.csv",
    "fap2009": REFERENCE_DIR / "fap2009_225.csv",
    "rome": REFERENCE_DIR / "rome.csv",
    "esms": REFERENCE_DIR / "esms_categories.csv",
}



def territories_frame(files: dict[str, Path] = REFERENCE_FILES) -> pd.DataFrame:
    """Nation, régions and départements (INSEE COG 2020) and whole bassins d'emploi (BE19)."""
    regions, _ = read_csv(files["regions"])
    departements, _ = read_csv(files["departements"])
    bassins, _ = read_csv(files["bassins"])
    rows = [{"territory_id": "FR", "level": "nation", "code": "FR", "name": "France", "parent_id": None}]
    rows += [{"territory_id": f"REG-{r.reg}", "level": "region", "code": r.reg, "name": r.libelle,
              "parent_id": "FR"} for r in regions.itertuples()]
    rows += [{"territory_id": f"DEP-{d.dep}", "level": "departement", "code": d.dep, "name": d.libelle,
              "parent_id": f"REG-{d.reg}"} for d in departements.itertuples()]
    # The lexique lists communes: a bassin's région is the one most of its communes are in (bassin 5313
    # Redon has 3 communes of Loire-Atlantique, région 52, and 32 in région 53), its name the most frequent.
    def mode(values: pd.Series) -> str:
        return values.value_counts().index[0]

    bassins["REG"] = bassins["REG"].str.zfill(2)  # the lexique writes DROM régions unpadded ("1")
    whole = bassins.groupby("BE19").agg(REG=("REG", mode), NOMBE19=("NOMBE19", mode)).reset_index()
    rows += [{"territory_id": f"BE-{b.BE19}", "level": "bassin_emploi", "code": b.BE19,
              "name": b.NOMBE19.title(), "parent_id": f"REG-{b.REG}"} for b in whole.itertuples()]
    return pd.DataFrame(rows, columns=TERRITORY_COLUMNS)


def professions_frames(files: dict[str, Path] = REFERENCE_FILES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The observatory's nomenclature plus every reference occupation outside social work."""
    professions, _ = read_csv(files["professions"])
    crosswalk, _ = read_csv(files["crosswalk"])
    professions["is_social_work"] = professions["is_social_work"].astype(int).astype(bool)
    mapped = set(zip(crosswalk["nomenclature"], crosswalk["source_code"]))
    extra_prof, extra_cw = [], []
    for nomenclature, key in (("fap22", "fap22"), ("fap87", "fap87"), ("fap2009", "fap2009"), ("rome", "rome")):
        codes, _ = read_csv(files[key])
        for code, label in zip(codes["code"], codes["label"]):
            if (nomenclature, code) in mapped:
                continue
            pid = f"{nomenclature}_{code}"
            extra_prof.append({"profession_id": pid, "label": label, "level": "profession",
                               "parent_id": "autres_metiers", "is_social_work": False,
                               "note": f"{nomenclature.upper()} {code}"})
            extra_cw.append({"nomenclature": nomenclature, "source_code": code, "profession_id": pid,
                             "source_label": label, "break_year": None, "break_note": None})
    professions = pd.concat([professions, pd.DataFrame(extra_prof)], ignore_index=True)
    crosswalk = pd.concat([crosswalk, pd.DataFrame(extra_cw)], ignore_index=True)
    crosswalk["break_year"] = pd.to_numeric(crosswalk["break_year"], errors="coerce").astype("Int64")
    for frame in (professions, crosswalk):
        frame.replace({"": None}, inplace=True)
    # One published figure, one row: within a nomenclature no two codes may share a profession, or two
    # rows of one file would land on the same key.
    shared = crosswalk[crosswalk.duplicated(["nomenclature", "profession_id"], keep=False)]
    if len(shared):
        raise LoadError("shared_profession", files["crosswalk"].name,
                        codes=shared[["nomenclature", "source_code", "profession_id"]].values.tolist())
    missing = set(crosswalk["profession_id"]) - set(professions["profession_id"])
    if missing:
        raise LoadError("unknown_professions", files["crosswalk"].name, professions=sorted(missing))
    return professions[PROFESSION_COLUMNS], crosswalk[CROSSWALK_COLUMNS]


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _insert(conn: Connection, table: Table, keys: list[str], others: list[str], rows: list[dict]):
    """The INSERT of new rows; dimension rows get their integer surrogate key here, never changed afterwards.

    PostgreSQL: the key column is an identity, so each row takes `nextval` in this transaction and two
    concurrent writers never share a key; a row with the same id that another writer committed meanwhile is
    updated rather than refused (as if it had been there when this one looked). Other backends (SQLite):
    the next keys after the largest, read in this transaction: SQLite serialises writers, so no other writer
    can commit between that read and this transaction's commit (it waits for the lock, or this one fails).
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        statement = insert(table)
        if not others:
            return statement.on_conflict_do_nothing(index_elements=keys)
        return statement.on_conflict_do_update(index_elements=keys,
                                               set_={c: statement.excluded[c] for c in others})
    if "key" in table.c:
        next_key = (conn.execute(select(func.max(table.c.key))).scalar() or 0) + 1
        for offset, row in enumerate(rows):
            row["key"] = next_key + offset
    return table.insert()


def upsert(conn: Connection, table: Table, frame: pd.DataFrame) -> tuple[int, int]:
    """Insert new rows and update changed ones, keyed on the table's primary key. Returns (inserted, updated)."""
    if frame.empty:
        return 0, 0
    keys = [c.name for c in table.primary_key.columns]
    columns = [c for c in frame.columns if c in table.c and c != "key"]
    existing = {tuple(r[:len(keys)]): tuple(r[len(keys):])
                for r in conn.execute(select(*[table.c[k] for k in keys],
                                             *[table.c[c] for c in columns if c not in keys]))}
    others = [c for c in columns if c not in keys]
    inserts, updates = [], []
    for record in frame[columns].itertuples(index=False, name=None):
        row = {c: _clean(v) for c, v in zip(columns, record)}
        key = tuple(row[k] for k in keys)
        if key not in existing:
            inserts.append(row)
            existing[key] = tuple(row[c] for c in others)
        elif existing[key] != tuple(row[c] for c in others):
            updates.append(row)
    if inserts:
        conn.execute(_insert(conn, table, keys, others, inserts), inserts)
    if updates and others:
        statement = (
            table.update()
            .where(and_(*[table.c[k] == bindparam(f"k_{k}") for k in keys]))
            .values({c: bindparam(f"v_{c}") for c in others})
        )
        conn.execute(statement, [{**{f"k_{k}": u[k] for k in keys}, **{f"v_{c}": u[c] for c in others}}
                                 for u in updates])
    return len(inserts), len(updates)


DEPTH = {"nation": 0, "region": 1, "departement": 2, "bassin_emploi": 2, "bassin": 3,
         "ensemble": 0, "domain": 1, "family": 2, "group": 3, "profession": 4}


def parents_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Territory or profession rows ordered so that a parent is written before its children."""
    return frame.sort_values("level", key=lambda s: s.map(DEPTH), kind="stable")


def load_reference(conn: Connection, files: dict[str, Path] = REFERENCE_FILES) -> dict[str, int]:
    """Write every reference table; returns the row count of each."""
    territories = territories_frame()
    professions, crosswalk = professions_frames()
    indicators = pd.DataFrame([i.as_row() for i in catalogue.INDICATORS])
    static_sources = pd.DataFrame([sources.static(s) for s in sources.STATIC])
    # Parents before children: the foreign keys are checked row by row on SQLite.
    territories, professions = parents_first(territories), parents_first(professions)
    upsert(conn, source, static_sources)
    upsert(conn, indicator, indicators)
    upsert(conn, territory, territories)
    upsert(conn, profession, professions)
    upsert(conn, profession_crosswalk, crosswalk)
    esms, _ = read_csv(files["esms"])
    upsert(conn, esms_category, esms)
    return {"territory": len(territories), "profession": len(professions),
            "profession_crosswalk": len(crosswalk), "indicator": len(indicators), "source": len(static_sources)}


@dataclass
class Reference:
    """What adapters check codes against, read from the store inside the load's transaction."""

    departement_region: dict[str, str]
    regions: set[str]
    bassin_region: dict[str, str]
    crosswalk: dict[tuple[str, str], str]
    territory_ids: set[str]
    esms_categories: set[str]

    @classmethod
    def from_store(cls, conn: Connection) -> Reference:
        terr = pd.read_sql(select(territory.c.territory_id, territory.c.level, territory.c.code,
                                  territory.c.parent_id), conn)
        deps = terr[terr.level == "departement"]
        bassins = terr[terr.level == "bassin_emploi"]
        cw = conn.execute(select(profession_crosswalk.c.nomenclature, profession_crosswalk.c.source_code,
                                 profession_crosswalk.c.profession_id)).all()
        return cls(
            departement_region=dict(zip(deps.code, deps.parent_id.str.removeprefix("REG-"))),
            regions=set(terr.loc[terr.level == "region", "code"]),
            bassin_region=dict(zip(bassins.code, bassins.parent_id.str.removeprefix("REG-"))),
            crosswalk={(n, c): p for n, c, p in cw},
            territory_ids=set(terr.territory_id),
            esms_categories=set(conn.execute(select(esms_category.c.code)).scalars()),
        )

    def codes(self, nomenclature: str) -> dict[str, str]:
        """source_code → profession_id for one nomenclature."""
        return {c: p for (n, c), p in self.crosswalk.items() if n == nomenclature}
