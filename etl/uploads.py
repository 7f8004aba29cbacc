"""The ETL as the web app sees it (« Mon établissement » and `/health`): the only module pages and `app.py`
import from `etl` (tests/test_code_shape.py).

An HR director's TDBMS extract (or the observatory's template) is read by the `tdbms` adapter in a temporary
folder that is always removed (`preview`: French messages, never an exception); saved on request only
(`save_private`: the loader's path, `python -m etl load --scope private`), read back (`read_private`) and removed
(`remove_private`) by its token. Every refusal is a `LoadError` whose French sentence comes from
`etl.errors.TEXTS` (`french_problem`); rejected rows are said in French too (`rejection_messages`). Uploads are
bounded before any parsing (rows counted in the raw CSV, a workbook's decompressed bytes) and saves are
rate-limited per client (`may_save`).
"""
from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from etl import limits
from etl.adapters import tdbms
from etl.errors import LoadError, store_error
from etl.loader import load_file
from etl.private import STORE, check_bounds, private_caps, refuse_beyond, remove_private
from etl.reference import Reference
from etl.summary import private_link
from observatory.private import ESTABLISHMENT_COLUMNS, UNIT_COLUMNS, SavedUpload, read_upload, usage
from observatory.store import busy_reason, write_problem

__all__ = [
    "LoadError", "Preview", "build_store", "french_problem", "french_rate_limits", "french_store_problem",
    "may_save", "preview", "private_link", "private_status", "read_private", "remove_private", "rules_sentence",
    "save_private",
]

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx")


# ---------------------------------------------------------------------------------------------------------
# French messages for the page, from etl/errors.py (the adapters and the loader speak English to the CLI)

def french_reason(rejection) -> str:
    """A rejected row's reason in French (`etl.errors.REASONS`), or as the adapter wrote it when it has none."""
    french = getattr(rejection, "french", None)
    return french if isinstance(french, str) else rejection.reason


def french_store_problem(error: LoadError, nothing: str = "enregistré") -> str | None:
    """« l'entrepôt est en lecture seule : rien n'a été enregistré » (or `supprimé`) for a store fault, else None."""
    return error.french_text(nothing=nothing) if error.store_fault else None


def french_problem(error: LoadError) -> str:
    """One French sentence for why a file cannot be read or saved (`etl.errors.TEXTS`)."""
    return error.french


# ---------------------------------------------------------------------------------------------------------
# Reading an upload (never stored)

@dataclass
class Preview:
    """An upload as read: its figures (units), its establishments, and French messages for the page."""

    units: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNIT_COLUMNS))
    establishments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ESTABLISHMENT_COLUMNS))
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.units) > 0


def _check(content: bytes, file_name: str, max_bytes: int | None) -> None:
    if Path(file_name).suffix.lower() not in SUFFIXES:
        raise LoadError("not_upload_format", file_name)
    if max_bytes is not None and len(content) > max_bytes:
        raise LoadError("upload_too_large", file_name, size_mb=len(content) / 1e6, most_mb=max_bytes / 1e6)
    if not content:
        raise LoadError("empty_file", file_name)
    if Path(file_name).suffix.lower() == ".csv":  # lines counted in the raw bytes, before any parsing
        lines = max(content.count(b"\n"), content.count(b"\r")) + (not content.endswith((b"\n", b"\r")))
        refuse_beyond("too_many_rows", file_name, lines - 1, limits.MAX_UPLOAD_ROWS)
    else:
        refuse_beyond("too_many_bytes", file_name, _inflated(content, limits.MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES),
                      limits.MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES)


def _inflated(content: bytes, most: int) -> int:
    """The bytes a workbook's members decompress to, read in 64 KiB chunks and stopped just past `most` (the ZIP's
    stated sizes are never trusted). 0 when it is no readable ZIP: the reader then says why, in its words."""
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for info in archive.infolist()[:limits.MAX_ZIP_MEMBERS]:
                with archive.open(info) as member:
                    while total <= most and (chunk := member.read(1 << 16)):
                        total += len(chunk)
                if total > most:
                    break
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError, EOFError, zlib.error):
        return 0 if total <= most else total
    return total


def safe_name(file_name: str) -> str:
    """The user's file name, kept for their own eyes: no folders, no odd characters, 60 characters at most."""
    path = Path(str(file_name).replace("\\", "/"))
    stem = re.sub(r"[^\w\-. ()]", "_", path.stem).strip(" .")[:60] or "fichier"
    return stem + path.suffix.lower()


@contextmanager
def _temporary(content: bytes, file_name: str) -> Iterator[Path]:
    """The upload as a file in a folder of its own, removed on the way out whatever happens."""
    with tempfile.TemporaryDirectory(prefix="obs-upload-") as folder:
        path = Path(folder) / safe_name(file_name)
        path.write_bytes(content)
        yield path


def counts_message(rows_read: int, rows_loaded: int) -> str:
    return (f"{rows_read} ligne(s) lue(s) dans le fichier : {rows_loaded} retenue(s), "
            f"{rows_read - rows_loaded} écartée(s).")


def rejection_messages(rejections: pd.DataFrame, first: int = 5) -> list[str]:
    out = [f"Ligne {r.row_number}, colonne « {r.column_name} », valeur « {r.value} » : {french_reason(r)}."
           for r in rejections.head(first).itertuples()]
    rows = rejections["row_number"].nunique() if len(rejections) else 0
    shown = rejections.head(first)["row_number"].nunique() if len(rejections) else 0
    if rows > shown:
        out.append(f"… et {rows - shown} autre(s) ligne(s) écartée(s).")
    return out


