"""« Mon établissement » faced with hostile files, in a real browser against a real server process: a 6 KB
workbook declaring a cell at XFD1048576 (which once made the reader allocate 512 GiB and kill the server) and
random bytes. Each gets a French message in the page; the server stays up and keeps answering."""
from __future__ import annotations

import os
import time
import urllib.request

import pytest

from tests.conftest import serve_copy


@pytest.fixture(scope="module")
def server(built_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("upload")
    url, _env, process = serve_copy(built_store, folder, ["app.py", "--port", "{port}"])
    yield {"url": url, "process": process, "folder": folder}
    process.terminate()
    process.wait(timeout=20)


def sparse_workbook(path):
    """A valid 6 KB workbook whose one sheet spans A1:XFD1048576 (two cells, 17 billion in between)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Données"
    sheet["A1"] = "FINESS"
    sheet["XFD1048576"] = 1
    book.save(path)
    assert path.stat().st_size < 10_000
    return path


def upload(dash_duo, path) -> str:
    dash_duo.find_element("#own-upload input[type=file]").send_keys(str(path))
    dash_duo.wait_for_contains_text("#own-messages", "", timeout=30)
    deadline = time.time() + 30
    while time.time() < deadline:
        text = dash_duo.find_element("#own-messages").text.strip()
        if text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"no message after uploading {path.name}")


@pytest.mark.parametrize("width", [1400, 390])
def test_hostile_uploads_get_a_french_message_and_the_server_stays_up(dash_duo, server, width):
    folder = server["folder"]
    sparse = sparse_workbook(folder / "etablissement.xlsx")
    noise_xlsx = folder / "bruit.xlsx"
    noise_xlsx.write_bytes(os.urandom(6000))
    noise_csv = folder / "bruit.csv"
    noise_csv.write_bytes(os.urandom(6000))
    dash_duo.driver.set_window_size(width, 1000 if width > 500 else 844)
    for path in (sparse, noise_xlsx, noise_csv):
        dash_duo.driver.get(server["url"] + "/mon-etablissement")
        dash_duo.wait_for_element("#own-upload", timeout=30)
        message = upload(dash_duo, path)
        assert any(word in message for word in ("Fichier", "fichier", "feuille", "ligne")), message
        assert "Traceback" not in message and "error" not in message.lower()
        assert server["process"].poll() is None, "the server died"
        with urllib.request.urlopen(server["url"] + "/health", timeout=10) as response:
            assert response.status == 200
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= width + 10
    assert [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"] == []
