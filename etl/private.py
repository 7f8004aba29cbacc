"""The private space of own figures (« Mon établissement »), as the store holds it: a private load written
(`write_private_load`, the loader's private branch), removed (`remove_private`, `unload_private`), purged after
the retention (`purge_private`), bounded (`check_bounds`, `private_caps`).

A private save goes to `private_upload` / `private_figure` (one transaction, under a fresh
`secrets.token_urlsafe(24)` token of which the store keeps only the SHA-256) and to an `etl_load` row with no
source, so that `python -m etl unload LOAD_ID` removes it too. It never touches `establishment`,
`establishment_observation`, `observation` or `source`: no published figure, aggregate, peer distribution, API row
or export can hold it, and an upload whose FINESS is a published establishment leaves that establishment as
published.

A private save does not bump the store version: the version tells every process to forget its caches of
published figures, and a private save changes none (private figures are read uncached, by token); bumping
would also let any visitor flush every worker's caches at will. Rejected rows of a private save are shown to
its owner on the page and never stored (`etl_rejection` holds published loads' only).

Bounds (values and reasons in `etl/limits.py`): an upload holds at most 50 establishments, 10 years and 500 rows
— a whole TDBMS extract is refused before any comparison; a save purges uploads older than the retention first,
then refuses (nothing written) what would pass the private space's caps in uploads or figures.

Imported by the loader (below it: this module imports neither the loader nor `etl.uploads`), by `etl.uploads`
(the pages' facade) and by the CLI.
"""
from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select

from etl import limits
from etl.errors import LoadError, store_error
from etl.frames import Parsed
from etl.summary import LoadSummary
from observatory.private import ESTABLISHMENT_COLUMNS, UNIT_COLUMNS, token_sha256, usage, well_formed
from observatory.schema import etl_load, private_figure, private_upload
from observatory.store import StoreBusy, writing

STORE = "(entrepôt)"  # what a store fault names instead of the user's file


def refuse_beyond(code: str, file_name: str, count: int, most: int) -> None:
    """Refuse (`code`: one of the `too_many_…` texts) a count of an upload above its bound."""
    if count > most:
        raise LoadError(code, file_name, count=count, most=most)


def check_bounds(parsed: Parsed, file_name: str) -> None:
    """Refuse (`LoadError`) an upload that is not one establishment's (or a small group's) figures: too many
    rows read, FINESS or years. Cheap: counts only, before any comparison or write."""
    refuse_beyond("too_many_rows", file_name, parsed.rows_read, limits.MAX_UPLOAD_ROWS)
    refuse_beyond("too_many_establishments", file_name, parsed.units["finess"].nunique(),
                  limits.MAX_UPLOAD_ESTABLISHMENTS)
    refuse_beyond("too_many_years", file_name, parsed.units["period"].nunique(), limits.MAX_UPLOAD_YEARS)


def remove_private(engine: Engine, token: str | None) -> bool:
    """Remove the upload saved under `token` completely (figures, record, its `etl_load` row): True when there
    was one. One transaction, under the write lock. Raises `LoadError` (nothing removed) when the store cannot
    be written; `french_store_problem(error, "supprimé")` says why in French."""
    if not well_formed(token):
        return False
    try:
        with writing(engine) as conn:
            row = conn.execute(select(private_upload.c.upload_id, private_upload.c.load_id)
                               .where(private_upload.c.token_sha256 == token_sha256(token))).first()
            if row is None:
                return False
            remove_uploads(conn, [row.upload_id], row.load_id)
    except StoreBusy as error:
        raise store_error(STORE, str(error)) from None
    return True


def _cap(name: str, default: int) -> int:
    """A private-space cap: `etl/limits.py`'s value, or the operator's `OBSERVATORY_<NAME>`."""
    return int(os.environ.get(f"OBSERVATORY_{name}", default))


def private_caps() -> dict[str, int]:
    return {"max_uploads": _cap("PRIVATE_MAX_UPLOADS", limits.MAX_PRIVATE_UPLOADS),
            "max_figures": _cap("PRIVATE_MAX_FIGURES", limits.MAX_PRIVATE_FIGURES),
            "max_figures_per_save": limits.MAX_PRIVATE_FIGURES_PER_SAVE,
            "retention_days": _cap("PRIVATE_RETENTION_DAYS", limits.PRIVATE_RETENTION_DAYS)}


