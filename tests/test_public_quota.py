"""« Mon établissement » open to anyone: what one visitor can make the server do is bounded (etl/limits.py).

A national TDBMS extract (19,000 establishments) is refused in French in well under 2 s, by the upload facade and
by a served app's own callback (it used to cost ~6 ms a row and pass gunicorn's 30 s timeout); the private space
is capped as a whole, purged after its retention, and saves are rate-limited per client: 100 saves from one
client stop after the limit, the store's size stays under a bound computed from the documented limits. Real
SQLite copies of the built store and a real server process, no mocks."""
from __future__ import annotations

import base64
import io
import json
import os
import re
import time
import urllib.request
import zipfile
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from etl import limits
from etl.errors import LoadError
from etl.illustrative import TDBMS_HEADER
from etl.private import purge_private
from etl.uploads import french_problem, preview, read_private, save_private
from observatory.private import usage
from tests.conftest import ROOT, copy_store, serve_copy

BYTES_PER_FIGURE = 200  # measured ≈ 120 on SQLite (table and primary key), WAL pages aside


def extract(establishments: int, years: int = 1) -> bytes:
    """A TDBMS extract (`;`, decimal commas) of EHPADs in the Gironde, one row per establishment and year."""
    lines = [";".join(TDBMS_HEADER)]
    for e in range(establishments):
        for year in range(2024 - years, 2024):
            lines.append(";".join([str(year), f"{330000001 + e:09d}", f"Établissement {e}", "500", "33", "10", "8",
                                   "80", "70,5", "300", "100", "50", "20", "30", "20", "70", "68"]))
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


NATIONAL = extract(19_000)


def big_workbook(rows: int) -> bytes:
    """The observatory's example template with its « Données » sheet holding `rows` copies of its first data row
    (renumbered): a valid workbook, as compressible as a real one (36,000 rows: 1.9 MB, 24 MB inflated)."""
    source = zipfile.ZipFile(ROOT / "data/templates/exemple_mon_etablissement.xlsx")
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    row = re.search(r'<row r="2".*?</row>', sheet)[0]
    body = "".join(re.sub(r'(<(?:row|c) r="[A-Z]*)2"', rf'\g<1>{n}"', row) for n in range(2, rows + 2))
    sheet = re.sub(r"(<row r=\"1\".*?</row>).*?(</sheetData>)", lambda m: m[1] + body + m[2], sheet, flags=re.S)
    sheet = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:Q{rows + 1}"/>', sheet)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info.filename, data)
    return out.getvalue()


@pytest.fixture
def engine(built_store, tmp_path):
    engine = copy_store(built_store, tmp_path / "copy.sqlite")
    yield engine
    engine.dispose()


def test_a_national_extract_is_refused_in_french_before_any_comparison(engine):
    started = time.perf_counter()
    read = preview(NATIONAL, "ANN_MS_TDP_ET_2023.csv", engine, max_bytes=2_000_000)
    assert time.perf_counter() - started < 2
    assert not read.ok and len(read.messages) == 1
    assert read.messages[0].startswith("Fichier refusé : 19\u202f000 lignes de données"), read.messages
    assert "au plus 500 (50 établissements × 10 ans)" in read.messages[0]
    # an XLSX is counted once read: 60 establishments are too many for one's own file
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Données"
    for line in extract(60).decode("latin-1").splitlines():
        sheet.append(line.split(";"))
    xlsx = BytesIO()
    book.save(xlsx)
    read = preview(xlsx.getvalue(), "groupe.xlsx", engine)
    assert read.messages == ["Fichier refusé : 60 établissements (n° FINESS) ; le fichier d'un établissement (ou "
                             "d'un groupe) en compte au plus 50."]
    assert preview(extract(50, 10), "groupe.csv", engine).ok  # the largest file allowed still compares


