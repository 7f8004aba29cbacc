"""Issue 11 in a real headless Chromium: charts stay drawn through filter changes, every page fits a phone,
accessibility basics (text alternatives, labels, keyboard)."""
from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.test_dashboard import PAGES, errors, wait_text

# Every filter of every explorer-like page, and a text its first render writes (the callbacks have run).
EXPLORERS = {
    "/recrutement": (("rec-indicator", "rec-profession", "rec-territory", "rec-period", "rec-source"),
                     "#rec-trend-summary", "En 20"),
    "/ressources-humaines": (("rh-indicator", "rh-profession", "rh-territory", "rh-period", "rh-breakdown",
                              "rh-source"), "#rh-trend-summary", "En 20"),
    "/formation": (("form-indicator", "form-profession", "form-territory", "form-period", "form-source"),
                   "#form-trend-summary", "En 20"),
    "/filieres": (("fil-territory",), "#fil-summary", "filières"),
    "/territoires": (("ter-indicator", "ter-level", "ter-profession", "ter-period", "ter-territory"),
                     "#ter-map-summary", "territoires"),
}
CHART_HEIGHTS = ("return [...document.querySelectorAll('.js-plotly-plot')].map(g => "
                 "[(g.closest('.dash-graph') || g).id, g.getBoundingClientRect().height, "
                 "(g.querySelector('.main-svg') || {getBoundingClientRect: () => ({height: 0})})"
                 ".getBoundingClientRect().height])")


def settle(dash_duo, timeout: float = 15) -> None:
    """Wait until no callback is pending (Dash marks the components it is updating), twice in a row."""
    deadline, calm = time.time() + timeout, 0
    while time.time() < deadline and calm < 3:
        busy = dash_duo.driver.execute_script("return !!document.querySelector('[data-dash-is-loading=\"true\"]')")
        calm = 0 if busy else calm + 1
        time.sleep(0.25)


def pick_another(dash_duo, element_id: str) -> str | None:
    """Open the dropdown and click an option other than the selected one, among the first few: its text
    (None when the dropdown has a single option)."""
    dropdown = dash_duo.find_element(f"#{element_id}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", dropdown)
    dropdown.click()
    menu = dash_duo.find_element(".dash-dropdown-options")
    options = menu.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")[:6]
    choices = [o for o in options if o.get_attribute("aria-selected") != "true"]
    if not choices:
        dropdown.send_keys(Keys.ESCAPE)
        return None
    text = choices[0].text
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'nearest', behavior: 'instant'})", choices[0])
    choices[0].click()
    return text


def assert_charts_drawn(dash_duo, context: str) -> None:
    heights = dash_duo.driver.execute_script(CHART_HEIGHTS)
    assert heights, f"{context}: no chart"
    low = [h for h in heights if h[1] <= 100 or h[2] <= 100]
    assert not low, f"{context}: charts without height (id, div, svg): {low}"


@pytest.mark.parametrize("path", list(EXPLORERS))
def test_every_filter_changed_twice_keeps_every_chart_drawn(dash_duo, dash_app, path):
    dropdowns, ready, text = EXPLORERS[path]
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    wait_text(dash_duo, ready, text)
    settle(dash_duo)
    assert_charts_drawn(dash_duo, f"{path} at first render")
    for element_id in dropdowns:
        for turn in (1, 2):
            chosen = pick_another(dash_duo, element_id)
            if chosen is None:
                break
            settle(dash_duo)
            assert_charts_drawn(dash_duo, f"{path}, {element_id} = {chosen!r} (change {turn})")
    assert errors(dash_duo) == []


# What sticks out of a 390 px page: the widest elements that do not scroll inside a box of their own.
OVERFLOW = """
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.right <= innerWidth + 1 || r.width === 0) continue;
  let p = el.parentElement, inside = false;
  while (p && p !== document.body) {
    const o = getComputedStyle(p).overflowX;
    if ((o === 'auto' || o === 'scroll' || o === 'hidden') && p.getBoundingClientRect().right <= innerWidth + 1) {
      inside = true; break;
    }
    p = p.parentElement;
  }
  const name = String(el.className.baseVal ?? el.className).slice(0, 40);
  if (!inside) out.push([el.tagName, el.id, name, Math.round(r.right)]);
}
return [document.documentElement.scrollWidth, innerWidth, out.slice(0, 8)];
"""


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits_a_phone(dash_duo, dash_app, path):
    """390 × 844: no horizontal scroll of the page (a map or a table may scroll inside its own card)."""
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(390, 844)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    wait_text(dash_duo, "h1", PAGES[path])
    settle(dash_duo)
    time.sleep(0.5)
    width, viewport, culprits = dash_duo.driver.execute_script(OVERFLOW)
    assert width <= viewport, f"{path}: {width} px wide in a {viewport} px viewport; sticking out: {culprits}"
    assert errors(dash_duo) == []