def purge_expired(conn: Connection, now: datetime | None = None) -> int:
    """Remove the private uploads older than the retention (figures, record, `etl_load` row); how many."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    cutoff = now - timedelta(days=private_caps()["retention_days"])
    old = conn.execute(select(private_upload.c.upload_id, private_upload.c.load_id)
                       .where(private_upload.c.created_at < cutoff)).all()
    for row in old:
        remove_uploads(conn, [row.upload_id], row.load_id)
    return len(old)


def purge_private(engine: Engine, now: datetime | None = None) -> int:
    """`python -m etl purge-private`: the expired private uploads removed, in one transaction."""
    if not usage(engine)["private_table"]:
        return 0
    with engine.begin() as conn:
        return purge_expired(conn, now)


def _check_quota(conn: Connection, file_name: str, figures: int) -> None:
    caps = private_caps()
    uploads = conn.execute(select(func.count()).select_from(private_upload)).scalar_one()
    stored = conn.execute(select(func.count()).select_from(private_figure)).scalar_one()
    if uploads + 1 > caps["max_uploads"] or stored + figures > caps["max_figures"]:
        raise LoadError("private_full", file_name, uploads=uploads, figures=stored, max_uploads=caps["max_uploads"],
                        max_figures=caps["max_figures"], retention_days=caps["retention_days"])


def remove_uploads(conn: Connection, upload_ids: list[int], load_id: int | None) -> dict[str, int]:
    removed = {
        "private_figure": conn.execute(delete(private_figure).where(
            private_figure.c.upload_id.in_(upload_ids))).rowcount,
        "private_upload": conn.execute(delete(private_upload).where(
            private_upload.c.upload_id.in_(upload_ids))).rowcount,
    }
    if load_id is not None:
        removed["etl_load"] = conn.execute(delete(etl_load).where(etl_load.c.load_id == load_id)).rowcount
    return removed


def unload_private(conn: Connection, load_id: int) -> dict[str, int] | None:
    """For `unload`: remove the private upload(s) a load saved; None when the load is not a private save."""
    uploads = conn.execute(select(private_upload.c.upload_id)
                           .where(private_upload.c.load_id == load_id)).scalars().all()
    if not uploads:
        return None
    return remove_uploads(conn, list(uploads), load_id)


def write_private_load(conn: Connection, parsed: Parsed, file_name: str, sha: str):
    """The loader's private branch (`load_file(..., scope="private")`), in the load's transaction: the figures
    go to the private tables under a new token, an `etl_load` row (no source) records the save. Returns the
    `LoadSummary`, carrying the token."""
    if parsed.units.empty or len(parsed.observations):
        raise LoadError("not_own_figures", file_name, adapter=parsed.adapter)
    check_bounds(parsed, file_name)
    now = datetime.now(UTC).replace(tzinfo=None)
    purge_expired(conn, now)  # expired uploads go first, in the save's transaction (under the write lock)
    _check_quota(conn, file_name, len(parsed.units))
    rows_rejected = parsed.rows_read - parsed.rows_loaded
    periods = parsed.periods
    load_id = conn.execute(insert(etl_load).values(
        source_id=None, adapter=parsed.adapter, file_name="(espace privé)", file_sha256=sha, started_at=now,
        finished_at=now, rows_read=parsed.rows_read, rows_loaded=parsed.rows_loaded, rows_rejected=rows_rejected,
        observations_written=0, periods=json.dumps(periods), status="private",
    )).inserted_primary_key[0]
    token = secrets.token_urlsafe(24)
    upload_id = conn.execute(insert(private_upload).values(
        token_sha256=token_sha256(token), file_name=file_name, file_sha256=sha, created_at=now, load_id=load_id,
    )).inserted_primary_key[0]
    figures = parsed.units[UNIT_COLUMNS].merge(parsed.establishments[ESTABLISHMENT_COLUMNS], on="finess", how="left")
    figures = figures.astype(object).where(figures.notna(), None)
    conn.execute(insert(private_figure), [{**row, "upload_id": upload_id, "period": int(row["period"])}
                                          for row in figures.to_dict("records")])
    return LoadSummary(
        load_id=load_id, adapter=parsed.adapter, source_id="(privé)", file_name=file_name, file_sha256=sha,
        rows_read=parsed.rows_read, rows_loaded=parsed.rows_loaded, rows_rejected=rows_rejected, published=0,
        derived=0, periods=periods, replaced_loads=[], seconds=0.0,
        first_rejections=parsed.rejections.head(5).to_dict("records"), private_token=token,
        private_upload_id=upload_id)

