"""Loading one file: parse, validate, replace, aggregate and record, all in one transaction.

A failure at any point (bad layout, a fault mid-write) rolls the whole load back, so the store is exactly
as before. Reloading a file replaces the earlier rows of the same adapter for the same periods.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from etl import adapters, breaks
from etl.errors import LoadError, store_error
from etl.frames import Parsed
from etl.reference import Reference, load_reference, parents_first, upsert
from etl.summary import LoadSummary
from observatory import catalogue, sources
from observatory.aggregate import parent_array, roll_up
from observatory.schema import (
    STATUSES,
    establishment,
    establishment_observation,
    etl_load,
    etl_rejection,
    indicator,
    observation,
    profession,
    profession_crosswalk,
    series_break,
    source,
    store_meta,
    territory,
    vintage_label,
)
from observatory.store import OutdatedStore, StoreBusy, init_store, writing

Progress = Callable[[str], None]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_reference(conn: Connection) -> None:
    """Load the reference tables when the store has none (so `load` works on an empty store); otherwise
    bring the catalogue and the fixed sources up to date with the code (cheap, and a store built by an
    older version then knows every indicator an adapter may write)."""
    if conn.execute(select(func.count()).select_from(territory)).scalar_one() == 0:
        load_reference(conn)
    else:
        upsert(conn, indicator, pd.DataFrame([i.as_row() for i in catalogue.INDICATORS]))
        rows = [sources.static(s) for s in sources.STATIC]
        # A source whose vintage comes from its file (None here) keeps the vintage its last load wrote.
        upsert(conn, source, pd.DataFrame([r for r in rows if r["vintage"] is not None]))
        upsert(conn, source, pd.DataFrame([r for r in rows if r["vintage"] is None]).drop(columns="vintage"))


PRIVATE_BY_DEFAULT = ("tdbms",)  # an establishment's own figures, when loaded by hand


def load_file(
    engine: Engine, path: Path | str, adapter_name: str | None = None, *, progress: Progress | None = None,
    illustrative: bool = False, scope: str | None = None, replace: bool = False,
) -> LoadSummary:
    """Load one file through its adapter; raises `LoadError` (nothing written) when it cannot be loaded.

    `illustrative`: a bundled demo file (its rows get status `illustrative`, its source says so).
    `scope`: `published` or `private` (own figures, kept apart and removable with `unload`); by default
    private for the adapters in PRIVATE_BY_DEFAULT, published otherwise.
    `replace`: accept a file that would remove more than half of the published rows it replaces (by default
    such a file is refused: a truncated or mislabelled file must not wipe a vintage).
    A file with no loadable row is refused. The whole load holds the store's write lock (`writing`): a
    concurrent load waits for it, up to `lock_timeout()`, then fails with one clear line.
    """
    path = Path(path)
    note = progress or (lambda _step: None)
    started = time.perf_counter()
    if not path.is_file():
        raise LoadError("no_such_file", str(path))
    adapter = adapters.get(adapter_name) if adapter_name else adapters.recognise(path)
    try:
        init_store(engine)
    except OutdatedStore as error:
        raise LoadError("store_outdated", _store_name(engine), problem=error) from None
    sha = file_sha256(path)
    try:
        with writing(engine) as conn:
            ensure_reference(conn)
            note("read and validate")
            parsed = adapter.parse(path, Reference.from_store(conn))
            _refuse_empty(parsed, path)
            summary = _scoped_write(conn, parsed, path, sha, note, illustrative=illustrative, scope=scope,
                                    replace=replace)
    except StoreBusy as error:
        raise store_error(_store_name(engine), str(error)) from None
    summary.seconds = time.perf_counter() - started
    return summary


def _store_name(engine: Engine) -> str:
    """The store as a user knows it: its file (without SQLite URI decorations) or its URL without password."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        return engine.url.database.removeprefix("file:").split("?")[0]
    return engine.url.render_as_string(hide_password=True)


