"""Command line: `python -m etl build | load PATH [--source NAME] | status`.

Start-up counts in every load: each command imports what it needs (openpyxl, for one, only `illustrative`
and `export`; tqdm only on a terminal; one adapter when `--source` names it), and `load` of a workbook starts
reading it (`etl.read.readahead.read_ahead`) before pandas and SQLAlchemy are imported.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from etl.errors import LoadError
from etl.read.readahead import read_ahead


@contextmanager
def _progress(total: int, desc: str) -> Iterator[Callable[[str], None]]:
    """A progress bar of `total` steps on a terminal; elsewhere nothing, and tqdm is not even imported (its bar
    would be disabled there anyway)."""
    if not sys.stderr.isatty():
        yield lambda _step: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="step", file=sys.stderr) as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)
        yield step


def _store():
    """The store every command works on (the CLI is an entry point: `OBSERVATORY_DB` or the bundled file)."""
    from observatory.config import database_url
    from observatory.store import Store

    return Store(database_url())


def _build(args: argparse.Namespace) -> int:
    from etl.build import build, bundled_files, row_counts

    store = _store()
    if args.if_missing and store.ready():
        print("store already built (see `python -m etl status`)")
        return 0
    engine = store.engine
    with _progress(len(bundled_files()) * 4, "build") as step:
        summaries = build(engine, progress=step)
    for summary in summaries:
        print("\n".join(summary.lines()))
    print("\nrow counts:")
    for table, count in row_counts(engine).items():
        print(f"  {table:<22}{count:>12,}")
    return 0


def _load(args: argparse.Namespace) -> int:
    from etl.loader import load_file

    engine = _store().engine
    with _progress(4, "load") as step:
        summary = load_file(engine, args.path, args.source, progress=step, scope=args.scope,
                            replace=args.replace)
    print("\n".join(summary.lines()))
    return 0


def _unload(args: argparse.Namespace) -> int:
    from etl.loader import unload

    removed = unload(_store().engine, args.load_id)
    print(f"load {args.load_id} removed: " + ", ".join(f"{n:,} {t}" for t, n in removed.items()))
    return 0


def _purge_private(_args: argparse.Namespace) -> int:
    from etl.private import private_caps, purge_private

    removed = purge_private(_store().engine)
    print(f"{removed} private upload(s) older than {private_caps()['retention_days']} days removed")
    return 0


def _export(args: argparse.Namespace) -> int:
    """Same options and checks as GET /api/v1/observations; the file holds every matching row."""
    from werkzeug.datastructures import MultiDict

    from observatory import api, exports

    query = MultiDict([(name, value) for name in api.FILTERS for value in (getattr(args, name) or [])])
    lang = getattr(args, "lang", None) or "en"
    sep = getattr(args, "sep", None) or ("semicolon" if lang == "fr" else "comma")  # as the API: `;` in French
    store = _store()
    try:
        selection, filters = api.parse_selection(store, query)
    except api.BadRequest as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    total = exports.count(store, selection)
    output = Path(args.output)
    if args.format == "xlsx":
        try:
            exports.check_xlsx_rows(total)  # refused before the file is opened: nothing written
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        with output.open("wb") as handle:  # streamed: memory stays flat whatever the size
            for block in exports.xlsx_stream(store, exports.stream_chunks(store, selection), filters=filters,
                                             total=total, lang=lang,
                                             permalink="python -m etl export " + " ".join(sys.argv[2:])):
                handle.write(block)
    else:
        with output.open("wb") as handle:
            for block in exports.csv_stream(store, selection, semicolon=sep == "semicolon", lang=lang):
                handle.write(block)
    print(f"wrote {output} ({total:,} rows, {output.stat().st_size:,} bytes)")
    return 0


def _illustrative(args: argparse.Namespace) -> int:
    from etl.illustrative import MIN_ESTABLISHMENTS, OUT, generate

    if args.establishments is not None and args.establishments < MIN_ESTABLISHMENTS:
        print(f"error: --establishments must be at least {MIN_ESTABLISHMENTS}", file=sys.stderr)
        return 2
    output = Path(args.output).resolve() if args.output else OUT
    for path in generate(output, establishments_count=args.establishments):
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        print(f"wrote {shown} ({path.stat().st_size:,} bytes)")
    return 0


def _status(_args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from observatory.store import init_store

    engine = _store().engine
    init_store(engine)
    with engine.connect() as conn:
        loads = conn.execute(text(
            "SELECT l.load_id, l.adapter, l.source_id, l.file_name, l.file_sha256, l.finished_at, "
            "l.rows_read, l.rows_loaded, l.rows_rejected, l.observations_written, l.status "
            "FROM etl_load l ORDER BY l.load_id")).all()
        per_source = conn.execute(text(
            "SELECT source_id, COUNT(*), SUM(CASE WHEN is_derived = 0 THEN 1 ELSE 0 END), "
            "MIN(period), MAX(period) FROM observations GROUP BY source_id ORDER BY source_id")).all()
    print(f"store: {engine.url.render_as_string(hide_password=True)}")
    print("loads:")
    if not loads:
        print("  (none: run `python -m etl build`)")
    for row in loads:
        source_id = row.source_id or "(privé)"  # a private save (etl/private.py) has no source
        print(f"  #{row.load_id} {row.adapter:<15}{source_id:<28}{row.file_name}  sha256 {row.file_sha256[:12]}…  "
              f"{str(row.finished_at)[:16]}  read {row.rows_read:,} loaded {row.rows_loaded:,} "
              f"rejected {row.rows_rejected:,} → {row.observations_written:,} observations [{row.status}]")
    print("observations per source:")
    for source_id, total, published, first, last in per_source:
        print(f"  {source_id:<28}{total:>10,} ({published:,} published) periods {first}–{last}")
    return 0


@contextmanager
def batch_gc(command: str | None) -> Iterator[None]:
    """`load` and `build` as batch work: Python's cycle collector, which would otherwise walk the hundreds of
    thousands of cells a workbook is parsed into again and again (~7 % of a BMO load's time), is off while they
    run and back on after. Reference counting still frees everything that is not a cycle; `build` collects once
    after each file (`etl.build`), so its memory stays that of one file. The tests' builds use it too."""
    if command not in ("load", "build") or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read_ahead(argv: list[str]) -> None:
    """`load BOOK.xlsx`: start parsing the workbook now, while the imports and the store's set-up run."""
    if not argv or argv[0] != "load":
        return
    words = iter(argv[1:])
    for word in words:
        if word in ("--source", "--scope"):
            next(words, None)
        elif not word.startswith("-"):  # the path
            if word.lower().endswith((".xlsx", ".xlsm")):
                read_ahead(word)
            return


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    with batch_gc(words[0] if words else None):
        return _main(words)


def _main(argv: list[str]) -> int:
    _read_ahead(argv)
    from etl import adapters

    parser = argparse.ArgumentParser(prog="python -m etl", description="Build and load the observatory's store.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="(re)build the store from every bundled file")
    build.add_argument("--if-missing", action="store_true", help="only when the store is not built yet")
    build.set_defaults(run=_build)
    load = commands.add_parser("load", help="load one file through its adapter")
    load.add_argument("path")
    load.add_argument("--source", choices=sorted(adapters.NAMES), help="adapter (recognised when omitted)")
    load.add_argument("--scope", choices=["published", "private"],
                      help="private: own figures kept apart (default for tdbms); published otherwise")
    load.add_argument("--replace", action="store_true",
                      help="accept a file that would remove more than half of the published rows it replaces")
    load.set_defaults(run=_load)
    remove = commands.add_parser("unload", help="remove a load completely (see `status` for ids)")
    remove.add_argument("load_id", type=int)
    remove.set_defaults(run=_unload)
    export = commands.add_parser("export", help="export observations (the API's filters) to CSV or XLSX")
    for name in ("indicator", "profession", "territory", "level", "period", "source", "breakdown"):
        export.add_argument(f"--{name}", action="append", help=f"{name} filter (may repeat)")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--sep", choices=["comma", "semicolon"], default=None,
                        help="CSV separator (default: semicolon, with decimal commas, when --lang fr; else comma)")
    export.add_argument("--lang", choices=["en", "fr"], default="en",
                        help="fr: French column headers and status labels (default en: the data contract's codes)")
    export.add_argument("-o", "--output", required=True)
    export.set_defaults(run=_export)
    illustrative = commands.add_parser("illustrative", help="regenerate the illustrative files under data/")
    illustrative.add_argument("--establishments", type=int, metavar="N",
                              help="N fictitious establishments instead of the bundled 1,256 (deterministic for N)")
    illustrative.add_argument("--output", metavar="DIR",
                              help="write there (and templates in DIR/templates) instead of data/illustrative")
    illustrative.set_defaults(run=_illustrative)
    commands.add_parser("status", help="list loads and row counts per source").set_defaults(run=_status)
    commands.add_parser("purge-private", help="remove private uploads older than the retention (etl/limits.py)"
                        ).set_defaults(run=_purge_private)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 — the user gets one line, never a traceback
        return _fault(args.command, error)


def _fault(command: str, error: Exception) -> int:
    """One `error:` line for what is not a bad file: the store (locked, read-only, unreachable, outdated), the
    machine (memory, disk), or a bug of ours (named as such)."""
    from sqlalchemy.exc import SQLAlchemyError

    from observatory.store import OutdatedStore, StoreBusy, busy_reason

    if isinstance(error, (StoreBusy, OutdatedStore)):
        message = str(error)
    elif isinstance(error, SQLAlchemyError):
        message = busy_reason(error) if hasattr(error, "orig") else f"cannot use the store: {error}"
    elif isinstance(error, MemoryError):
        message = "out of memory"
    elif isinstance(error, OSError):
        message = f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}"
    else:
        message = (f"unexpected {type(error).__name__} during `{command}`: {str(error)[:300]} "
                   "(a bug of the observatory: please report it with the file)")
    print(f"error: {message}", file=sys.stderr)
    return 2 if not message.startswith("unexpected") else 1


def _exit(code: int) -> None:
    """End the process as soon as the command is done, without the interpreter's teardown (unloading pandas,
    SQLAlchemy and numpy and freeing what a load held: ~0.2 s of a 2 s load). What matters of that teardown
    is done here first: the store's connections closed (the WAL checkpointed) and the output flushed."""
    store = sys.modules.get("observatory.store")
    if store is not None:
        store.dispose_engines()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
