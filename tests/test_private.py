"""Own figures (« Mon établissement ») live in their own namespace: a private save never touches published data,
never enters published aggregates, peer distributions or the API, is reached only by its token, and is removed
completely by that token or by `python -m etl unload`. Real SQLite copies of the built store, no mocks."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from etl.errors import LoadError
from etl.illustrative import TDBMS_HEADER
from etl.loader import load_file, unload
from etl.uploads import preview, read_private, remove_private, save_private
from observatory import benchmarks, queries
from observatory.store import Store
from tests.conftest import ROOT, copy_store, snapshot, use_store

INTRUDER = "INTRUS, établissement privé"
NEW_FINESS = "019999991"


@pytest.fixture
def engine(built_store, tmp_path):
    """A private copy of the built store (SQLite's backup API: the WAL included)."""
    engine = copy_store(built_store, tmp_path / "copy.sqlite")
    yield engine
    engine.dispose()


def published_peer_group(engine) -> dict:
    """The (category, département) with the most published establishments in the latest year, and two of them."""
    with engine.connect() as conn:
        year = conn.execute(text("SELECT MAX(period) FROM establishment_observation")).scalar_one()
        category, territory = conn.execute(text("""
            SELECT e.esms_category, e.territory_id FROM establishment e JOIN establishment_observation o
              ON o.finess = e.finess AND o.indicator_id = 'turnover_rate' AND o.period = :y AND o.value IS NOT NULL
            GROUP BY 1, 2 ORDER BY COUNT(*) DESC, 1, 2 LIMIT 1"""), {"y": year}).one()
        finess = conn.execute(text("""
            SELECT e.finess FROM establishment e JOIN establishment_observation o ON o.finess = e.finess
              AND o.indicator_id = 'turnover_rate' AND o.period = :y AND o.value IS NOT NULL
            WHERE e.esms_category = :c AND e.territory_id = :t ORDER BY e.finess LIMIT 2"""),
            {"y": year, "c": category, "t": territory}).scalars().all()
    return {"year": year, "category": category, "territory": territory, "a": finess[0], "b": finess[1]}


def upload_bytes(group: dict, *, bad_row: bool = True) -> bytes:
    """A TDBMS extract (latin-1, `;`, decimal commas): the published establishment A under another name with
    extreme figures, a new establishment in the same peer group, and a row with an unknown category."""
    year, category, dep = str(group["year"]), group["category"], group["territory"].removeprefix("DEP-")
    extreme = ["90", "95", "10", "9,5", "900", "300", "200", "100", "50", "50", "20,0", "2,0"]
    rows = [[year, group["a"], INTRUDER, category, dep, *extreme],
            [year, NEW_FINESS, "Nouvel établissement privé", category, dep, *extreme]]
    if bad_row:
        rows.append([year, "019999992", "Catégorie inconnue", "999", dep, *extreme])
    lines = [";".join(TDBMS_HEADER)] + [";".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def published_state(engine) -> dict:
    """Every published table row for row (hashed), `observation` by its totals and, row for row, the rows of
    the TDBMS sources (where establishments' aggregates live), and the store version."""
    state = {}
    with engine.connect() as conn:
        for table, order in (("establishment", "finess"), ("establishment_observation", "1, 2, 3, 4"),
                             ("source", "source_id"), ("etl_rejection", "rejection_id"), ("store_meta", "name")):
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}")).all()  # noqa: S608 (fixed names)
            state[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        state["observation"] = tuple(conn.execute(text(
            "SELECT COUNT(*), ROUND(SUM(value), 4), ROUND(SUM(numerator), 4), ROUND(SUM(denominator), 4), "
            "SUM(load_id), SUM(territory_key), COUNT(DISTINCT source_key) FROM observation")).one())
        rows = conn.execute(text("""SELECT o.* FROM observation o JOIN source s ON s.key = o.source_key
                                    WHERE s.adapter = 'tdbms' ORDER BY 1, 2, 3, 4, 5, 6""")).all()
        state["observation[tdbms]"] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


def bands(engine, group: dict) -> dict:
    """Peer bands of the published establishment B (and A) at every level, computed afresh from the store."""
    store = Store.of(engine)  # a new Store: nothing cached
    return {(finess, indicator, level): benchmarks.establishment_from_store(store, group[finess], indicator,
                                                                           group["year"], level)
            for finess in ("a", "b") for indicator in ("turnover_rate", "absenteeism_rate")
            for level in ("departement", "region", "nation")}


def private_rows(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()  # noqa: S608 (fixed names)
                     for t in ("private_upload", "private_figure"))


def test_preview_counts_match_the_file_and_speaks_french(engine):
    group = published_peer_group(engine)
    read = preview(upload_bytes(group), "ANN_MS_TDP_ET.csv", engine)
    assert read.messages[0] == "3 ligne(s) lue(s) dans le fichier : 2 retenue(s), 1 écartée(s)."
    assert read.messages[1] == ("Ligne 4, colonne « Catégorie ESMS », valeur « 999 » : catégorie ESMS hors des 20 "
                                "catégories du TDBMS (attendu : un code de la feuille « Catégories » du modèle, par "
                                "exemple 500 pour un EHPAD).")
    assert sorted(read.establishments.finess) == sorted([group["a"], NEW_FINESS]) and len(read.units) == 10
    header = [c for c in TDBMS_HEADER if "départs" not in c]
    broken = "\r\n".join([";".join(header), ";".join(["2023"] * len(header))]).encode("latin-1")
    assert preview(broken, "x.csv", engine).messages == [
        "Fichier illisible : colonne obligatoire absente : nombre de départs."]
    assert not preview(b"PK\x03\x04 not a workbook", "x.xlsx", engine).ok
    assert preview(b"a;b", "x.pdf", engine).messages == [
        "Fichier illisible : format non accepté : un extrait TDBMS (.csv) ou le modèle de l'observatoire (.xlsx)."]
    assert preview(b"x" * 1_500_000, "x.csv", engine, max_bytes=1_000_000).messages == [
        "Fichier illisible : fichier trop volumineux (1,5 Mo) : 1 Mo au plus."]
    left = [p for p in Path(tempfile.gettempdir()).glob("obs-upload-*")]
    assert left == [], "the temporary copy of an upload is always removed"


def test_a_private_save_never_touches_published_data_and_removing_it_restores_the_store(engine, dash_app,
                                                                                        monkeypatch):
    group = published_peer_group(engine)
    before, before_counts, before_bands = published_state(engine), snapshot(engine), bands(engine, group)
    with engine.connect() as conn:
        published_a = conn.execute(text("SELECT name, esms_category, territory_id FROM establishment "
                                        "WHERE finess = :f"), {"f": group["a"]}).one()
    store = use_store(monkeypatch, str(engine.url))
    client = dash_app.server.test_client()
    api_queries = [f"/api/v1/observations?indicator=turnover_rate&territory={group['territory']}&breakdown="
                   f"esms:{group['category']}&period={group['year']}",
                   "/api/v1/observations?indicator=turnover_rate&territory=FR",
                   "/api/v1/observations?indicator=turnover_rate&level=departement&format=csv"]
    queries.clear_caches(store)
    api_before = [client.get(q).data for q in api_queries]

    token, upload_id = save_private(engine, upload_bytes(group), "Mon fichier.csv")

    assert published_state(engine) == before  # establishment, figures, aggregates, sources, version: untouched
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, esms_category, territory_id FROM establishment WHERE finess = :f"),
                            {"f": group["a"]}).one() == published_a
        assert conn.execute(text("SELECT COUNT(*) FROM establishment WHERE finess = :f"),
                            {"f": NEW_FINESS}).scalar_one() == 0
        stored = conn.execute(text("SELECT token_sha256, file_name FROM private_upload")).one()
        load = conn.execute(text("SELECT source_id, status, file_name FROM etl_load WHERE load_id = "
                                 "(SELECT load_id FROM private_upload)")).one()
        everything = json.dumps([list(map(str, r)) for t in ("private_upload", "private_figure", "etl_load")
                                 for r in conn.execute(text(f"SELECT * FROM {t}")).all()])  # noqa: S608
    assert stored == (hashlib.sha256(token.encode()).hexdigest(), "Mon fichier.csv")
    assert token not in everything  # the token itself is stored nowhere
    assert tuple(load) == (None, "private", "(espace privé)")
    assert private_rows(engine) == (1, 10)
    assert bands(engine, group) == before_bands  # nobody's peers changed
    queries.clear_caches(store)
    for query, earlier in zip(api_queries, api_before):
        served = client.get(query).data
        assert served == earlier and INTRUDER.encode() not in served and NEW_FINESS.encode() not in served
    assert client.get("/api/v1/observations?indicator=turnover_rate&source=private").status_code == 400

    saved = read_private(engine, token)
    assert saved.upload_id == upload_id and saved.file_name == "Mon fichier.csv"
    assert sorted(saved.establishments.finess) == sorted([group["a"], NEW_FINESS])
    turnover = saved.units.set_index(["finess", "indicator_id"]).value
    assert turnover[(group["a"], "turnover_rate")] == pytest.approx(100 * (90 + 95) / 2 / 10)

    # the saved figures against their peers: published ones only, the establishment itself excluded
    from observatory.views.own_figures import own_figures_view

    view = own_figures_view(store, saved.units, saved.establishments, "departement")
    row = view.bands.set_index(["finess", "indicator_id"]).loc[(group["a"], "turnover_rate")]
    published_b = before_bands[("b", "turnover_rate", "departement")]
    assert row.n == published_b.n  # A's peers: the group minus A, as B's are the group minus B
    assert row.label.startswith(INTRUDER)

    assert remove_private(engine, token) is True
    assert private_rows(engine) == (0, 0) and read_private(engine, token) is None
    assert snapshot(engine) == before_counts and published_state(engine) == before
    assert remove_private(engine, token) is False  # once only


def test_a_wrong_token_reads_nothing_and_removes_nothing(engine):
    group = published_peer_group(engine)
    token, _ = save_private(engine, upload_bytes(group, bad_row=False), "fichier.csv")
    counts = snapshot(engine)
    wrong = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in (wrong, token[:-1], token + "x", "", None, "' OR 1=1 --", hashlib.sha256(token.encode()).hexdigest()):
        assert read_private(engine, bad) is None
        assert remove_private(engine, bad) is False
    assert snapshot(engine) == counts and read_private(engine, token) is not None


def test_cli_private_load_prints_the_link_and_unload_removes_it_completely(engine, tmp_path):
    group = published_peer_group(engine)
    before, before_counts = published_state(engine), snapshot(engine)
    path = tmp_path / "ANN_MS_TDP_ET_mine.CSV"
    path.write_bytes(upload_bytes(group))
    engine.dispose()
    env = {**os.environ, "OBSERVATORY_DB": str(engine.url)}
    loaded = subprocess.run([sys.executable, "-m", "etl", "load", str(path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert "private link: /mon-etablissement#cle=" in loaded.stdout
    token = loaded.stdout.split("#cle=")[1].split()[0]
    load_id = int(loaded.stdout.split(", load ")[1].split(":")[0])
    assert read_private(engine, token) is not None and published_state(engine) == before
    status = subprocess.run([sys.executable, "-m", "etl", "status"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert status.returncode == 0 and f"#{load_id} tdbms" in status.stdout and token not in status.stdout
    removed = subprocess.run([sys.executable, "-m", "etl", "unload", str(load_id)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert removed.returncode == 0, removed.stderr
    assert read_private(engine, token) is None and private_rows(engine) == (0, 0)
    assert snapshot(engine) == before_counts and published_state(engine) == before


def test_published_scope_still_loads_and_private_refuses_other_adapters(engine):
    summary = load_file(engine, ROOT / "data/templates/exemple_mon_etablissement.xlsx", "tdbms")
    assert summary.private_token and summary.published == summary.derived == 0
    assert "private link: /mon-etablissement#cle=" in "\n".join(summary.lines())
    removed = unload(engine, summary.load_id)
    assert removed == {"private_figure": 15, "private_upload": 1, "etl_load": 1}
    with pytest.raises(LoadError, match="own figures only"):
        load_file(engine, ROOT / "data/real/dares/evol_mmo.csv", scope="private")


def test_saving_refuses_what_cannot_be_read_and_writes_nothing(engine):
    counts = snapshot(engine)
    for content, name in ((b"a;b\r\n1;2\r\n", "x.csv"), (b"x", "x.pdf"), (b"", "x.csv")):
        with pytest.raises(LoadError):
            save_private(engine, content, name)
    with pytest.raises(LoadError, match="too large"):
        save_private(engine, b"x" * 100, "x.csv", max_bytes=10)
    assert snapshot(engine) == counts


def click(dash_duo, selector: str) -> None:
    """A real click's effect on an element that a sticky bar may cover: scrolled to, then clicked."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_the_page_saves_follows_the_private_link_and_deletes(dash_duo, dash_app, built_store, tmp_path, monkeypatch):
    """In a browser: upload, save, the link shows the saved figures, « Supprimer mes données » removes them. The
    app serves a copy of the built store: the session's store, which other tests read, is never written."""
    built_store = copy_store(built_store, tmp_path / "served.sqlite")
    use_store(monkeypatch, str(built_store.url))
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/mon-etablissement")
    upload = dash_duo.wait_for_element("#own-upload input[type=file]", timeout=30)
    upload.send_keys(str(ROOT / "data/templates/exemple_mon_etablissement.xlsx"))
    dash_duo.wait_for_contains_text("#own-messages", "3 ligne(s) lue(s) dans le fichier : 3 retenue(s)", timeout=20)
    click(dash_duo, "#own-save")
    dash_duo.wait_for_contains_text("#own-saved", "Votre lien privé", timeout=20)
    link = dash_duo.find_element("#own-private-link").get_attribute("href")
    token = link.split("#cle=")[1]
    try:
        assert "python -m etl" not in dash_duo.find_element("#own-saved").text
        assert dash_duo.driver.current_url.endswith("#cle=" + token)  # the address is the private link
        dash_duo.wait_for_contains_text("#own-private-text", "Vos données enregistrées", timeout=20)
        # another visitor, a fresh page: nothing of it; the private link: the saved figures
        dash_duo.driver.get(dash_duo.server_url + "/mon-etablissement")
        dash_duo.wait_for_text_to_equal("#own-private-text", "", timeout=20)
        assert "Mon établissement 1" not in dash_duo.driver.page_source
        dash_duo.driver.get(link)
        dash_duo.driver.refresh()
        dash_duo.wait_for_contains_text("#own-summary", "médiane des pairs", timeout=20)
        assert "Mon établissement 1 (exemple)" in dash_duo.find_element("#own-summary").text
        click(dash_duo, "#own-delete")
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                dash_duo.driver.switch_to.alert.accept()  # « Supprimer définitivement … ? »
                break
            except Exception:  # noqa: BLE001 — the dialog is not up yet
                time.sleep(0.2)
        dash_duo.wait_for_contains_text("#own-private-text", "Vos données ont été supprimées", timeout=20)
        assert read_private(built_store, token) is None
        dash_duo.driver.refresh()
        dash_duo.wait_for_contains_text("#own-private-text", "ne correspond à aucune donnée enregistrée", timeout=20)
        assert [e for e in (dash_duo.get_logs() or []) if e.get("level") == "SEVERE"] == []
    finally:
        remove_private(built_store, token)


def test_a_rebuild_keeps_private_uploads_and_their_links(engine, monkeypatch):
    """`etl build` makes every published table anew; a user's private link must still work afterwards."""
    from etl import build as build_module

    group = published_peer_group(engine)
    token, _ = save_private(engine, upload_bytes(group, bad_row=False), "fichier.csv")
    saved = read_private(engine, token)
    # a build over one small bundled file (the mechanism is the same for all of them)
    small = [f for f in build_module.bundled_files() if f[0].name == "evol_mmo.csv"]
    monkeypatch.setattr(build_module, "bundled_files", lambda: small)
    build_module.build(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM etl_load")).scalar() == 1  # published data made anew
        assert conn.execute(text("SELECT load_id FROM private_upload")).scalar() is None
    again = read_private(engine, token)
    assert again is not None and len(again.units) == len(saved.units)
    assert remove_private(engine, token) and private_rows(engine) == (0, 0)
