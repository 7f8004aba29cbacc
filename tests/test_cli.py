"""The CLI as a user runs it, in a subprocess, on a real SQLite file."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text

from observatory.store import get_engine
from tests.conftest import BMO_2023, ROOT, copy_store, snapshot


def run(*args, db):
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_build_twice_gives_the_same_row_counts_and_corrupt_load_changes_nothing(built_store, tmp_path):
    db = tmp_path / "cli.sqlite"
    # the first build: the session's built store (`build` over an empty file, from these very inputs), copied;
    # the second is `python -m etl build` over it
    copy_store(built_store, db).dispose()
    counts_first = snapshot(get_engine(f"sqlite:///{db}"))
    second = run("build", db=db)
    assert second.returncode == 0, second.stderr
    assert "row counts:" in second.stdout
    counts_second = snapshot(get_engine(f"sqlite:///{db}"))
    assert {k: v for k, v in counts_second.items() if k != "max(load_id)"} == \
           {k: v for k, v in counts_first.items() if k != "max(load_id)"}

    corrupt = tmp_path / "Base_open_data_BMO_2023.xlsx"
    corrupt.write_bytes(BMO_2023.read_bytes()[:100_000])
    failed = run("load", str(corrupt), db=db)
    assert failed.returncode != 0
    message = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(message) == 1 and "Base_open_data_BMO_2023.xlsx" in message[0]
    assert "Traceback" not in failed.stderr
    assert snapshot(get_engine(f"sqlite:///{db}")) == counts_second

    status = run("status", db=db)
    assert status.returncode == 0 and "ft_bmo_2023" in status.stdout and "sha256" in status.stdout
    with get_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_load_without_source_recognises_the_adapter(tmp_path):
    db = tmp_path / "one.sqlite"
    done = run("load", str(ROOT / "data/real/dares/evol_mmo.csv"), db=db)
    assert done.returncode == 0, done.stderr
    assert "adapter dares_mmo" in done.stdout and "rejected 24" in done.stdout


def test_unknown_file_is_refused_with_one_line(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    done = run("load", str(path), db=tmp_path / "x.sqlite")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: file notes.csv: no adapter recognises the file")


def test_batch_commands_pause_the_cycle_collector_only_while_they_run(tmp_path, monkeypatch, capsys):
    import gc

    from etl.__main__ import batch_gc, main

    with batch_gc("load"):
        assert not gc.isenabled()
    with batch_gc("export"):
        assert gc.isenabled()
    assert gc.isenabled()
    # in-process callers of the CLI keep their collector, whatever the command's outcome
    monkeypatch.setenv("OBSERVATORY_DB", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    assert main(["load", str(tmp_path / "missing.csv")]) != 0
    assert gc.isenabled() and "error:" in capsys.readouterr().err
