"""The code lists an analyst joins the observations on: territories, professions and published sources.

Read from the store as it is (never from a hard-coded list): each entry has its id (the API's filter value),
its label, its level and parent, and its codes in each nomenclature (Insee COG for régions and départements,
France Travail for bassins, FAP / ROME / … for professions, from the crosswalk). Private own-figures sources
are never listed. Rows are plain dicts (JSON as they are; `csv_rows` flattens them for CSV).
"""
from __future__ import annotations

from sqlalchemy import text

from observatory.store import get_engine

KINDS = ("territories", "professions", "sources")
# The nomenclature a territory's `code` belongs to, by level.
TERRITORY_NOMENCLATURE = {"nation": "iso_3166", "region": "insee_cog", "departement": "insee_cog",
                          "bassin": "france_travail_bassin", "bassin_emploi": "france_travail_bassin"}
SOURCE_FIELDS = ("id", "producer", "title", "vintage", "licence", "url", "series", "is_illustrative", "adapter",
                 "note")


def territories(url: str) -> list[dict]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT territory_id, name, level, parent_id, code FROM territory "
                                 "ORDER BY key")).all()
    return [{"id": i, "label": name, "level": level, "parent": parent,
             "codes": {TERRITORY_NOMENCLATURE.get(level, level): code}} for i, name, level, parent, code in rows]


def professions(url: str) -> list[dict]:
    """Every profession node with its codes in each nomenclature (several codes when a source's scope changed
    between vintages, e.g. BMO V4Z83 → V4X83)."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT profession_id, label, level, parent_id, is_social_work FROM profession "
                                 "ORDER BY key")).all()
        crosswalk = conn.execute(text("SELECT profession_id, nomenclature, source_code FROM profession_crosswalk "
                                      "ORDER BY nomenclature, source_code")).all()
    codes: dict[str, dict[str, list[str]]] = {}
    for profession_id, nomenclature, code in crosswalk:
        codes.setdefault(profession_id, {}).setdefault(nomenclature, []).append(code)
    return [{"id": i, "label": label, "level": level, "parent": parent, "is_social_work": bool(social),
             "codes": codes.get(i, {})} for i, label, level, parent, social in rows]


def sources(url: str) -> list[dict]:
    """Published sources only: an HR director's own figures (scope `private`) are never listed."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT source_id, producer, title, vintage, licence, url, series, is_illustrative, "
                                 "adapter, note FROM source WHERE scope = :scope ORDER BY key"),
                            {"scope": "published"}).all()
    return [{**dict(zip(SOURCE_FIELDS, row)), "series": row[6] or row[0], "is_illustrative": bool(row[7])}
            for row in rows]


READERS = {"territories": territories, "professions": professions, "sources": sources}


def csv_rows(entries: list[dict]) -> tuple[list[str], list[list]]:
    """Header and rows for CSV: the codes as one column per nomenclature (several codes joined by « | »)."""
    plain = [k for k in (entries[0] if entries else {"id": None}) if k != "codes"]
    nomenclatures = sorted({n for e in entries for n in e.get("codes", {})})
    header = plain + [f"code_{n}" for n in nomenclatures]
    rows = []
    for entry in entries:
        codes = entry.get("codes", {})
        rows.append([entry[k] for k in plain]
                    + [" | ".join(c) if isinstance(c := codes.get(n), list) else c for n in nomenclatures])
    return header, rows