def _refuse_empty(parsed: Parsed, path: Path) -> None:
    """A file with no loadable row says nothing: refuse it rather than record an empty load."""
    if parsed.rows_loaded > 0:
        return
    first = parsed.rejections.head(1)
    why = (f"; first rejection: row {int(first.row_number.iloc[0])}, column {first.column_name.iloc[0]!r}: "
           f"{first.reason.iloc[0]}" if len(first) else "")
    raise LoadError("no_loadable_row", path.name, read=parsed.rows_read,
                    rejected=parsed.rows_read - parsed.rows_loaded, why=why)


def _scoped_write(conn: Connection, parsed: Parsed, path: Path, sha: str, note: Progress, *, illustrative: bool,
                  scope: str | None, replace: bool) -> LoadSummary:
    _apply_scope(parsed, path, sha, illustrative=illustrative,
                 scope=scope or ("private" if parsed.adapter in PRIVATE_BY_DEFAULT else "published"))
    note("write")
    return _write(conn, parsed, path, sha, note, replace=replace)


def _apply_scope(parsed: Parsed, path: Path, sha: str, *, illustrative: bool, scope: str) -> None:
    """Pick the source a load is filed under, and mark demo rows as illustrative.

    Demo data is never `secret` (that claims a suppression by a statistical producer): an `nd` cell of an
    illustrative file means « not reported » and becomes `illustrative` with no value; its numerator and
    denominator stay only where the file gives them.
    """
    if illustrative:
        parsed.source = sources.static(f"{parsed.adapter}_illustrative")
        for frame in (parsed.observations, parsed.units):
            if frame.empty:
                continue
            status = frame["status"].to_numpy(object)
            unreported = status == "secret"
            frame["status"] = np.where(np.isin(status, ["ok", "provisional", "estimated", "secret"]),
                                       "illustrative", status)
            frame["value"] = frame["value"].where(~unreported)
    elif scope == "private":  # own figures: no source row, tables of their own (etl/private.py)
        parsed.source = {"source_id": None, "scope": "private", "adapter": parsed.adapter}
    elif scope != "published":
        raise LoadError("unknown_scope", path.name, scope=scope)


def _write(conn: Connection, parsed: Parsed, path: Path, sha: str, note: Progress, *,
           replace: bool = False) -> LoadSummary:
    if parsed.source.get("scope") == "private":  # never into published tables
        from etl.private import write_private_load  # imported by private saves only (~40 ms a published load skips)

        return write_private_load(conn, parsed, path.name, sha)
    now = datetime.now(UTC).replace(tzinfo=None)
    upsert(conn, source, pd.DataFrame([parsed.source]))
    source_id = parsed.source["source_id"]
    periods = parsed.periods
    load_id = conn.execute(
        insert(etl_load).values(
            source_id=source_id, adapter=parsed.adapter, file_name=path.name, file_sha256=sha,
            started_at=now, rows_read=parsed.rows_read, status="running", periods=json.dumps(periods),
        )
    ).inserted_primary_key[0]
    replaced = _replace_earlier(conn, parsed, source_id, periods, load_id, path.name, replace=replace)
    territories, professions = parsed.territories, parsed.professions
    if _has_later_vintage(conn, parsed):  # names and labels come from the latest vintage that carries them
        territories = _only_new(conn, territories, territory, "territory_id")
        professions = _only_new(conn, professions, profession, "profession_id")
    upsert(conn, territory, parents_first(territories))
    upsert(conn, profession, parents_first(professions))
    upsert(conn, profession_crosswalk, parsed.crosswalk)
    record_vintage(conn, parsed.source.get("series") or source_id, parsed.labels, periods)

    base = _to_keys(conn, parsed.observations)
    aggregation = dict(conn.execute(select(indicator.c.key, indicator.c.aggregation)).all())
    territory_parent = _parent_array(conn, territory, "territory_id")
    profession_parent = _parent_array(conn, profession, "profession_id")
    source_key = conn.execute(select(source.c.key).where(source.c.source_id == source_id)).scalar_one()
    note("aggregate")
    units, unit_parent, breakdown_parent = _write_units(conn, parsed, source_id, load_id, territory_parent)
    inputs = (pd.concat([base, units], ignore_index=True) if len(units) else base, unit_parent,
              profession_parent, aggregation, breakdown_parent)
    # The roll-up (pandas, in a thread) runs while the published rows are inserted (SQLite, which releases the
    # GIL while it writes): neither reads what the other makes. Its exception, if any, is raised here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="roll-up") as pool:
        rolling = pool.submit(roll_up, *inputs)
        note("insert observations")
        insert_observations(conn, base, source_key, load_id)
        derived = rolling.result()
    if len(units):  # establishment-level rows stay in their own table; small totals are secret
        from observatory import secrecy  # TDBMS loads only: a BMO load does not import it

        derived = derived.loc[derived["territory_key"].to_numpy() < len(territory_parent)]
        counts = secrecy.establishment_counts(units, unit_parent, breakdown_parent)
        derived = secrecy.protect(derived, secrecy.secret_cells(derived, counts, unit_parent, breakdown_parent))
    insert_observations(conn, derived, source_key, load_id)
    rejections = parsed.rejections
    recorded = pd.concat([rejections, parsed.notes], ignore_index=True) if len(parsed.notes) else rejections
    if len(recorded):
        conn.execute(insert(etl_rejection), [
            {"load_id": load_id, "row_number": int(r.row_number), "column_name": r.column_name,
             "value": r.value, "reason": r.reason}
            for r in recorded.itertuples(index=False)
        ])
    rows_rejected = parsed.rows_read - parsed.rows_loaded
    bump_version(conn)
    conn.execute(
        update(etl_load).where(etl_load.c.load_id == load_id).values(
            finished_at=datetime.now(UTC).replace(tzinfo=None), rows_loaded=parsed.rows_loaded,
            rows_rejected=rows_rejected, observations_written=len(base) + len(derived), status="loaded",
        )
    )
    return LoadSummary(
        load_id=load_id, adapter=parsed.adapter, source_id=source_id, file_name=path.name, file_sha256=sha,
        rows_read=parsed.rows_read, rows_loaded=parsed.rows_loaded, rows_rejected=rows_rejected,
        published=int((base['is_derived'] == 0).sum()),
        derived=int((base['is_derived'] == 1).sum()) + len(derived), periods=periods,
        replaced_loads=replaced, seconds=0.0,
        first_rejections=rejections.head(5).to_dict("records"), notes=len(parsed.notes),
    )


