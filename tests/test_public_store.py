"""The store's health is the service's: a store deleted, made read-only or replaced while the app serves is
answered truthfully — 503 in French rather than old figures, no empty file recreated, saves and deletions refused
in French rather than « Enregistré » or a 500, a replaced file picked up. Real servers (`python app.py`) over
copies of the built store, real HTTP, real Dash callbacks."""
from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from etl.errors import store_error
from etl.uploads import french_problem
from observatory.store import get_engine
from tests.conftest import ROOT, serve_copy

EXAMPLE = ROOT / "data/templates/exemple_mon_etablissement.xlsx"
API = "/api/v1/observations?indicator=recruitment_projects&territory=FR&format=json"


def call(url: str, path: str, body: dict | None = None) -> tuple[int, str]:
    """(status, body as text) of one GET, or POST of `body` as JSON."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@functools.lru_cache
def dependencies(url: str) -> list[dict]:
    """The app's callbacks, as the browser reads them when the page loads."""
    status, text = call(url, "/_dash-dependencies")
    assert status == 200
    return json.loads(text)


def callback(url: str, first_output: str, values: dict) -> tuple[int, str]:
    """Fire the page callback whose first output is `first_output`, as the browser does; values by `id.prop`.
    Returns the status and the response with its accents readable."""
    spec = next(c for c in dependencies(url) if c["output"].startswith(f"..{first_output}..."))
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in spec["output"].strip(".").split("...")]
    fill = lambda deps: [{**d, "value": values.get(f"{d['id']}.{d['property']}")} for d in deps]  # noqa: E731
    inputs = fill(spec["inputs"])
    status, text = call(url, "/_dash-update-component", {
        "output": spec["output"], "outputs": outputs, "inputs": inputs, "state": fill(spec["state"]),
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs]})
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    return status, text


def save(url: str) -> tuple[int, str]:
    contents = "data:application/octet-stream;base64," + base64.b64encode(EXAMPLE.read_bytes()).decode()
    return callback(url, "own-saved.children", {"own-save.n_clicks": 1, "own-upload.contents": contents,
                                                "own-upload.filename": EXAMPLE.name,
                                                "url.href": url + "/mon-etablissement"})


def delete(url: str, token: str) -> tuple[int, str]:
    return callback(url, "own-removed.data", {"own-confirm.submit_n_clicks": 1, "url.hash": f"#cle={token}"})


def token_of(saved: str) -> str:
    return saved.split("#cle=", 1)[1][:32]


@pytest.fixture
def served(built_store, tmp_path):
    """`python app.py` over a copy of the built store; stopped by its PID."""
    url, _env, server = serve_copy(built_store, tmp_path, ["app.py", "--port", "{port}"], log=tmp_path / "app.log")
    try:
        assert call(url, "/health")[0] == 200, (tmp_path / "app.log").read_text()[-2000:]
        yield url, tmp_path / "observatory.sqlite"
    finally:
        server.terminate()
        server.wait(timeout=30)


def private_uploads(store: Path) -> int:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM private_upload").fetchone()[0]


def test_a_deleted_store_answers_503_in_french_and_is_never_recreated(served):
    url, store = served
    status, saved = save(url)
    assert status == 200 and "Enregistré dans votre espace privé" in saved
    token = token_of(saved)
    assert call(url, "/recrutement")[0] == 200 and call(url, API)[0] == 200  # figures cached in memory
    store.unlink()
    for path in ("/recrutement", "/mon-etablissement", API):  # not the old figures, still open or in memory
        status, body = call(url, path)
        assert status == 503 and "indisponible" in body and "introuvable" in body, (path, body[:300])
    health, body = call(url, "/health")
    assert health == 503 and "missing" in body
    status, answer = save(url)
    assert status == 200 and "Enregistré" not in answer and "#cle=" not in answer
    assert "introuvable" in answer and "rien n'a été enregistré" in answer
    status, answer = delete(url, token)
    assert status == 200 and "Non supprimé" in answer and "introuvable" in answer
    assert not store.exists()


def immutable(*paths: Path, on: bool = True) -> bool:
    """`chattr ±i` (read-only even for root); as another user, chmod."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o444 if on else 0o644)
        return True
    return subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], capture_output=True).returncode == 0


def test_a_store_made_read_only_refuses_saves_and_deletions_in_french(served):
    """Only the main file read-only, its WAL still writable: no write may go into the WAL."""
    url, store = served
    status, saved = save(url)
    assert status == 200 and "Enregistré dans votre espace privé" in saved
    token = token_of(saved)
    if not immutable(store):
        pytest.skip("this machine cannot make a file read-only for root (chattr +i refused)")
    wal: list[Path] = []
    try:
        assert Path(f"{store}-wal").exists() and os.access(f"{store}-wal", os.W_OK)
        status, answer = save(url)
        assert status == 200 and "Enregistré" not in answer and "#cle=" not in answer, answer[:500]
        assert "lecture seule : rien n'a été enregistré" in answer
        status, answer = delete(url, token)
        assert status == 200, answer[:500]
        assert "Non supprimé : l'entrepôt est en lecture seule : rien n'a été supprimé" in answer
        assert call(url, "/health")[0] == 200 and call(url, API)[0] == 200  # still served, read-only
        wal = [Path(f"{store}-wal"), Path(f"{store}-shm")]
        assert immutable(*wal, store.parent)  # now nothing can be written: the fault is the store's, not the file's
        status, answer = save(url)
        assert status == 200 and "lecture seule : rien n'a été enregistré" in answer, answer[:500]
    finally:
        immutable(*wal, store.parent, on=False)
        immutable(store, on=False)
    assert private_uploads(store) == 1


def test_a_replaced_store_is_reopened_not_served_from_the_old_file(served):
    url, store = served
    status, before = call(url, API)
    assert status == 200
    first = json.loads(before)["rows"][0]
    new = store.with_name("new.sqlite")
    source, target = sqlite3.connect(store), sqlite3.connect(new)
    source.backup(target)
    source.close()
    assert target.execute("UPDATE observation SET value = 4242 WHERE period = ? AND value = ?",
                          (first["period"], first["value"])).rowcount == 1
    target.commit()
    target.close()  # the last connection folds the WAL into the file, as a finished build does
    os.replace(new, store)  # `etl build` into a new file, then `mv` over the served one
    deadline = time.time() + 5
    while time.time() < deadline:
        rows = json.loads(call(url, API)[1])["rows"]
        if any(r["value"] == 4242 for r in rows):
            break
        time.sleep(0.3)
    assert any(r["value"] == 4242 for r in rows), rows[:3]


def test_a_store_seen_then_deleted_is_never_recreated_by_a_connection(built_store, tmp_path):
    """Any connection, pooled or new, of any reader: SQLite's `connect` would otherwise make an empty file."""
    path = tmp_path / "seen.sqlite"
    shutil.copy(built_store.url.database, path)
    engine = get_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM etl_load")).scalar_one() > 0
    engine.dispose()
    path.unlink()
    with pytest.raises(OperationalError):
        engine.connect()
    assert not path.exists()


def test_a_store_fault_is_never_blamed_on_the_users_file():
    said = french_problem(store_error("(entrepôt)", "cannot use the store: disk I/O error"))
    assert said.startswith("l'entrepôt ne peut pas être écrit") and "rien n'a été enregistré" in said
    assert "fichier" not in said
