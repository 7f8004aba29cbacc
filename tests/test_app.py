"""The placeholder dashboard in a real headless Chromium: it renders the sources, with no console error."""
from __future__ import annotations

import importlib
import os

import pytest


@pytest.fixture
def dash_app(built_store, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_DB", str(built_store.url))
    import app as app_module

    return importlib.reload(app_module).app


def test_home_page_lists_the_sources(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_text_to_equal("h1", "Observatoire de l'attractivité des métiers du social", timeout=10)
    dash_duo.wait_for_contains_text("#sources", "Enquête Besoins en main-d'œuvre (BMO) 2023", timeout=10)
    assert dash_duo.get_logs() == []
    assert os.environ["OBSERVATORY_DB"].startswith("sqlite:///")
