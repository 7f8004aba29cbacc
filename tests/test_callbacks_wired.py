"""Every callback is wired to components that exist (issue 19): `suppress_callback_exceptions` is off, and each
Input, Output and State of every registered callback — every page's, not only the page on screen — names a
component of Dash's validation layout (the app's shell and every page's layout) and one of its properties.
Pure: no browser, the app's callback list against its layout tree."""
from __future__ import annotations

import json

import pytest

from pages._components import wiring


@pytest.fixture(scope="module")
def wired_app(dash_app):
    """The app after its first request: Dash has collected every callback and built the validation layout."""
    assert dash_app.server.test_client().get("/").status_code == 200
    assert dash_app.config.suppress_callback_exceptions is False
    assert dash_app.validation_layout is not None
    return dash_app


def test_every_callback_names_ids_of_the_validation_layout(wired_app):
    callbacks = wired_app._callback_list
    written = {part.rsplit(".", 1)[0] for spec in callbacks for part in spec["output"].strip(".").split("...")}
    # every page's callbacks are there, not only one page's
    assert {"rec-trend", "rh-trend", "form-trend", "rh-card", "ter-map", "fil-heatmap", "data-table", "own-bands",
            "outlook-sentence", "page-link", "_pages_content"} <= written
    assert wiring.unwired(callbacks, wired_app.validation_layout) == {}


def test_the_validation_layout_holds_the_shell_and_every_page(wired_app):
    ids = {c.id for c in wiring.components_with_ids(wired_app.validation_layout)}
    assert {"url", "nav-collapse", "_pages_content", "ter-map", "rec-trend", "data-table", "own-saved"} <= ids


def test_the_check_catches_a_missing_id_and_a_missing_property(wired_app):
    planted = [*wired_app._callback_list,
               {"output": "ter-mapp.figure", "inputs": [{"id": "ter-indicator", "property": "value"}], "state": []},
               {"output": "..ter-map.figure...ter-map-summary.children..",
                "inputs": [{"id": "ter-indicator", "property": "valeur"}],
                "state": [{"id": "no-such-state", "property": "value"}]}]
    assert wiring.unwired(planted, wired_app.validation_layout) == {
        "ter-mapp.figure": ["ter-mapp: no such id"],
        "..ter-map.figure...ter-map-summary.children..": ["ter-indicator.valeur: no such property",
                                                          "no-such-state: no such id"]}


def test_the_browser_validates_against_the_ids_not_every_page_s_figures(wired_app):
    """The page's config carries a skeleton of the validation layout (ids and types): a few kilobytes, not every
    page's figures and tables."""
    page = wired_app.server.test_client().get("/").get_data(as_text=True)
    config = json.loads(page.split('<script id="_dash-config" type="application/json">')[1].split("</script>")[0])
    skeleton = config["validation_layout"]
    assert config["suppress_callback_exceptions"] is False
    ids = {c["props"]["id"] for c in skeleton["props"]["children"]}
    assert ids == {c.id for c in wiring.components_with_ids(wired_app.validation_layout)}
    assert wiring.unwired(wired_app._callback_list, wired_app.validation_layout) == {}
    assert len(page) < 100_000
