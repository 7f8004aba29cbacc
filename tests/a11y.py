"""Issue 22's two instruments, shared by tests/test_accessibility.py and tests/test_keyboard.py.

- axe-core (the `axe-core-python` package ships its build): WCAG 2.0/2.1 A and AA rules and axe's best practices.
- Keyboard only, as a person without a mouse works: keys go to whatever has the focus (no click, no element picked
  by the test), and every stop of the focus is checked visible: an outline of at least 2 px on the element, on
  screen, the element not see-through (its opacity times its ancestors'); for a field drawn see-through over its
  box (Dash's file input), the outline must be on the box a person sees. Not checked here: the outline's colour
  (tests/test_contrast.py computes it) and clipping by a scrolled box.
"""
from __future__ import annotations

import time

from axe_core_python.selenium import Axe
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

AXE_OPTIONS = {"runOnly": {"type": "tag",
                           "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}  # details of violations only: half the time, 2 % of the JSON


_AXE_SCRIPT = Axe().axe_script  # the package's axe-core build
RUN = ("const done = arguments[arguments.length - 1];"
       "axe.run(document, arguments[0]).then(r => done(r.violations), e => done({error: String(e)}));")


def axe(driver) -> list[dict]:
    """axe-core's violations on the page as it is now (after Dash has drawn it). The 430 KB script is injected once
    per page load (the package injects it at every run), and only the violations come back."""
    settled(driver)
    driver.set_script_timeout(60)
    if not driver.execute_script("return typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        driver.execute_script(_AXE_SCRIPT)
    found = driver.execute_async_script(RUN, AXE_OPTIONS)
    assert isinstance(found, list), found  # an error inside axe-core is a failure, never « nothing found »
    return found


# RGAA 1.1 / 11.1, checked on every page by tests/test_accessibility.py: a chart's text alternative is its summary
# sentence and its data table (aria-describedby, ids present in the page); a dropdown has a <label for>
TEXT_ALTERNATIVES = """
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


def serious(violations: list[dict]) -> list[tuple[str, list]]:
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations
            if v["impact"] in ("serious", "critical")]

FOCUS = """
const a = document.activeElement;
if (!a || a === document.body) return {tag: 'BODY', id: '', name: '', visible: false, why: 'nothing focused'};
const seen = e => { let o = 1; for (let x = e; x; x = x.parentElement) o *= parseFloat(getComputedStyle(x).opacity);
                    return o; };   // the opacity a person sees: its own times its ancestors'
const hidden = e => { const q = e.getBoundingClientRect(); return q.width < 2 || q.height < 2 || seen(e) < 0.5; };
let shown = a;
while (shown.parentElement && hidden(shown)) shown = shown.parentElement;  // a see-through field: its box
const r = shown.getBoundingClientRect();
const ring = s => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
const own = getComputedStyle(a), box = getComputedStyle(shown);
const onScreen = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth && !hidden(shown);
const name = (a.getAttribute('aria-label') || a.textContent || a.value || a.getAttribute('placeholder') || '')
  .trim().slice(0, 80);
// a see-through element's own outline is as see-through as it: then only its box's outline counts
const outlined = shown === a ? ring(own) : ring(box);
const wrapper = a.closest('.dash-dropdown-wrapper');  // a dropdown's button or its keyboard entry: the dropdown
const dropdown = wrapper && wrapper.querySelector('.dash-dropdown[id]');
return {tag: a.tagName, id: dropdown ? dropdown.id : a.id, type: a.type || '', name: name,
        visible: outlined && onScreen,
        why: outlined ? (onScreen ? '' : 'off screen') : 'no outline seen: ' + (shown === a ? own : box).outlineStyle};
"""


def press(driver, *keys) -> None:
    """Keys to the focused element, as a keyboard sends them."""
    ActionChains(driver).send_keys(*keys).perform()


def replace_text(driver, typed: str) -> None:
    """In the focused text field: Ctrl+A (held while A is pressed), then the new text and Enter."""
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    press(driver, typed, Keys.ENTER)


def focused(driver) -> dict:
    return driver.execute_script(FOCUS)


def matches(driver, selector: str) -> bool:
    """The focus is on `selector`; for a dropdown (`#id`), on its button or on its keyboard entry (Shift+Tab lands
    there)."""
    return driver.execute_script(
        "const a = document.activeElement; if (!a) return false; if (a.matches(arguments[0])) return true;"
        "const w = a.closest('.dash-dropdown-wrapper'); const d = w && w.querySelector('.dash-dropdown[id]');"
        "return !!d && d.matches(arguments[0]);", selector)


def skip_to_content(driver) -> dict:
    """The first Tab of a page lands on « Aller au contenu », visible; Enter moves on into the page's content."""
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    press(driver, Keys.TAB)
    stop = focused(driver)
    assert stop["name"] == "Aller au contenu" and stop["visible"], stop
    press(driver, Keys.ENTER)
    wait(lambda: driver.execute_script("return document.activeElement.id") == "contenu", 5, "focus in the content")
    return stop


def tab_to(driver, selector: str, limit: int = 60, backwards: bool = False) -> list[dict]:
    """Tab (or Shift+Tab) until the focus is on `selector`; every stop on the way must show where the focus is."""
    stops = []
    for _ in range(limit):
        if backwards:  # Shift held while Tab is pressed
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(driver, Keys.TAB)
        stop = focused(driver)
        deadline = time.time() + 2  # the page scrolls smoothly to the focused element (Bootstrap's smooth scroll)
        while stop["why"] == "off screen" and time.time() < deadline:
            time.sleep(0.1)
            stop = focused(driver)
        stops.append(stop)
        assert stop["visible"], \
            f"focus not visible at stop {len(stops)}: {stop}; before: {[s['id'] or s['name'] for s in stops[:-1]]}"
        if matches(driver, selector):
            return stops
    raise AssertionError(f"{selector} not reached in {limit} Tab: {[s['name'] or s['id'] for s in stops]}")


def choose(driver, dropdown: str, typed: str, shown: str, timeout: float = 20) -> None:
    """On a focused dropdown: Enter opens it (the focus in its « Rechercher » box, or on the current choice), the
    typed words go to the box and filter the list, the arrows go down to the wanted match, Enter picks it; the focus
    comes back to the dropdown, which names the choice."""
    assert matches(driver, f"#{dropdown}"), focused(driver)
    # no mouse here: the pointer rests in the corner, not over the list (a choice under it would take the focus)
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 0, "y": 0})
    press(driver, Keys.ENTER)
    wait(lambda: driver.execute_script("return !!document.activeElement.closest('.dash-dropdown-content')"), 5,
         "the focus in the opened dropdown")
    press(driver, typed)  # on the current choice or in the box: the letters go to the box (assets/a11y.js)
    assert driver.execute_script("return document.activeElement.placeholder") == "Rechercher"
    listed = "return [...document.querySelectorAll('.dash-dropdown-content .dash-dropdown-option')]" \
             ".map(o => o.textContent.trim().toLowerCase())"
    wait(lambda: (lambda names: names and all(typed.lower() in n for n in names))(driver.execute_script(listed)),
         10, f"the list filtered by {typed!r}")  # the search applies after a pause: arrows before it are lost
    option = "const o = document.activeElement.closest('.dash-dropdown-option'); return o ? o.textContent.trim() : null"
    for _ in range(20):  # down the filtered list to the wanted choice, as a person reads each one
        press(driver, Keys.ARROW_DOWN)
        time.sleep(0.1)
        if driver.execute_script(option) == shown:
            break
    else:
        raise AssertionError(f"{shown!r} not among the choices matching {typed!r}")
    press(driver, Keys.ENTER)
    read = f"return document.getElementById('{dropdown}').textContent"
    try:
        wait(lambda: driver.execute_script(read) == shown, timeout, f"{dropdown} showing {shown!r}")
    except AssertionError as error:
        raise AssertionError(f"{error}; it shows {driver.execute_script(read)!r}, focus {focused(driver)}") from None
    wait(lambda: matches(driver, f"#{dropdown}"), 5, f"the focus back on {dropdown}")
    settled(driver)  # the page has followed the choice (the next dropdown's choices may depend on it)


def settled(driver, timeout: float = 30) -> None:
    """Dash has drawn what the last change asked for (no element still loading)."""
    wait(lambda: not driver.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"), timeout, "callbacks done")


def wait(condition, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = condition()
        except Exception:  # noqa: BLE001 (the page re-renders under us)
            value = None
        if value:
            return value
        time.sleep(0.15)
    raise AssertionError(f"timed out waiting for {what}")