A11Y = """
const missing = [];
for (const graph of document.querySelectorAll('.dash-graph')) {
  const holder = graph.closest('[aria-describedby]');
  const ids = holder ? holder.getAttribute('aria-describedby').split(/\\s+/) : [];
  const absent = ids.filter(id => !document.getElementById(id));
  if (!holder || absent.length) missing.push(['graph', graph.id, ids.join(' '), absent.join(' ')]);
}
for (const box of document.querySelectorAll('.dash-dropdown')) {
  const labelled = (box.id && document.querySelector(`label[for="${box.id}"]`)) || box.getAttribute('aria-label');
  if (!labelled) missing.push(['dropdown', box.id]);
}
return [document.querySelectorAll('.dash-graph').length, document.querySelectorAll('.dash-dropdown').length, missing];
"""


@pytest.mark.parametrize("path", PAGES)
def test_every_chart_is_described_and_every_dropdown_labelled(dash_duo, dash_app, path):
    """RGAA basics: a chart's text alternative is its summary sentence and its data table (aria-describedby,
    ids present in the page); a dropdown has a <label for> (or an aria-label)."""
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    wait_text(dash_duo, "h1", PAGES[path])
    settle(dash_duo)
    _graphs, _dropdowns, missing = dash_duo.driver.execute_script(A11Y)
    assert missing == [], f"{path}: {missing}"


FOCUSED = "const a = document.activeElement; const w = a && a.closest('.dash-dropdown-wrapper'); " \
          "return w ? w.querySelector('.dash-dropdown').id : (a ? a.tagName + '#' + a.id : null)"


def test_keyboard_moves_through_the_filters_and_changes_one(dash_duo, dash_app):
    """Tab goes through the filters in reading order; Enter opens a dropdown, arrows and Enter choose."""
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/recrutement")
    wait_text(dash_duo, "#rec-trend-summary", "part des projets jugés difficiles")
    settle(dash_duo)
    dash_duo.driver.execute_script("document.querySelector('#rec-indicator').closest('.dash-dropdown-wrapper')"
                                   ".querySelector('[tabindex=\"0\"], button').focus()")
    order = [dash_duo.driver.execute_script(FOCUSED)]
    for _ in range(4):
        dash_duo.driver.switch_to.active_element.send_keys(Keys.TAB)
        order.append(dash_duo.driver.execute_script(FOCUSED))
    assert order == ["rec-indicator", "rec-profession", "rec-territory", "rec-period", "rec-source"]
    for _ in range(4):
        dash_duo.driver.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    assert dash_duo.driver.execute_script(FOCUSED) == "rec-indicator"
    before = dash_duo.find_element("#rec-trend-summary").text
    active = dash_duo.driver.switch_to.active_element
    active.send_keys(Keys.ENTER)
    dash_duo.wait_for_element(".dash-dropdown-options")
    deadline = time.time() + 5  # the focus moves into the list of options
    while time.time() < deadline and not dash_duo.driver.execute_script(
            "return !!document.activeElement.closest('.dash-dropdown-options')"):
        time.sleep(0.1)
    dash_duo.driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    time.sleep(0.2)
    dash_duo.driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_text(dash_duo, "#rec-indicator", "Projets de recrutement (projets)")
    deadline = time.time() + 15
    while dash_duo.find_element("#rec-trend-summary").text == before and time.time() < deadline:
        time.sleep(0.2)
    assert dash_duo.find_element("#rec-trend-summary").text != before
    settle(dash_duo)
    assert_charts_drawn(dash_duo, "after a keyboard change")
    assert errors(dash_duo) == []