def bump_version(conn: Connection) -> None:
    """Tell every reader that the store changed (in the writer's transaction: seen at commit, not before)."""
    if conn.execute(update(store_meta).where(store_meta.c.name == "version")
                    .values(value=store_meta.c.value + 1)).rowcount == 0:
        conn.execute(insert(store_meta).values(name="version", value=1))


def _has_later_vintage(conn: Connection, parsed: Parsed) -> bool:
    series = parsed.source.get("series")
    if not series or parsed.labels.empty:
        return False
    latest = conn.execute(select(func.max(vintage_label.c.period)).where(vintage_label.c.series == series)).scalar()
    return latest is not None and latest > max(parsed.periods)


def _only_new(conn: Connection, frame: pd.DataFrame, table, id_column: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    known = set(conn.execute(select(table.c[id_column]).where(
        table.c[id_column].in_(frame[id_column].tolist()))).scalars())
    return frame[~frame[id_column].isin(known)]


def record_vintage(conn: Connection, series: str, labels: pd.DataFrame, periods: list[int]) -> None:
    """Keep what each code and bassin meant in these periods, then recompute the series' breaks."""
    if labels.empty:
        return
    columns = ["series", "kind", "subject_id", "code", "period", "label", "scope"]
    rows = labels.drop_duplicates(["kind", "subject_id", "code", "period"]).assign(series=series)[columns]
    incoming = {tuple(None if v is None or v != v else (int(v) if k == "period" else str(v))
                      for k, v in zip(columns, row)) for row in rows.itertuples(index=False, name=None)}
    stored = set(conn.execute(select(*[vintage_label.c[c] for c in columns]).where(
        vintage_label.c.series == series, vintage_label.c.period.in_(periods))).all())
    if incoming == stored:  # a reload of the same vintage: its labels, and so the breaks, are unchanged
        return
    conn.execute(delete(vintage_label).where(vintage_label.c.series == series, vintage_label.c.period.in_(periods)))
    conn.execute(insert(vintage_label), [dict(zip(columns, row)) for row in incoming])
    refresh_breaks(conn, series)


def refresh_breaks(conn: Connection, series: str) -> None:
    """Recompute `series_break` for one series from every vintage the store holds."""
    labels = pd.read_sql(select(vintage_label).where(vintage_label.c.series == series), conn)
    tree = pd.read_sql(select(profession.c.profession_id, profession.c.parent_id, profession.c.is_social_work), conn)
    parent = dict(zip(tree.profession_id, tree.parent_id))
    social = set(tree.loc[tree.is_social_work.astype(bool), "profession_id"])
    crosswalk = pd.read_sql(select(profession_crosswalk.c.profession_id, profession_crosswalk.c.break_year,
                                   profession_crosswalk.c.break_note)
                            .where(profession_crosswalk.c.break_year.is_not(None)), conn)
    found = breaks.detect(labels, parent, social, crosswalk)
    conn.execute(delete(series_break).where(series_break.c.series == series))
    if len(found):
        conn.execute(insert(series_break), [
            {"series": series, "kind": r.kind, "subject_id": r.subject_id, "period": int(r.period), "note": r.note}
            for r in found.itertuples(index=False)])


def _parent_array(conn: Connection, table, id_column: str):
    child, parent = table.alias("c"), table.alias("p")
    rows = conn.execute(
        select(child.c.key, parent.c.key).select_from(
            child.outerjoin(parent, parent.c[id_column] == child.c.parent_id))
    ).all()
    return parent_array(dict(rows))


def _write_units(conn: Connection, parsed: Parsed, source_id: str, load_id: int, territory_parent: np.ndarray):
    """Store establishment-level figures; return them keyed for the roll-up.

    Each establishment becomes a pseudo-territory below its département (keys after the real ones), and
    its figures carry the breakdown `esms:<category>`, whose parent is the whole population: so one
    roll-up gives every département, région and nation total, by category and for all categories.
    """
    units = parsed.units
    if units.empty:
        return units, territory_parent, None
    establishments = parsed.establishments
    first_load = dict(conn.execute(select(establishment.c.finess, establishment.c.load_id)
                                   .where(establishment.c.finess.in_(establishments["finess"].tolist()))).all())
    upsert(conn, establishment, establishments.assign(
        load_id=[first_load.get(f, load_id) for f in establishments["finess"]]))
    conn.execute(insert(establishment_observation), [
        {**row, "source_id": source_id, "load_id": load_id}
        for row in units.astype(object).where(units.notna(), None).to_dict("records")])
    category = dict(zip(establishments["finess"], establishments["esms_category"]))
    place = dict(zip(establishments["finess"], establishments["territory_id"]))
    territory_key = dict(conn.execute(select(territory.c.territory_id, territory.c.key)).all())
    finess = sorted(establishments["finess"])
    pseudo = {f: len(territory_parent) + i for i, f in enumerate(finess)}
    parents = np.concatenate([territory_parent, [territory_key[place[f]] for f in finess]]).astype(np.int64)
    ensemble = conn.execute(select(profession.c.key).where(profession.c.profession_id == "ensemble")).scalar_one()
    keys = dict(conn.execute(select(indicator.c.indicator_id, indicator.c.key)).all())
    keyed = pd.DataFrame({
        "indicator_key": units["indicator_id"].map(keys).to_numpy(np.int64),
        "profession_key": ensemble,
        "territory_key": units["finess"].map(pseudo).to_numpy(np.int64),
        "breakdown": ("esms:" + units["finess"].map(category)).to_numpy(object),
        "period": units["period"].to_numpy(np.int64),
        "value": units["value"], "numerator": units["numerator"], "denominator": units["denominator"],
        "status": units["status"], "is_derived": 1,
    })
    breakdown_parent = {f"esms:{c}": "" for c in set(category.values())}
    return keyed, parents, breakdown_parent


def _to_keys(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Replace the text ids of an adapter's frame by the store's integer keys."""
    out = frame.drop(columns=["indicator_id", "profession_id", "territory_id"])
    for table, id_column in ((indicator, "indicator_id"), (profession, "profession_id"),
                             (territory, "territory_id")):
        ids = frame[id_column]
        wanted = ids.unique().tolist()
        mapping = dict(conn.execute(select(table.c[id_column], table.c.key)
                                    .where(table.c[id_column].in_(wanted))).all())
        missing = set(wanted) - set(mapping)
        if missing:  # an adapter bug, not bad input: adapters reject unknown codes before this point
            raise RuntimeError(f"{id_column} not in the store: {sorted(missing)[:5]}")
        codes, uniques = pd.factorize(ids)
        out[id_column.replace("_id", "_key")] = np.array([mapping[u] for u in uniques], np.int64)[codes]
    return out


def _replace_earlier(conn: Connection, parsed: Parsed, source_id: str, periods: list[int], new_load: int,
                     file_name: str, *, replace: bool) -> list[int]:
    """Remove the rows that earlier loads of the same adapter and source wrote for `periods`.

    Loads left with no period of their own are dropped with their rejections, so that loading the same
    file twice leaves the same row counts everywhere. A file bringing fewer than half the published rows it
    would remove is refused unless `replace` (contract: « Replacing a vintage »).
    """
    adapter = parsed.adapter
    earlier = conn.execute(
        select(etl_load.c.load_id, etl_load.c.periods)
        .where(etl_load.c.adapter == adapter, etl_load.c.source_id == source_id,
               etl_load.c.load_id != new_load)
    ).all()
    if not earlier:
        return []
    ids = [load_id for load_id, _ in earlier]
    # The table is clustered on the source first: the earlier rows of this source are one range.
    source_key = conn.execute(select(source.c.key).where(source.c.source_id == source_id)).scalar_one()
    if not replace:
        _refuse_shrinking(conn, parsed, source_key, periods, ids, file_name)
    conn.execute(delete(observation).where(observation.c.source_key == source_key,
                                           observation.c.period.in_(periods), observation.c.load_id.in_(ids)))
    conn.execute(delete(establishment_observation).where(establishment_observation.c.load_id.in_(ids),
                                                         establishment_observation.c.period.in_(periods)))
    superseded = [load_id for load_id, p in earlier if set(json.loads(p or "[]")) <= set(periods)]
    if superseded:
        conn.execute(delete(etl_rejection).where(etl_rejection.c.load_id.in_(superseded)))
        conn.execute(delete(etl_load).where(etl_load.c.load_id.in_(superseded)))
        conn.execute(update(establishment).where(establishment.c.load_id.in_(superseded))
                     .values(load_id=new_load))
    return superseded


def _refuse_shrinking(conn: Connection, parsed: Parsed, source_key: int, periods: list[int], loads: list[int],
                      file_name: str) -> None:
    """Refuse a file that would replace a vintage by less than half of its published rows."""
    old = conn.execute(select(func.count()).select_from(observation).where(
        observation.c.source_key == source_key, observation.c.period.in_(periods),
        observation.c.load_id.in_(loads), observation.c.is_derived == 0)).scalar_one()
    old += conn.execute(select(func.count()).select_from(establishment_observation).where(
        establishment_observation.c.load_id.in_(loads), establishment_observation.c.period.in_(periods))).scalar_one()
    new = int((parsed.observations["is_derived"] == 0).sum()) + len(parsed.units)
    if old and new * 2 < old:
        raise LoadError("would_shrink", file_name, old=old, source=parsed.source["source_id"], periods=periods,
                        new=new)


def unload(engine: Engine, load_id: int) -> dict[str, int]:
    """Remove a load completely: its figures, aggregates, rejections, record, and the establishments it
    brought; for a private save, its private upload and figures. Returns the rows removed per table. One
    transaction."""
    try:
        with writing(engine) as conn:
            return _unload(conn, load_id)
    except StoreBusy as error:
        raise store_error(_store_name(engine), str(error)) from None


def _unload(conn: Connection, load_id: int) -> dict[str, int]:
    row = conn.execute(select(etl_load.c.source_id).where(etl_load.c.load_id == load_id)).first()
    if row is None:
        raise LoadError("no_such_load", f"load {load_id}")
    from etl.private import unload_private  # imported when unloading only, as for a private save above

    private = unload_private(conn, load_id)  # a private save: its own tables only, nothing published to redo
    if private is not None:
        return private
    removed = {
        "observation": conn.execute(delete(observation).where(observation.c.load_id == load_id)).rowcount,
        "establishment_observation": conn.execute(delete(establishment_observation).where(
            establishment_observation.c.load_id == load_id)).rowcount,
        "etl_rejection": conn.execute(delete(etl_rejection).where(etl_rejection.c.load_id == load_id)).rowcount,
    }
    still_used = select(establishment_observation.c.finess).where(
        establishment_observation.c.finess == establishment.c.finess).exists()
    removed["establishment"] = conn.execute(delete(establishment).where(
        establishment.c.load_id == load_id, ~still_used)).rowcount
    removed["etl_load"] = conn.execute(delete(etl_load).where(etl_load.c.load_id == load_id)).rowcount
    source_id = row.source_id
    _forget_vintages(conn, source_id)
    bump_version(conn)
    if source_id not in sources.STATIC and conn.execute(
            select(func.count()).select_from(etl_load).where(etl_load.c.source_id == source_id)).scalar_one() == 0:
        removed["source"] = conn.execute(delete(source).where(source.c.source_id == source_id)).rowcount
    return removed


def _forget_vintages(conn: Connection, source_id: str) -> None:
    """After an unload: drop the labels of periods the series no longer holds, and recompute its breaks."""
    series = conn.execute(select(source.c.series).where(source.c.source_id == source_id)).scalar()
    if not series:
        return
    held = set(conn.execute(
        select(observation.c.period).distinct().join(source, source.c.key == observation.c.source_key)
        .where(source.c.series == series)).scalars())
    gone = conn.execute(select(vintage_label.c.period).distinct().where(
        vintage_label.c.series == series)).scalars().all()
    gone = [p for p in gone if p not in held]
    if gone:
        conn.execute(delete(vintage_label).where(vintage_label.c.series == series, vintage_label.c.period.in_(gone)))
        refresh_breaks(conn, series)


def _placeholders(conn: Connection, n: int) -> str:
    style = conn.dialect.paramstyle
    if style == "qmark":
        return ", ".join("?" * n)
    if style in ("format", "pyformat"):
        return ", ".join(["%s"] * n)
    if style == "numeric":
        return ", ".join(f":{i + 1}" for i in range(n))
    raise NotImplementedError(f"paramstyle {style}")


def insert_observations(conn: Connection, frame: pd.DataFrame, source_key: int, load_id: int) -> int:
    """Bulk insert: the hot path of every load.

    The driver binds every parameter of every row in Python, and that is what a load of 300,000 rows
    spends its time on. So rows are grouped by what they share (indicator, period, status, derived or
    not, and which of the parts and the breakdown they carry), and each group is one `executemany` (of
    BATCH-row statements) straight into `observation` that binds only what varies (profession, territory,
    value, and the parts or the breakdown when there are any): the shared values are written into the
    statement as literals (integers, and a status of the schema's list; any other status is bound). Rows go
    in in key order (the table is clustered on it). No staging table: copying from one costs more than it
    saves. PostgreSQL takes them by COPY instead (`_copy_observations`).
    """
    if frame.empty:
        return 0
    cursor = conn.connection.driver_connection.cursor()  # same connection, same transaction
    if conn.dialect.name == "postgresql":
        return _copy_observations(cursor, frame, source_key, load_id)
    breakdown = frame["breakdown"].fillna("").to_numpy(object)
    breakdown_order = (np.zeros(len(frame), dtype=np.int64) if not breakdown.any()
                       else pd.factorize(breakdown, sort=True)[0])
    order = np.lexsort((breakdown_order, frame["period"].to_numpy(),
                        frame["profession_key"].to_numpy(), frame["territory_key"].to_numpy(),
                        frame["indicator_key"].to_numpy()))
    columns = {c: frame[c].to_numpy()[order] for c in (
        "indicator_key", "profession_key", "territory_key", "period", "value", "numerator", "denominator",
        "status", "is_derived")}
    columns["breakdown"] = breakdown[order]
    # Groups of rows sharing indicator, period, derivation, status and shape, as one packed integer each.
    status_code, statuses = pd.factorize(columns["status"])
    parts_flag = ~(np.isnan(columns["numerator"].astype(float)) & np.isnan(columns["denominator"].astype(float)))
    breakdown_flag = columns["breakdown"] != ""
    period_code, periods = pd.factorize(columns["period"])
    indicator_code, indicators = pd.factorize(columns["indicator_key"])
    packed = ((((indicator_code * len(periods) + period_code) * 2 + columns["is_derived"].astype(np.int64))
               * len(statuses) + status_code) * 2 + parts_flag) * 2 + breakdown_flag
    _groups, first_row, group_of_row = np.unique(packed, return_index=True, return_inverse=True)
    rows_of_group = np.split(np.argsort(group_of_row, kind="stable"), np.cumsum(np.bincount(group_of_row))[:-1])
    for rows, first in zip(rows_of_group, first_row):
        status = str(columns["status"][first])
        names = ["profession_key", "territory_key", "value"] + (
            ["numerator", "denominator"] if parts_flag[first] else []) + (
            ["breakdown"] if breakdown_flag[first] else [])
        shared = {"indicator_key": str(int(columns["indicator_key"][first])),
                  "period": str(int(columns["period"][first])),
                  "is_derived": str(int(columns["is_derived"][first])),
                  "source_key": str(int(source_key)), "load_id": str(int(load_id)),
                  **({} if breakdown_flag[first] else {"breakdown": "''"})}
        values = [_as_list(columns[c][rows]) for c in names]
        if status in STATUSES:
            shared["status"] = f"'{status}'"
        else:
            names.append("status")
            values.append([status] * len(rows))
        _insert_batches(conn, cursor, f"INSERT INTO observation ({', '.join(names + list(shared))}) VALUES ",
                        ", ".join(shared.values()), values)
    cursor.close()
    return len(frame)


COPY_COLUMNS = ("indicator_key", "profession_key", "territory_key", "breakdown", "period", "value", "numerator",
                "denominator", "status", "is_derived")


def _copy_observations(cursor, frame: pd.DataFrame, source_key: int, load_id: int) -> int:
    """PostgreSQL's bulk path: one `COPY … FROM STDIN` (psycopg encodes the rows in C) instead of the batched
    INSERTs, for the same rows and values (NaN as NULL, no breakdown as ''): a full build on the test cluster
    took 27–32 s instead of 40 s."""
    values = {c: _as_list(frame[c].to_numpy()) for c in COPY_COLUMNS if c != "breakdown"}
    values["breakdown"] = frame["breakdown"].fillna("").to_numpy(object).tolist()
    count = len(frame)
    columns = [values[c] for c in COPY_COLUMNS] + [[int(source_key)] * count, [int(load_id)] * count]
    with cursor.copy(f"COPY observation ({', '.join(COPY_COLUMNS)}, source_key, load_id) FROM STDIN") as copy:
        for row in zip(*columns):
            copy.write_row(row)
    cursor.close()
    return count


BATCH = 200  # rows per INSERT statement: one statement step binds 200 rows (at most 1,200 parameters)


def _insert_batches(conn: Connection, cursor, head: str, literals: str, columns: list[list]) -> None:
    """Insert the rows whose values are `columns` (one list per bound column), BATCH rows per statement
    (`VALUES (…), (…), …`): the driver then steps the statement once per BATCH rows instead of once per row,
    which halves what SQLite's binding costs per row. The rows go in in their order."""
    width, count = len(columns), len(columns[0])
    flat = list(chain.from_iterable(zip(*columns)))  # row after row

    def statement(rows: int) -> str:
        marks = _placeholders(conn, width * rows).split(", ")
        return head + ", ".join(f"({', '.join(marks[i:i + width])}, {literals})" for i in range(0, len(marks), width))

    full = count - count % BATCH
    if full:
        step = width * BATCH
        cursor.executemany(statement(BATCH), (flat[i:i + step] for i in range(0, width * full, step)))
    if count > full:
        cursor.execute(statement(count - full), flat[width * full:])


def _as_list(values: np.ndarray) -> list:
    """Python values for the driver: numbers as int or float, NaN as None."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64).tolist()
    if values.dtype.kind == "f":
        out = values.tolist()
        for i in np.flatnonzero(np.isnan(values)).tolist():
            out[i] = None
        return out
    return values.tolist()