def test_a_large_workbook_is_refused_before_its_cells_are_scanned(engine):
    workbook = big_workbook(36_000)
    assert len(workbook) < 2_000_000
    started = time.perf_counter()
    read = preview(workbook, "groupe.xlsx", engine, max_bytes=2_000_000)
    assert time.perf_counter() - started < 2
    assert read.messages == ["Fichier refusé : classeur trop volumineux une fois décompressé (plus de 8 Mio) ; le "
                             "modèle rempli pour un établissement ou un groupe en fait moins de 1 Mio."]
    assert preview(big_workbook(500), "groupe.xlsx", engine).ok  # the largest workbook allowed still compares


def test_a_national_extract_cannot_be_saved(engine):
    started = time.perf_counter()
    with pytest.raises(LoadError) as refused:
        save_private(engine, NATIONAL, "ANN_MS_TDP_ET_2023.csv")
    assert time.perf_counter() - started < 2
    assert "lignes de données" in french_problem(refused.value)
    assert usage(engine)["private_uploads"] == 0


def test_the_private_space_is_capped_and_purged(engine, monkeypatch):
    """100 saves against a private space of at most 100 figures (20 one-row uploads): the 21st and later are
    refused in French, nothing written; the store's file stays under its bound. Then uploads older than the
    retention are purged by the next save and by `purge-private`."""
    monkeypatch.setenv("OBSERVATORY_PRIVATE_MAX_FIGURES", "100")
    store = engine.url.database
    before = os.path.getsize(store)
    one = extract(1)
    outcomes = []
    for _ in range(100):
        try:
            outcomes.append(save_private(engine, one, "mon_ehpad.csv")[0])
        except LoadError as error:
            outcomes.append(french_problem(error))
    tokens = [o for o in outcomes if read_private(engine, o) is not None]
    refusals = set(outcomes[len(tokens):])
    assert len(tokens) == 20 and outcomes[:20] == tokens
    assert refusals == {"l'espace privé de l'observatoire est plein ; réessayez plus tard (les enregistrements de "
                        f"plus de {limits.PRIVATE_RETENTION_DAYS} jours sont supprimés)"}
    assert usage(engine)["private_figures"] == 100
    assert os.path.getsize(store) - before <= 100 * BYTES_PER_FIGURE + 64 * 4096  # + a few pages of the tables
    old = datetime.now() - timedelta(days=limits.PRIVATE_RETENTION_DAYS + 1)
    with engine.begin() as conn:
        conn.execute(text("UPDATE private_upload SET created_at = :old WHERE upload_id IN "
                          "(SELECT upload_id FROM private_upload ORDER BY upload_id LIMIT 10)"), {"old": old})
    assert save_private(engine, one, "mon_ehpad.csv")  # the save purged the 10 expired uploads first
    assert usage(engine)["private_uploads"] == 11 and read_private(engine, tokens[0]) is None
    with engine.begin() as conn:
        conn.execute(text("UPDATE private_upload SET created_at = :old"), {"old": old})
    assert purge_private(engine) == 11
    assert usage(engine) | {"private_bytes": 0} == {"private_table": True, "private_uploads": 0,
                                                    "private_figures": 0, "private_bytes": 0}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM etl_load WHERE status = 'private'")).scalar_one() == 0


# --- One served app, its own callbacks over HTTP --------------------------------------------------------------

