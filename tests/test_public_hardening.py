"""Issue 18, ready for the open internet: user text is text, every callback survives wrong input, and every
response carries the security headers and discloses no software version.

- an establishment name that is markup is shown as its characters in the chart (never a link nor bold), and a
  30,000-character name is cut for display (the tab does not crash);
- a seeded fuzz of every server callback (enumerated from `/_dash-dependencies`) with wrong-typed and unknown
  values: never a 5xx; log lines are bounded;
- a Content-Security-Policy the app's own scripts satisfy (headless Chromium reports no violation on any page),
  `nosniff`, no framing, no `Referer`; no Dash/Plotly/Python version in pages; `/_reload-hash` and unknown
  `/_dash-component-suites/*` paths are 404; links are built from `OBSERVATORY_PUBLIC_URL`, never from `Host`.
"""
from __future__ import annotations

import io
import json
import logging
import random
import sys
from importlib import metadata

import pandas as pd
from selenium.webdriver.common.by import By

from observatory import figures, views
from tests.test_journeys import RAW_2023, wait_until

MARKUP = '<a href="https://evil.example/">evil</a><b>gras</b>'
PAGES = ["/", "/recrutement", "/ressources-humaines", "/formation", "/filieres", "/territoires",
         "/mon-etablissement", "/donnees", "/methodologie", "/perspectives"]


def upload_file(tmp_path, name: str):
    """A one-establishment TDBMS extract (a published Rhône EHPAD's row under a FINESS of its own) named `name`."""
    raw = pd.read_csv(RAW_2023, sep=";", dtype=str, encoding="utf-8")
    row = raw[(raw[raw.columns[4]] == "69") & (raw[raw.columns[3]] == "500")].head(1).copy()
    row[raw.columns[1]] = ["690999101"]
    row[raw.columns[2]] = [name]
    path = tmp_path / "extrait.csv"
    row.to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


# --- user text is text ---------------------------------------------------------------------------------------

def test_plotly_text_escapes_markup_and_band_labels_are_text():
    assert figures.plotly_text(MARKUP) == ('&lt;a href="https://evil.example/"&gt;evil&lt;/a&gt;'
                                           '&lt;b&gt;gras&lt;/b&gt;')
    assert figures.plotly_text("R&D <3") == "R&amp;D &lt;3"
    bands = pd.DataFrame({"label": [MARKUP], "q1": [1.0], "median": [2.0], "q3": [3.0], "value": [2.5]})
    figure = figures.band_figure(bands, "Titre", "%")
    assert all("<a" not in str(y) and "<b>" not in str(y) for trace in figure.data for y in trace.y)


def test_names_are_bounded_for_display():
    long = "É" * 30_000
    shown = views.own_figures.display_name(long, "690999101")
    assert len(shown) == views.own_figures.NAME_MAX and shown.endswith("…")
    assert views.own_figures.display_name("  EHPAD\n Les  Tilleuls ", "x") == "EHPAD Les Tilleuls"
    display_name = views.own_figures.display_name
    assert display_name(None, "690999101") == display_name("   ", "690999101") == "690999101"


def test_a_markup_name_is_shown_as_text_and_a_huge_name_does_not_crash(dash_duo, dash_app, tmp_path):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/mon-etablissement")
    upload = dash_duo.driver.find_element(By.CSS_SELECTOR, "#own-upload input[type=file]")
    upload.send_keys(str(upload_file(tmp_path, MARKUP)))
    title = ("const t = document.querySelector('#own-bands .gtitle'); if (!t) return ''; "  # its lines, as read
             "const lines = t.querySelectorAll('tspan.line'); "
             "return lines.length ? Array.from(lines).map(l => l.textContent).join(' ') : t.textContent;")
    text = wait_until(lambda: (t := dash_duo.driver.execute_script(title)) and "evil" in t and t, 40, "chart title")
    assert '<a href="https://evil.example/">evil</a><b>gras</b>' in text
    assert dash_duo.driver.execute_script("return document.querySelectorAll('#own-bands svg a').length") == 0
    assert dash_duo.driver.execute_script("return document.querySelectorAll('#own-bands svg b').length") == 0

    (tmp_path / "huge").mkdir()
    upload = dash_duo.driver.find_element(By.CSS_SELECTOR, "#own-upload input[type=file]")
    upload.send_keys(str(upload_file(tmp_path / "huge", "Z" * 30_000)))
    text = wait_until(lambda: (t := dash_duo.driver.execute_script(title)) and "ZZZ" in t and t, 40, "long title")
    assert "Z" * (views.own_figures.NAME_MAX - 1) + "…" in text and "Z" * views.own_figures.NAME_MAX not in text
    dash_duo.wait_for_contains_text("#own-messages", f"plus de {views.own_figures.NAME_MAX} caractères", timeout=20)
    assert dash_duo.driver.execute_script("return document.body.innerText.length") < 20_000  # the tab lives


# --- every callback survives wrong input ----------------------------------------------------------------------

WRONG = [12345, -1, 0, 1.5, True, None, "", "x" * 20_000, [], {}, [1, "a"], {"a": 1}, "<b>x</b>", "inconnu",
         [None], ["inconnu"], {"x": [1]}, "2023", 2023, -10 ** 20, "#cle=abc", "data:text/csv;base64,!!!", [[1]],
         "?indicateur=inconnu", "/donnees", float("1e308")]


def _outputs(spec: str) -> list[dict]:
    parts = spec.strip(".").split("...") if spec.startswith("..") else [spec]
    return [dict(zip(("id", "property"), part.split("@")[0].rsplit(".", 1))) for part in parts]


