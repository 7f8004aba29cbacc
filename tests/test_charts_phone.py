"""Issue 11 in a real headless Chromium: charts stay drawn through filter changes, the menu closes on a phone;
issue 17's check that every page fits a phone is `assert_fits_phone`, run by tests/test_accessibility.py on every
registered page it opens at 390 px (one page load for both checks). Text alternatives, labels and the keyboard are
issue 22's: tests/test_accessibility.py, tests/test_keyboard.py."""
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
    """Wait until no callback is pending (Dash marks the components it is updating) three times in a row, 0.1 s
    apart (a chained callback is asked for in the same tick as its input's answer arrives)."""
    deadline, calm = time.time() + timeout, 0
    while time.time() < deadline and calm < 3:
        busy = dash_duo.driver.execute_script("return !!document.querySelector('[data-dash-is-loading=\"true\"]')")
        calm = 0 if busy else calm + 1
        time.sleep(0.1)


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


# Every chart a reader sees is drawn (a chart hidden on purpose, such as the heat map on a phone, is skipped).
VISIBLE_CHARTS_DRAWN = """
const graphs = [...document.querySelectorAll('.js-plotly-plot')].filter(g => g.offsetParent !== null);
return graphs.every(g => { const svg = g.querySelector('.main-svg');
                           return svg && svg.getBoundingClientRect().height > 100; });
"""
# The category chart's labels (« Ressources humaines »): whole inside the chart, none over another.
CATEGORY_LABELS = """
const g = document.querySelector('#rh-compare .js-plotly-plot');
if (!g) return null;
const box = g.getBoundingClientRect();
const ticks = [...g.querySelectorAll('.ytick text')].map(t => t.getBoundingClientRect())
  .map(r => [r.left, r.right, r.top, r.bottom]);
return [box.left, box.right, ticks];
"""
# The map (« Territoires »): its colour bar and legend under the map, all inside the screen.
MAP_PARTS = """
const g = document.querySelector('#ter-map .js-plotly-plot');
if (!g) return null;
const rect = el => { if (!el) return null; const r = el.getBoundingClientRect();
                     return [r.left, r.right, r.top, r.bottom]; };
const shapes = [...g.querySelectorAll('.choroplethlocation')].map(e => e.getBoundingClientRect())
  .filter(r => r.width > 0);
const map = [Math.min(...shapes.map(r => r.left)), Math.max(...shapes.map(r => r.right)),
             Math.min(...shapes.map(r => r.top)), Math.max(...shapes.map(r => r.bottom))];
return {map, colorbar: rect(g.querySelector('.colorbar')), legend: rect(g.querySelector('.legend')),
        width: innerWidth};
"""


def wait_until_true(driver, script: str, what: str, timeout: float = 30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what}: not after {timeout} s")


def registered_paths() -> list[str]:
    import dash

    return sorted(p["path"] for p in dash.page_registry.values())


def assert_fits_phone(driver, path: str) -> None:
    """Issue 17, on a page just opened at 390 px (called by tests/test_accessibility.py, which opens every registered
    page at that width anyway): once its charts are drawn, the page is no wider than the screen (four pages were
    394 px): `scrollWidth` ≤ `clientWidth` ≤ 390 (the layout width without a desktop scroll bar); the category
    chart's labels are whole and apart; the map's colour bar and legend lie under the map, inside the screen, and
    the map has the screen's width."""
    wait_until_true(driver, VISIBLE_CHARTS_DRAWN, f"{path}: charts drawn")
    time.sleep(0.3)
    width, viewport, culprits = driver.execute_script(OVERFLOW)
    # the page's width without the desktop scroll bar a phone does not have (Chromium's takes 15 px)
    client = driver.execute_script("return document.documentElement.clientWidth")
    assert viewport == 390 and client <= 390
    assert width <= client, f"{path}: {width} px wide in {client} px; sticking out: {culprits}"
    if path == "/ressources-humaines":
        left, right, ticks = wait_until_true(driver, CATEGORY_LABELS, "category chart")
        assert len(ticks) >= 5
        cut = [t for t in ticks if t[0] < left - 1 or t[1] > right + 1]
        assert cut == [], f"category labels cut at the chart's edge ({left}–{right}): {cut}"
        ticks.sort(key=lambda t: t[2])
        overlapping = [(a, b) for a, b in zip(ticks, ticks[1:]) if a[3] > b[2] + 1]
        assert overlapping == [], f"category labels over one another: {overlapping[:3]}"
    if path == "/territoires":
        parts = wait_until_true(driver, MAP_PARTS, "map")
        left, right, top, bottom = parts["map"]
        assert right - left >= 0.75 * 390, f"the map is {right - left:.0f} px wide at 390 px"
        bar = parts["colorbar"]
        assert bar and bar[0] >= 0 and bar[1] <= 390 and bar[2] >= bottom - 2, f"colour bar {bar}, map {parts}"
        if parts["legend"]:
            assert parts["legend"][1] <= 390 and parts["legend"][2] >= bar[3] - 2, parts


def test_the_menu_closes_after_a_tap_on_a_link(dash_duo, dash_app):
    """Issue 17: at 390 px, the hamburger opens the menu, a tap on a link shows the page and closes the menu (it
    stayed open), and the hamburger opens it again; at 1280 px the links are always there and lead to the page."""
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(390, 844)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/")
    dash_duo.wait_for_element("#contenu h1", timeout=20)
    menu_open = "return document.querySelector('#nav-collapse').classList.contains('show')"
    for target, heading in (("Filières", PAGES["/filieres"]), ("Territoires", PAGES["/territoires"])):
        assert not dash_duo.driver.execute_script(menu_open)
        dash_duo.find_element("#nav-toggle").click()
        wait_until_true(dash_duo.driver, menu_open, "the menu opens")
        link = next(a for a in dash_duo.find_elements("#nav-collapse a.nav-link") if a.text == target)
        wait_until_true(dash_duo.driver, "return !document.querySelector('#nav-collapse.collapsing')", "menu opened")
        link.click()
        wait_text(dash_duo, "#contenu h1", heading)
        wait_until_true(dash_duo.driver,
                        "return !document.querySelector('#nav-collapse.show, #nav-collapse.collapsing')",
                        "the menu closes after the tap", timeout=10)
        assert not dash_duo.find_element("#nav-collapse a.nav-link").is_displayed()
    dash_duo.driver.set_window_size(1280, 900)
    time.sleep(0.5)
    assert not dash_duo.find_element("#nav-toggle").is_displayed()
    link = next(a for a in dash_duo.find_elements("#nav-collapse a.nav-link") if a.text == "Recrutement")
    link.click()
    wait_text(dash_duo, "#contenu h1", PAGES["/recrutement"])
    assert all(a.is_displayed() for a in dash_duo.find_elements("#nav-collapse a.nav-link"))
    assert errors(dash_duo) == []