def preview(content: bytes, file_name: str, engine: Engine, *, max_bytes: int | None = None) -> Preview:
    """Read an upload with the TDBMS adapter, without storing anything; French messages, never an exception."""
    try:
        _check(content, file_name, max_bytes)
        with _temporary(content, file_name) as path, engine.connect() as conn:
            parsed = tdbms.parse(path, Reference.from_store(conn))
        check_bounds(parsed, file_name)
    except LoadError as error:
        head = "Fichier refusé" if error.refusal else "Fichier illisible"
        return Preview(messages=[f"{head} : {error.french}."])
    except Exception:  # a hostile or broken file must give a message, not a failed page
        log.exception("upload %r could not be read", safe_name(file_name))
        return Preview(messages=["Fichier illisible : son contenu n'a pas pu être lu comme un extrait TDBMS ou "
                                 "le modèle de l'observatoire."])
    messages = [counts_message(parsed.rows_read, parsed.rows_loaded)] + rejection_messages(parsed.rejections)
    return Preview(parsed.units.reset_index(drop=True), parsed.establishments.reset_index(drop=True), messages)


# ---------------------------------------------------------------------------------------------------------
# Saving, reading back, removing

def save_private(engine: Engine, content: bytes, file_name: str, *, max_bytes: int | None = None) -> tuple[str, int]:
    """Save an upload in the private namespace: `(token, upload_id)`. Raises `LoadError` (nothing written)
    when it cannot be saved; `french_problem` says why in French. Same path as `python -m etl load --scope
    private` (the loader's checks and write lock included)."""
    _check(content, file_name, max_bytes)
    _writable(engine)
    try:
        with _temporary(content, file_name) as path:
            summary = load_file(engine, path, "tdbms", scope="private")
    except OperationalError as error:  # the store failed under the loader (disk full, I/O error, gone)
        raise store_error(STORE, busy_reason(error)) from None
    return summary.private_token, summary.private_upload_id


def _writable(engine: Engine) -> None:
    """Refuse, before anything is read or written, a store that cannot take a write (missing, read-only)."""
    problem = write_problem(engine)
    if problem:
        raise store_error(STORE, problem)


def read_private(engine: Engine, token: str | None) -> SavedUpload | None:
    """The upload saved under `token` (None when unknown or removed)."""
    return read_upload(engine, token)


def private_status(engine: Engine) -> dict:
    """For `/health`: what the private space holds (uploads, figures, bytes where the backend says) and its caps."""
    try:
        held = usage(engine)
    except Exception:  # /health must answer whatever the store says: the counts are then unknown
        log.exception("private space usage unavailable")
        held = {"private_uploads": None, "private_figures": None, "private_bytes": None}
    return {**held, **private_caps(), "save_rate_limits": save_rate_limits()}


def save_rate_limits() -> str:
    return os.environ.get("OBSERVATORY_SAVE_LIMITS", limits.SAVE_RATE_LIMITS)


_COUNTER = None  # the `limits` moving-window counter, made on first use (storage: OBSERVATORY_RATELIMIT_STORAGE)
UNITS_FR = {"second": "seconde", "minute": "minute", "hour": "heure", "day": "jour", "month": "mois", "year": "an"}


def _counter():
    global _COUNTER
    if _COUNTER is None:
        from limits import storage, strategies

        uri = os.environ.get("OBSERVATORY_RATELIMIT_STORAGE", "memory://")
        _COUNTER = strategies.MovingWindowRateLimiter(storage.storage_from_string(uri))
    return _COUNTER


def may_save(client: str) -> bool:
    """Count one private save for `client` (its IP address) against `save_rate_limits()`: False, nothing
    counted, when any of the limits is reached."""
    from limits import parse_many

    rules = parse_many(save_rate_limits())
    counter = _counter()
    if not all(counter.test(rule, "private-save", client) for rule in rules):
        return False
    return all([counter.hit(rule, "private-save", client) for rule in rules])


def french_rate_limits() -> str:
    """« 5 par minute et 20 par 30 jours »."""
    from limits import parse_many

    parts = []
    for rule in parse_many(save_rate_limits()):
        unit = UNITS_FR.get(rule.GRANULARITY.name, rule.GRANULARITY.name)
        many = f"{rule.multiples} {unit}{'' if unit.endswith('s') else 's'}" if rule.multiples > 1 else unit
        parts.append(f"{rule.amount} par {many}")
    return ", ".join(parts[:-1]) + f" et {parts[-1]}" if len(parts) > 1 else "".join(parts)


def rules_sentence(max_bytes: int) -> str:
    """The page's one sentence on what an upload may hold and how long a private save is kept."""
    return (f"Un fichier : un établissement ou un groupe de quelques établissements (au plus "
            f"{limits.MAX_UPLOAD_ESTABLISHMENTS} établissements, {limits.MAX_UPLOAD_YEARS} années, "
            f"{limits.MAX_UPLOAD_ROWS} lignes, {max_bytes / 1e6:g} Mo). Les données enregistrées dans l'espace privé "
            f"sont supprimées automatiquement au bout de {private_caps()['retention_days']} jours "
            f"(enregistrements : au plus {french_rate_limits()} par connexion).")


def build_store(engine: Engine) -> None:
    """Build the store from the bundled files (the app's first start, when none was ever built)."""
    from etl.build import build

    build(engine)