def test_seeded_fuzz_of_every_callback_never_answers_5xx(dash_app):
    client = dash_app.server.test_client()
    callbacks = [c for c in client.get("/_dash-dependencies").get_json() if not c.get("clientside_function")]
    assert len(callbacks) > 20
    rng, failures = random.Random(18), []
    for number in range(250):
        spec = callbacks[number % len(callbacks)]
        outputs = _outputs(spec["output"])
        inputs = [{**i, "value": rng.choice(WRONG)} for i in spec["inputs"]]
        state = [{**s, "value": rng.choice(WRONG)} for s in spec["state"]]
        fired = rng.choice(spec["inputs"])
        body = {"output": spec["output"], "outputs": outputs if spec["output"].startswith("..") else outputs[0],
                "inputs": inputs, "state": state, "changedPropIds": [f"{fired['id']}.{fired['property']}"]}
        answer = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        if answer.status_code >= 500:
            failures.append((spec["output"][:60], json.dumps(inputs)[:200]))
    malformed = client.post("/_dash-update-component", data="{", content_type="application/json")
    assert failures == [] and malformed.status_code < 500


def test_donnees_answers_wrong_input_with_its_default_table(dash_app):
    """An unknown indicator (a hand-edited or forged request) and wrong-typed filters on /donnees: the page's
    default table and its French count, not an error nor nothing."""
    client = dash_app.server.test_client()
    spec = next(c for c in client.get("/_dash-dependencies").get_json() if c["output"].startswith("..data-table."))
    values = {"data-indicator": "inconnu", "data-profession": 12345, "data-level": ["x"], "data-period": {},
              "data-source": None, "data-territory": [1]}
    body = {"output": spec["output"], "outputs": _outputs(spec["output"]), "state": [],
            "inputs": [{**i, "value": values[i["id"]]} for i in spec["inputs"]],
            "changedPropIds": ["data-indicator.value"]}
    answer = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    count = answer.get_json()["response"]["data-count"]["children"]
    assert count.endswith("observations.") or "premières affichées" in count


def test_log_lines_are_bounded():
    import app

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("observatory.test-bounded")
    logger.addHandler(handler)
    try:
        logger.warning("valeur refusée : %s", "x" * 1_000_000)
        try:
            raise KeyError("y" * 1_000_000)
        except KeyError:
            logger.exception("erreur")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue()
    assert "valeur refusée : xxx" in lines and len(lines) < 3 * app.LOG_MAX_CHARS


# --- headers, versions, links ---------------------------------------------------------------------------------

def test_security_headers_on_pages_api_and_scripts(dash_app):
    client = dash_app.server.test_client()
    page = client.get("/recrutement")
    script = next(s for s in page.get_data(as_text=True).split('src="')[1:]).split('"')[0]
    for answer in (page, client.get("/api/v1/indicators"), client.get(script), client.get("/health")):
        assert answer.status_code == 200
        policy = answer.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self' 'sha256-" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        assert answer.headers.get("X-Content-Type-Options") == "nosniff"
        assert answer.headers.get("X-Frame-Options") == "DENY"
        assert answer.headers.get("Referrer-Policy") == "no-referrer"
        assert "python" not in answer.headers.get("Server", "").lower()


def test_no_version_disclosed_and_no_dev_routes(dash_app):
    client = dash_app.server.test_client()
    versions = {metadata.version("dash"), metadata.version("plotly"), sys.version.split()[0]}
    for path in PAGES:
        html = client.get(path).get_data(as_text=True)
        assert not [v for v in versions if v in html or v.replace(".", "_") in html], path
        assert "python_version" not in html and "plotly_version" not in html
    assert client.get("/_reload-hash").status_code == 404
    assert client.get("/_dash-component-suites/inconnu/x.js").status_code == 404
    assert client.get("/_dash-component-suites/dash/inconnu.js").status_code == 404


def test_links_come_from_the_public_url_never_the_host_header(dash_app, monkeypatch):
    client = dash_app.server.test_client()
    forged = {"Host": "evil.example"}
    monkeypatch.delenv("OBSERVATORY_PUBLIC_URL", raising=False)
    body = client.get("/api/v1/observations?indicator=turnover_rate&page_size=1", headers=forged).get_json()
    assert body["next"].startswith("/api/v1/observations?") and "evil" not in body["next"]
    assert 'twitter:url" content="/recrutement"' in client.get("/recrutement", headers=forged).get_data(as_text=True)
    monkeypatch.setenv("OBSERVATORY_PUBLIC_URL", "https://observatoire.example.fr/")
    body = client.get("/api/v1/observations?indicator=turnover_rate&page_size=1", headers=forged).get_json()
    assert body["next"].startswith("https://observatoire.example.fr/api/v1/observations?")
    page = client.get("/recrutement", headers=forged).get_data(as_text=True)
    assert 'twitter:url" content="https://observatoire.example.fr/recrutement"' in page and "evil" not in page


def test_every_page_keeps_its_content_security_policy_in_chromium(dash_duo, dash_app):
    """The CSP is in force (an injected inline script does not run) and no script, style or worker of the app
    is refused on any page."""
    dash_duo.start_server(dash_app)
    refused = []
    for path in PAGES:
        dash_duo.wait_for_page(url=dash_duo.server_url + path)
        dash_duo.wait_for_element("h1", timeout=20)
        if path in ("/territoires", "/recrutement"):  # a map and trend charts drawn by Plotly
            wait_until(lambda: dash_duo.driver.execute_script(
                "return document.querySelectorAll('.js-plotly-plot .main-svg').length"), 30, f"charts on {path}")
        refused += [(path, e["message"][:200]) for e in dash_duo.get_logs() or []
                    if "Content Security Policy" in e.get("message", "") or "Refused to" in e.get("message", "")]
    assert refused == []
    injected = dash_duo.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__injected = 1'; "
        "document.body.appendChild(s); return window.__injected === 1;")
    assert injected is False
