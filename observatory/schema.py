"""The star schema of the data contract, in SQLAlchemy Core so that SQLite and PostgreSQL share it.

`observation` is the fact table; the public `observations` view adds the territory level and turns the
internal empty `breakdown` back into NULL (the empty string lets the unique key hold on every backend).

Dimension tables (`source`, `territory`, `profession`, `indicator`) carry an integer surrogate `key`, never
rewritten once given. On PostgreSQL it is an identity column: a writer takes keys with `nextval` in its own
transaction, so concurrent writers never pick the same one. SQLite has no sequences (the DDL is a plain
INTEGER): `etl.reference.upsert` gives the next keys in the writer's transaction, and SQLite serialises writers.
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    )

metadata = MetaData()

TERRITORY_LEVELS = ("nation", "region", "departement", "bassin", "bassin_emploi")
PROFESSION_LEVELS = ("ensemble", "domain", "family", "group", "profession")
STATUSES = ("ok", "secret", "provisional", "estimated", "partial", "illustrative", "illustrative_incomplete",
            "undefined")
AGGREGATIONS = ("sum", "ratio", "none")

source = Table(
    "source",
    metadata,
    Column("source_id", String(64), primary_key=True),
    Column("key", Integer, Identity(), nullable=False, unique=True),
    Column("producer", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("licence", Text),
    Column("vintage", Text),
    Column("is_illustrative", Boolean, nullable=False, default=False),
    Column("adapter", String(32)),
    # Sources whose figures form one series across vintages (every BMO vintage is its own source, one series).
    Column("series", String(64)),
    Column("note", Text),
    # `private`: an HR director's own figures, kept apart from published data and removable (`unload`).
    Column("scope", String(16), nullable=False, default="published"),
)

territory = Table(
    "territory",
    metadata,
    Column("territory_id", String(32), primary_key=True),
    Column("key", Integer, Identity(), nullable=False, unique=True),
    Column("level", String(16), nullable=False),
    Column("code", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_id", String(32), ForeignKey("territory.territory_id")),
    Index("ix_territory_level", "level"),
    Index("ix_territory_parent", "parent_id"),
)

profession = Table(
    "profession",
    metadata,
    Column("profession_id", String(64), primary_key=True),
    Column("key", Integer, Identity(), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_id", String(64), ForeignKey("profession.profession_id")),
    Column("is_social_work", Boolean, nullable=False, default=False),
    Column("note", Text),
    Index("ix_profession_parent", "parent_id"),
)

profession_crosswalk = Table(
    "profession_crosswalk",
    metadata,
    Column("nomenclature", String(32), primary_key=True),
    Column("source_code", String(32), primary_key=True),
    Column("profession_id", String(64), ForeignKey("profession.profession_id"), nullable=False),
    Column("source_label", Text),
    Column("break_year", Integer),
    Column("break_note", Text),
)

indicator = Table(
    "indicator",
    metadata,
    Column("indicator_id", String(64), primary_key=True),
    Column("key", Integer, Identity(), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("theme", String(32), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("definition", Text, nullable=False),
    Column("formula", Text, nullable=False),
    Column("aggregation", String(8), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("numerator_label", Text),
    Column("denominator_label", Text),
    Column("sources", Text),
    Column("caveats", Text),
    Column("decimals", Integer, nullable=False, default=1),
)

esms_category = Table(
    "esms_category",
    metadata,
    Column("code", String(8), primary_key=True),
    Column("label", Text, nullable=False),
    Column("sector", String(8), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("profile", String(32), nullable=False),
)

# Establishment-level figures (TDBMS, keyed by FINESS) live apart from `observation`, which carries their
# aggregates by département, région, nation and ESMS category.
establishment = Table(
    "establishment",
    metadata,
    Column("finess", String(9), primary_key=True),
    Column("name", Text),
    Column("esms_category", String(8), nullable=False),
    Column("territory_id", String(32), nullable=False),
    Column("load_id", Integer, nullable=False),  # the load that first wrote it (removed with it)
    Index("ix_establishment_category", "esms_category", "territory_id"),
)

establishment_observation = Table(
    "establishment_observation",
    metadata,
    Column("finess", String(9), primary_key=True),
    Column("indicator_id", String(64), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("source_id", String(64), primary_key=True),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("status", String(32), nullable=False),
    Column("load_id", Integer, nullable=False),
    Index("ix_establishment_observation_load", "load_id"),
)

etl_load = Table(
    "etl_load",
    metadata,
    Column("load_id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(64), ForeignKey("source.source_id")),
    Column("adapter", String(32), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_loaded", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("observations_written", Integer, nullable=False, default=0),
    Column("periods", Text),
    Column("status", String(32), nullable=False),
)

etl_rejection = Table(
    "etl_rejection",
    metadata,
    Column("rejection_id", Integer, primary_key=True, autoincrement=True),
    Column("load_id", Integer, ForeignKey("etl_load.load_id"), nullable=False),
    Column("row_number", Integer),
    Column("column_name", Text),
    Column("value", Text),
    Column("reason", Text, nullable=False),
    Index("ix_rejection_load", "load_id"),
)

# One row: the store's version, bumped by every load and unload in its own transaction, so that every process
# reading the store (app workers, API) knows when to forget what it cached.
store_meta = Table(
    "store_meta",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)

# What a source code (BMO métier) or a bassin meant in each vintage of a series: series breaks are found by
# comparing consecutive vintages, and a figure is shown under the label of its own vintage.
vintage_label = Table(
    "vintage_label",
    metadata,
    Column("series", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # profession | territory
    Column("subject_id", String(64), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("label", Text),
    Column("scope", Text),
)

# Figures not comparable with the previous period of their series: (series, profession or territory, period).
series_break = Table(
    "series_break",
    metadata,
    Column("series", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # profession | territory
    Column("subject_id", String(64), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("note", Text, nullable=False),
)

# An HR director's own figures (« Mon établissement »), saved on request: a namespace of their own, never in
# `establishment`, `establishment_observation`, `observation` or `source`, so no published figure, aggregate,
# peer distribution, API row or export ever holds them. An upload is reached only by its private token, of which
# the store keeps the SHA-256 alone. Text ids (no integer keys, no foreign key to published tables): a private
# upload does not depend on how the published store was built. `load_id`: the `etl_load` row recording the save
# (its `source_id` NULL), so that `python -m etl unload` removes it too.
private_upload = Table(
    "private_upload",
    metadata,
    Column("upload_id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("load_id", Integer),
    Index("ix_private_upload_load", "load_id"),
)

private_figure = Table(
    "private_figure",
    metadata,
    Column("upload_id", Integer, ForeignKey("private_upload.upload_id"), primary_key=True),
    Column("finess", String(9), primary_key=True),
    Column("indicator_id", String(64), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("name", Text),
    Column("esms_category", String(8), nullable=False),
    Column("territory_id", String(32), nullable=False),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("status", String(32), nullable=False),
)

# The fact table holds integer surrogate keys: a load binds hundreds of thousands of rows, and small
# integer keys make both the insert and the unique index several times cheaper than text ids. Analysts
# use the `observations` view, which shows the contract's text ids. Referential integrity is guaranteed
# by the loader (every key comes from a dimension row written in the same transaction) and tested.
observation = Table(
    "observation",
    metadata,
    Column("indicator_key", Integer, nullable=False),
    Column("profession_key", Integer, nullable=False),
    Column("territory_key", Integer, nullable=False),
    Column("breakdown", String(64), nullable=False, default=""),
    Column("period", Integer, nullable=False),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("status", String(32), nullable=False),
    Column("is_derived", Integer, nullable=False),
    Column("source_key", Integer, nullable=False),
    Column("load_id", Integer, nullable=False),
    # One figure per key. On SQLite the table is clustered on that key (WITHOUT ROWID): one B-tree to
    # write instead of a table plus a unique index. The source comes first: a vintage's figures are one
    # contiguous range, so replacing or adding a vintage rewrites its own pages and not the whole table, and
    # every query names its sources (a series is a list of them), then the indicator, territory, profession.
    PrimaryKeyConstraint("source_key", "indicator_key", "territory_key", "profession_key", "period", "breakdown",
                         name="pk_observation"),
    sqlite_with_rowid=False,
)

OBSERVATION_COLUMNS = (
    "indicator_key", "profession_key", "territory_key", "breakdown", "period",
    "value", "numerator", "denominator", "status", "is_derived", "source_key", "load_id",
)

# A figure's series break in the `observations` view: the notes for its profession and its territory in its series
# and period (NULL when it is comparable with the previous period). The view is for SQL readers (analysts,
# `python -m etl sources`, tests that read the store by SQL) and shows ids only; the app, the API and the exports
# name rows in Python (`table.named`, whose `table.break_note` is this rule: tests/test_golden_table.py checks
# that both agree).
BREAK_JOINS = """
LEFT JOIN series_break bp ON bp.series = s.series AND bp.kind = 'profession' AND bp.subject_id = p.profession_id
     AND bp.period = o.period
LEFT JOIN series_break bt ON bt.series = s.series AND bt.kind = 'territory' AND bt.subject_id = t.territory_id
     AND bt.period = o.period
"""
BREAK_NOTE = "COALESCE(bp.note || ' ; ' || bt.note, bp.note, bt.note)"

OBSERVATIONS_VIEW_SQL = f"""
CREATE VIEW observations AS
SELECT i.indicator_id, p.profession_id, t.territory_id, t.level AS territory_level,
       NULLIF(o.breakdown, '') AS breakdown, o.period, o.value, o.numerator, o.denominator,
       o.status, o.is_derived, s.source_id, o.load_id, {BREAK_NOTE} AS series_break
FROM observation o
JOIN indicator i ON i.key = o.indicator_key
JOIN profession p ON p.key = o.profession_key
JOIN territory t ON t.key = o.territory_key
JOIN source s ON s.key = o.source_key
{BREAK_JOINS}"""
