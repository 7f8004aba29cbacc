"""Private uploads (« Mon établissement »): read one by its token, and nothing else.

An HR director's own figures, once saved, live in `private_upload` / `private_figure` only (see
`observatory.schema`); the ETL writes them (`etl.private`). Here is the one way to read them: by the
token handed out when they were saved. There is no listing, no cache (private figures never sit in a
process's memory beyond the request) and no other entry point: pages, exports and the API read published
tables only. The store keeps the SHA-256 of a token, never the token.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, inspect, select, text

from observatory.schema import private_figure, private_upload

# `secrets.token_urlsafe(24)`: 32 characters of the URL-safe base64 alphabet (192 random bits).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
UNIT_COLUMNS = ["finess", "indicator_id", "period", "value", "numerator", "denominator", "status"]
ESTABLISHMENT_COLUMNS = ["finess", "name", "esms_category", "territory_id"]


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str | None) -> bool:
    """A token as `etl.private` makes them (anything else is never looked up)."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


@dataclass(frozen=True)
class SavedUpload:
    upload_id: int
    file_name: str
    created_at: datetime
    units: pd.DataFrame  # finess, indicator_id, period, value, numerator, denominator, status
    establishments: pd.DataFrame  # finess, name, esms_category, territory_id


def read_upload(engine: Engine, token: str | None) -> SavedUpload | None:
    """The upload saved under `token`, or None (unknown, removed, malformed, or no private table yet)."""
    if not well_formed(token):
        return None
    if not inspect(engine).has_table("private_upload"):  # a store that never had a private save
        return None
    with engine.connect() as conn:
        upload = conn.execute(select(private_upload.c.upload_id, private_upload.c.file_name,
                                     private_upload.c.created_at)
                              .where(private_upload.c.token_sha256 == token_sha256(token))).first()
        if upload is None:
            return None
        rows = pd.read_sql(select(private_figure).where(private_figure.c.upload_id == upload.upload_id)
                           .order_by(private_figure.c.finess, private_figure.c.indicator_id,
                                     private_figure.c.period), conn)
    units = rows[UNIT_COLUMNS].astype({"period": "int64", "value": float, "numerator": float, "denominator": float})
    establishments = rows[ESTABLISHMENT_COLUMNS].drop_duplicates("finess", keep="last").reset_index(drop=True)
    return SavedUpload(int(upload.upload_id), upload.file_name, upload.created_at, units.reset_index(drop=True),
                       establishments)


def usage(engine: Engine) -> dict:
    """What the private space holds, for operators (`/health`): uploads, figures, and the bytes its tables and
    indexes take when the backend can say (SQLite's `dbstat`, PostgreSQL's `pg_total_relation_size`; else None).
    Counts only: nothing private is read."""
    if not inspect(engine).has_table("private_upload"):
        return {"private_table": False, "private_uploads": 0, "private_figures": 0, "private_bytes": 0}
    with engine.connect() as conn:
        uploads = conn.execute(select(func.count()).select_from(private_upload)).scalar_one()
        figures = conn.execute(select(func.count()).select_from(private_figure)).scalar_one()
        size = None
        try:
            if engine.dialect.name == "sqlite":
                names = conn.execute(text("SELECT name FROM sqlite_master WHERE tbl_name IN "
                                          "('private_figure', 'private_upload')")).scalars().all()
                size = sum(conn.execute(text("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = :n"),
                                        {"n": name}).scalar_one() for name in names)
            elif engine.dialect.name == "postgresql":
                size = conn.execute(text("SELECT pg_total_relation_size('private_figure') "
                                         "+ pg_total_relation_size('private_upload')")).scalar()
        except Exception:  # dbstat not compiled in: the counts still tell
            size = None
    return {"private_table": True, "private_uploads": int(uploads), "private_figures": int(figures),
            "private_bytes": None if size is None else int(size)}