@pytest.fixture(scope="module")
def server(built_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("quota")
    url, _env, process = serve_copy(built_store, folder, ["app.py", "--port", "{port}"])
    with urllib.request.urlopen(url + "/_dash-dependencies", timeout=30) as response:
        dependencies = json.load(response)
    yield {"url": url, "process": process, "store": folder / "observatory.sqlite", "deps": dependencies}
    process.terminate()
    process.wait(timeout=20)


def call(server, trigger: str, values: dict, timeout: float = 30) -> dict:
    """POST the callback `trigger` (`id.property`) fires, as the page would, with `values` for its inputs and
    states (None for the others); the JSON answer."""
    spec = next(d for d in server["deps"] if any(f"{i['id']}.{i['property']}" == trigger for i in d["inputs"]))
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1)))
               for part in spec["output"].strip(".").split("...")]
    fill = lambda items: [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]  # noqa: E731
    body = json.dumps({"output": spec["output"], "outputs": outputs, "inputs": fill(spec["inputs"]),
                       "state": fill(spec["state"]), "changedPropIds": [trigger]}).encode()
    request = urllib.request.Request(server["url"] + "/_dash-update-component", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def data_url(content: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(content).decode()


def test_served_app_refuses_a_national_extract_in_under_two_seconds(server):
    started = time.perf_counter()
    answer = call(server, "own-upload.contents", {"own-upload.contents": data_url(NATIONAL),
                                                  "own-upload.filename": "ANN_MS_TDP_ET_2023.csv",
                                                  "own-indicator.value": "turnover_rate"}, timeout=10)
    assert time.perf_counter() - started < 2
    messages = json.dumps(answer["response"]["own-messages"], ensure_ascii=False)
    assert "Fichier refusé : 19\u202f000 lignes de données" in messages
    with urllib.request.urlopen(server["url"] + "/health", timeout=10) as response:
        assert response.status == 200


def test_one_client_saving_100_times_is_stopped_and_the_store_stays_bounded(server):
    """100 saves of the largest file allowed (50 establishments × 10 years: 2,500 figures) from one client: 5
    are saved (5 a minute), 95 refused in French; the store grows by at most what one client may ever hold
    (20 uploads × 2,500 figures), where 100 saves used to add ~35 MB."""
    store, wal = server["store"], server["store"].with_name("observatory.sqlite-wal")
    size = lambda: store.stat().st_size + (wal.stat().st_size if wal.exists() else 0)  # noqa: E731
    before = size()
    values = {"own-save.n_clicks": 1, "own-upload.contents": data_url(extract(50, 10)),
              "own-upload.filename": "groupe.csv", "url.href": server["url"] + "/mon-etablissement"}
    said = [json.dumps(call(server, "own-save.n_clicks", values)["response"]["own-saved"], ensure_ascii=False)
            for _ in range(100)]
    assert sum("Enregistré dans votre espace privé" in s for s in said) == 5
    refused = [s for s in said[5:] if "Non enregistré : trop d'enregistrements depuis votre connexion (au plus "
               "5 par minute et 20 par 30 jours)" in s]
    assert len(refused) == 95
    per_client = 20 * limits.MAX_PRIVATE_FIGURES_PER_SAVE * BYTES_PER_FIGURE  # 10 MB
    assert size() - before <= per_client, (before, size())
    with urllib.request.urlopen(server["url"] + "/health", timeout=10) as response:
        private = json.load(response)["private"]
    assert private["private_uploads"] == 5 and private["private_figures"] == 5 * 2500
    assert private["max_figures"] == limits.MAX_PRIVATE_FIGURES and private["retention_days"] == 30
    assert 0 < private["private_bytes"] <= 5 * 2500 * BYTES_PER_FIGURE


def test_three_national_uploads_at_once_leave_gunicorn_answering(built_store, tmp_path):
    """The finding's own scene: `gunicorn -w 2 --timeout 30`, three national extracts posted at once; each is
    refused in French within seconds, `/health` keeps answering, no worker times out."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tmp_path / "gunicorn.log"
    url, _env, process = serve_copy(built_store, tmp_path, [str(gunicorn), "-w", "2", "-b", "127.0.0.1:{port}",
                                                            "--timeout", "30", "app:server"], log=log)
    try:
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=30) as response:
            served = {"url": url, "deps": json.load(response)}
        values = {"own-upload.contents": data_url(NATIONAL), "own-upload.filename": "ANN_MS_TDP_ET_2023.csv",
                  "own-indicator.value": "turnover_rate"}
        with ThreadPoolExecutor(3) as pool:
            started = time.perf_counter()
            uploads = [pool.submit(call, served, "own-upload.contents", values, 20) for _ in range(3)]
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                assert response.status == 200
            answers = [u.result() for u in uploads]
        assert time.perf_counter() - started < 10
        for answer in answers:
            assert "Fichier refusé" in json.dumps(answer["response"]["own-messages"], ensure_ascii=False)
        assert "WORKER TIMEOUT" not in log.read_text()
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:  # workers still busy past gunicorn's graceful timeout
            process.kill()
            process.wait(timeout=10)
