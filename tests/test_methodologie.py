"""Issue 17: « Méthodologie » was a 10,000 px page of wide tables. Now: a table of contents, one stable anchor per
catalogue indicator (`#indicateur-<id>`) with its formula in words and in symbols, a link to it under every
explorer chart, and no horizontal page scroll on a phone (wide tables scroll inside their own box)."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from observatory import catalogue
from tests.test_charts_phone import OVERFLOW, settle
from tests.test_dashboard import errors
from tests.test_journeys import wait_until

WIDTHS = {"desk": (1280, 900), "phone": (390, 844)}
ON_PAGES = sorted({i for ids in catalogue.PAGES.values() for i in ids})


def walk(component):
    """Every component of a Dash layout (depth first)."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def text_of(component) -> str:
    return " ".join(c if isinstance(c, str) else text_of(c) for c in _children(component))


def _children(component) -> list:
    children = getattr(component, "children", None)
    if children is None:
        return []
    return list(children) if isinstance(children, (list, tuple)) else [children]


@pytest.fixture(scope="module")
def method_layout(dash_app):
    from pages import methodologie

    with dash_app.server.app_context():  # the page reads the app's store
        return list(walk(methodologie.layout()))


@pytest.mark.parametrize("indicator_id", [i.indicator_id for i in catalogue.INDICATORS])
def test_every_indicator_has_one_anchor_a_toc_link_and_its_formula(method_layout, indicator_id):
    entry = catalogue.get(indicator_id)
    anchors = [c for c in method_layout if getattr(c, "id", None) == entry.anchor]
    assert entry.anchor == f"indicateur-{indicator_id}" and len(anchors) == 1
    toc = next(c for c in method_layout if getattr(c, "id", None) == "method-toc")
    links = [c for c in walk(toc) if getattr(c, "href", None) == f"#{entry.anchor}"]
    assert len(links) == 1 and text_of(links[0]) == entry.label
    section = text_of(anchors[0])
    assert entry.formula in section and entry.formula_words in section and entry.definition in section


def test_the_toc_names_the_secrecy_section(method_layout):
    toc = next(c for c in method_layout if getattr(c, "id", None) == "method-toc")
    assert "#secret-statistique" in {getattr(c, "href", None) for c in walk(toc)}
    section = [c for c in method_layout if getattr(c, "id", None) == "secret-statistique"]
    assert len(section) == 1 and text_of(section[0]) == "Secret statistique"


def test_ratio_formulas_read_in_words():
    entry = catalogue.get("turnover_rate")
    assert entry.formula_words == ("Taux de rotation = (recrutements + départs) / 2 / personnel permanent au 31/12 "
                                   "de N-1 × 100")


@pytest.mark.parametrize("indicator_id", ON_PAGES)
def test_every_chart_definition_links_to_its_anchor(dash_app, indicator_id):
    from pages._components import ui

    links = [c for c in ui.definition_children(indicator_id) if getattr(c, "href", None)]
    assert [c.href for c in links] == [f"/methodologie#indicateur-{indicator_id}"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_chart_definition_lands_on_its_anchor_and_the_page_fits(dash_duo, dash_app, width):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*WIDTHS[width])
    dash_duo.wait_for_page(url=dash_duo.server_url + "/recrutement")
    dash_duo.wait_for_contains_text("#rec-trend-summary", "En 20", timeout=30)
    link = dash_duo.find_element("#rec-trend-definition a")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", link)
    anchor = f"indicateur-{catalogue.PAGES['recrutement'][0]}"
    wait_until(lambda: urlparse(dash_duo.driver.current_url).path == "/methodologie", 30, "/methodologie")
    assert urlparse(dash_duo.driver.current_url).fragment == anchor
    dash_duo.wait_for_element(f"#{anchor}", timeout=30)
    settle(dash_duo)
    top = wait_until(lambda: dash_duo.driver.execute_script(
        f"const r = document.getElementById('{anchor}').getBoundingClientRect(); "
        "return r.top >= -1 && r.top < innerHeight / 2 ? String(r.top) : null;"), 20, "the anchor in view")
    assert float(top) < WIDTHS[width][1]
    assert dash_duo.driver.execute_script(f"return document.querySelectorAll('[id=\"{anchor}\"]').length") == 1
    scroll_width, viewport, culprits = dash_duo.driver.execute_script(OVERFLOW)
    assert scroll_width <= viewport <= WIDTHS[width][0], f"{scroll_width} px in {viewport}: {culprits}"
    assert errors(dash_duo) == []


@pytest.mark.parametrize("path", ["/recrutement", "/ressources-humaines", "/formation", "/territoires"])
def test_every_chart_of_a_page_has_its_definition_link(dash_app, path, app_context):
    """Each chart card of the explorers (trend, comparison) and the map carries the link to its indicator."""
    import dash

    page = next(p for p in dash.page_registry.values() if p["path"] == path)
    layout = list(walk(page["layout"]()))
    graphs = [c for c in layout if type(c).__name__ == "Graph"]
    links = [c.href for c in layout if str(getattr(c, "href", "")).startswith("/methodologie#indicateur-")]
    indicator = catalogue.PAGES[path.strip("/")][0]
    assert graphs and links == [f"/methodologie#indicateur-{indicator}"] * len(graphs)
