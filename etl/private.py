"""Own figures (« Mon établissement »): read an upload, save it privately, remove it — the page and the CLI
share this path.

An HR director's TDBMS extract (or the observatory's template) is read by the `tdbms` adapter in a temporary
folder that is always removed. Saved on request only, it goes to `private_upload` / `private_figure` (one
transaction, under a fresh `secrets.token_urlsafe(24)` token of which the store keeps only the SHA-256) and to an
`etl_load` row with no source, so that `python -m etl unload LOAD_ID` removes it too. It never touches
`establishment`, `establishment_observation`, `observation` or `source`: no published figure, aggregate, peer
distribution, API row or export can hold it, and an upload whose FINESS is a published establishment leaves
that establishment as published.

A private save does not bump the store version: the version tells every process to forget its caches of
published figures, and a private save changes none (private figures are read uncached, by token); bumping
would also let any visitor flush every worker's caches at will. Rejected rows of a private save are shown to
its owner on the page and never stored (`etl_rejection` holds published loads' only).

Bounds (values and reasons in `etl/limits.py`): an upload holds at most 50 establishments, 10 years and 500 rows
(counted in the raw CSV before parsing, and in what was read) — a whole TDBMS extract is refused in French before
any comparison; a save purges uploads older than the retention first, then refuses (nothing written) what would
pass the private space's caps in uploads or figures.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import OperationalError

from etl import limits
from etl.adapters import tdbms
from etl.errors import LoadError
from etl.frames import Parsed
from etl.reference import Reference
from observatory.private import (
    ESTABLISHMENT_COLUMNS,
    UNIT_COLUMNS,
    SavedUpload,
    read_upload,
    token_sha256,
    usage,
    well_formed,
)
from observatory.schema import etl_load, private_figure, private_upload
from observatory.store import StoreBusy, busy_reason, write_problem, writing

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx")
PAGE = "/mon-etablissement"


def private_link(token: str) -> str:
    """The page address that opens a saved upload. The token sits in the fragment (`#cle=`), which browsers
    never send to a server: it stays out of access logs, proxies and `Referer` headers."""
    return f"{PAGE}#cle={token}"


# ---------------------------------------------------------------------------------------------------------
# French messages for the page (the adapters and the loader speak English to the CLI)

ROLES = {
    "year": "année", "finess": "n° FINESS", "category": "catégorie ESMS", "departement": "département",
    "recruitments": "nombre de recrutements", "departures": "nombre de départs",
    "headcount": "effectif réel en personnes au 31/12 N-1", "etp_real": "nombre d'ETP réels",
    "etp_budget": "nombre d'ETP budgétés", "etp_done": "nombre d'ETP réalisés",
}
REASONS = [
    (r"expected a 9-character FINESS number.*", "numéro FINESS attendu (9 caractères ; les zéros de tête peuvent "
                                                 "manquer)"),
    (r"département not in the INSEE reference", "département inconnu du code officiel géographique de l'Insee "
                                                 "(attendu : un code de département, par exemple 01, 2A, 69 ou 974)"),
    (r"ESMS category not among the 20 TDBMS categories", "catégorie ESMS hors des 20 catégories du TDBMS (attendu : "
                                                          "un code de la feuille « Catégories » du modèle, par "
                                                          "exemple 500 pour un EHPAD)"),
    (r"expected a year", "année attendue (par exemple 2023)"),
    (r"expected a non-negative number", "nombre positif ou nul attendu"),
    (r"no value published \('NA'\)", "valeur absente (« NA »)"),
    (r"expected a number.*", "nombre attendu (virgule ou point décimal)"),
    (r"non-finite number.*", "nombre hors des bornes (infini, « NaN » ou démesuré) : jamais enregistré"),
    (r"duplicate of row (\d+) \(same key\)", r"doublon de la ligne \1 (même FINESS, même année)"),
]
PROBLEMS = [
    (r"missing required column '(\w+)'", lambda m: f"colonne obligatoire absente : {ROLES.get(m[1], m[1])}"),
    (r"several columns match '(\w+)'.*", lambda m: f"plusieurs colonnes pour : {ROLES.get(m[1], m[1])}"),
    (r"no absence-day column", lambda m: "aucune colonne « Nombre de jours d'absence pour … »"),
    (r"no sheet 'Données'.*", lambda m: "pas de feuille « Données » (celle du modèle de l'observatoire)"),
    (r"the template has no data rows|the file has a header but no data rows",
     lambda m: "aucune ligne de données sous l'en-tête"),
    (r"the file is empty", lambda m: "le fichier est vide"),
    (r"no loadable row.*", lambda m: "aucune ligne utilisable (voir les lignes écartées ci-dessus)"),
    (r"not a readable XLSX workbook.*|member .* is encrypted|member .* uses compression method.*",
     lambda m: "classeur XLSX illisible (fichier tronqué, chiffré ou d'un autre format)"),
    (r"not a readable CSV.*|cannot decode the file as text.*|the file is not single-byte or UTF-8 text.*",
     lambda m: "fichier CSV illisible (attendu : texte séparé par des « ; », en UTF-8 ou latin-1)"),
    (r"file too large \(([\d.]+) MB; at most ([\d.]+) MB\)",
     lambda m: f"fichier trop volumineux ({m[1].replace('.', ',')} Mo) : {m[2].replace('.', ',')} Mo au plus"),
    (r"not a TDBMS extract or template.*",
     lambda m: "format non accepté : un extrait TDBMS (.csv) ou le modèle de l'observatoire (.xlsx)"),
    (r"cannot read the sheet.*", lambda m: "feuille illisible (classeur abîmé ou d'un autre format)"),
    (r"too many data rows for one's own figures \(([\d,]+);.*",
     lambda m: f"{_fr(m[1])} lignes de données ; le fichier d'un établissement (ou d'un groupe) en compte au plus "
               f"{_fr(limits.MAX_UPLOAD_ROWS)} ({limits.MAX_UPLOAD_ESTABLISHMENTS} établissements × "
               f"{limits.MAX_UPLOAD_YEARS} ans) : déposez l'extrait de votre établissement, pas un extrait national"),
    (r"too many establishments for one's own figures \(([\d,]+);.*",
     lambda m: f"{_fr(m[1])} établissements (n° FINESS) ; le fichier d'un établissement (ou d'un groupe) en compte "
               f"au plus {limits.MAX_UPLOAD_ESTABLISHMENTS}"),
    (r"too many years for one's own figures \(([\d,]+);.*",
     lambda m: f"{_fr(m[1])} années ; le fichier d'un établissement en compte au plus {limits.MAX_UPLOAD_YEARS}"),
    (r"too many decompressed bytes for one's own figures \(([\d,]+);.*",
     lambda m: f"classeur trop volumineux une fois décompressé (plus de "
               f"{limits.MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES // 2**20} Mio) ; le modèle rempli pour un établissement "
               "ou un groupe en fait moins de 1 Mio"),
    (r"the private space is full.*",
     lambda m: "l'espace privé de l'observatoire est plein ; réessayez plus tard (les enregistrements de plus de "
               f"{private_caps()['retention_days']} jours sont supprimés)"),
    (r".*limit in etl/limits\.py.*", lambda m: "le fichier dépasse une limite de lecture de l'observatoire (taille, "
                                               "lignes, colonnes ou cellules)"),
]
# Why the store itself refused a write (`observatory.store.write_problem`, `busy_reason`): never blamed on the file.
STORE_PROBLEMS = [
    (r"the store is locked.*", "l'entrepôt est occupé par un chargement ; réessayez dans un instant"),
    (r"the store is read-only.*", "l'entrepôt est en lecture seule"),
    (r"the store is missing.*", "l'entrepôt de données est introuvable sur ce serveur (supprimé ou déplacé)"),
    (r"cannot use the store.*", "l'entrepôt ne peut pas être écrit sur ce serveur"),
]


def _fr(count) -> str:
    """A count written the French way: 19 000."""
    return f"{int(str(count).replace(',', '')):,}".replace(",", "\u202f")


def french_reason(reason: str) -> str:
    for pattern, french in REASONS:
        if re.fullmatch(pattern, reason):
            return re.sub(pattern, french, reason)
    return reason


def french_store_problem(problem: str, nothing: str = "enregistré") -> str | None:
    """« l'entrepôt est en lecture seule : rien n'a été enregistré » (or `supprimé`) for a store fault, else None."""
    for pattern, french in STORE_PROBLEMS:
        if re.fullmatch(pattern, problem, flags=re.S):
            return f"{french} : rien n'a été {nothing}"
    return None


def french_problem(error: LoadError) -> str:
    """One French sentence for why a file cannot be read or saved (with the English detail when none fits)."""
    store = french_store_problem(error.problem)
    if store:
        return store
    for pattern, french in PROBLEMS:
        match = re.fullmatch(pattern, error.problem, flags=re.S)
        if match:
            return french(match)
    return f"le fichier ne peut pas être lu comme un extrait TDBMS (détail technique : {error.problem[:200]})"


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
        raise LoadError(file_name, "not a TDBMS extract or template", expected="a .csv extract or the .xlsx template")
    if max_bytes is not None and len(content) > max_bytes:
        raise LoadError(file_name, f"file too large ({len(content) / 1e6:.1f} MB; at most {max_bytes / 1e6:g} MB)")
    if not content:
        raise LoadError(file_name, "the file is empty")
    if Path(file_name).suffix.lower() == ".csv":  # lines counted in the raw bytes, before any parsing
        lines = max(content.count(b"\n"), content.count(b"\r")) + (not content.endswith((b"\n", b"\r")))
        _bound(file_name, "data rows", lines - 1, limits.MAX_UPLOAD_ROWS)
    else:
        _bound(file_name, "decompressed bytes", _inflated(content, limits.MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES),
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


def _bound(file_name: str, what: str, count: int, most: int) -> None:
    if count > most:
        raise LoadError(file_name, f"too many {what} for one's own figures ({count:,}; at most {most:,}, "
                        f"{limits.WHERE})", expected="one establishment's file, or a group's few establishments; "
                        "`--scope published` loads a published extract")


def check_bounds(parsed: Parsed, file_name: str) -> None:
    """Refuse (`LoadError`) an upload that is not one establishment's (or a small group's) figures: too many
    rows read, FINESS or years. Cheap: counts only, before any comparison or write."""
    _bound(file_name, "data rows", parsed.rows_read, limits.MAX_UPLOAD_ROWS)
    _bound(file_name, "establishments", parsed.units["finess"].nunique(), limits.MAX_UPLOAD_ESTABLISHMENTS)
    _bound(file_name, "years", parsed.units["period"].nunique(), limits.MAX_UPLOAD_YEARS)


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
    out = [f"Ligne {r.row_number}, colonne « {r.column_name} », valeur « {r.value} » : {french_reason(r.reason)}."
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
        head = "Fichier refusé" if error.problem.startswith("too many") else "Fichier illisible"
        return Preview(messages=[f"{head} : {french_problem(error)}."])
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
    from etl.loader import load_file

    _check(content, file_name, max_bytes)
    _writable(engine)
    try:
        with _temporary(content, file_name) as path:
            summary = load_file(engine, path, "tdbms", scope="private")
    except OperationalError as error:  # the store failed under the loader (disk full, I/O error, gone)
        raise LoadError(_STORE, busy_reason(error)) from None
    return summary.private_token, summary.private_upload_id


_STORE = "(entrepôt)"


def _writable(engine: Engine) -> None:
    """Refuse, before anything is read or written, a store that cannot take a write (missing, read-only)."""
    problem = write_problem(engine)
    if problem:
        raise LoadError(_STORE, problem)


def read_private(engine: Engine, token: str | None) -> SavedUpload | None:
    """The upload saved under `token` (None when unknown or removed)."""
    return read_upload(engine, token)


def remove_private(engine: Engine, token: str | None) -> bool:
    """Remove the upload saved under `token` completely (figures, record, its `etl_load` row): True when there
    was one. One transaction, under the write lock. Raises `LoadError` (nothing removed) when the store cannot
    be written; `french_store_problem(error.problem, "supprimé")` says why in French."""
    if not well_formed(token):
        return False
    try:
        with writing(engine) as conn:
            row = conn.execute(select(private_upload.c.upload_id, private_upload.c.load_id)
                               .where(private_upload.c.token_sha256 == token_sha256(token))).first()
            if row is None:
                return False
            _remove(conn, [row.upload_id], row.load_id)
    except StoreBusy as error:
        raise LoadError(_STORE, str(error)) from None
    return True


def _cap(name: str, default: int) -> int:
    """A private-space cap: `etl/limits.py`'s value, or the operator's `OBSERVATORY_<NAME>`."""
    return int(os.environ.get(f"OBSERVATORY_{name}", default))


def private_caps() -> dict[str, int]:
    return {"max_uploads": _cap("PRIVATE_MAX_UPLOADS", limits.MAX_PRIVATE_UPLOADS),
            "max_figures": _cap("PRIVATE_MAX_FIGURES", limits.MAX_PRIVATE_FIGURES),
            "max_figures_per_save": limits.MAX_PRIVATE_FIGURES_PER_SAVE,
            "retention_days": _cap("PRIVATE_RETENTION_DAYS", limits.PRIVATE_RETENTION_DAYS)}


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


def purge_expired(conn: Connection, now: datetime | None = None) -> int:
    """Remove the private uploads older than the retention (figures, record, `etl_load` row); how many."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    cutoff = now - timedelta(days=private_caps()["retention_days"])
    old = conn.execute(select(private_upload.c.upload_id, private_upload.c.load_id)
                       .where(private_upload.c.created_at < cutoff)).all()
    for row in old:
        _remove(conn, [row.upload_id], row.load_id)
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
        raise LoadError(file_name, f"the private space is full ({uploads:,} uploads, {stored:,} figures; at most "
                        f"{caps['max_uploads']:,} and {caps['max_figures']:,}, {limits.WHERE})")


def _remove(conn: Connection, upload_ids: list[int], load_id: int | None) -> dict[str, int]:
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
    return _remove(conn, list(uploads), load_id)


def write_private_load(conn: Connection, parsed: Parsed, file_name: str, sha: str):
    """The loader's private branch (`load_file(..., scope="private")`), in the load's transaction: the figures
    go to the private tables under a new token, an `etl_load` row (no source) records the save. Returns the
    `LoadSummary`, carrying the token."""
    from etl.loader import LoadSummary

    if parsed.units.empty or len(parsed.observations):
        raise LoadError(file_name, f"a private load holds an establishment's own figures only (adapter "
                        f"{parsed.adapter!r} gives others)",
                        expected="a TDBMS extract or the template (--source tdbms)")
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
