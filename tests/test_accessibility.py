"""Issue 22: axe-core (`tests/a11y.py`: WCAG 2.0/2.1 A and AA rules and axe's best practices) on every page of the
dashboard at desk and phone widths, when it opens and again after one of its filters is changed in the page with
the keyboard (the page then draws new charts, tables and sentences). No serious or critical violation may be found;
what is left at any level is what the « Accessibilité » statement names (`observatory.accessibility`), both ways,
so the statement never promises more than the pages hold. The output lists what is left, with where. In the same
states, every chart keeps its text alternative and every dropdown its label (`a11y.TEXT_ALTERNATIVES`). Each page is
opened at phone width first, where issue 17's check that it fits the screen runs too (`assert_fits_phone`)."""
from __future__ import annotations

import time

from observatory import accessibility as accessibilite
from tests.a11y import TEXT_ALTERNATIVES, axe, focused, matches, press, settled, wait
from tests.test_charts_phone import assert_fits_phone, registered_paths
from tests.test_dashboard import errors

PAGES = ("/", "/recrutement", "/ressources-humaines", "/formation", "/filieres", "/territoires", "/besoins",
         "/perspectives", "/mon-etablissement", "/donnees", "/methodologie", "/accessibilite",
         "/404")  # the page a wrong link opens
# the filter changed in each page that has one: the one that redraws most of it
CHANGED = {"/recrutement": "rec-territory", "/ressources-humaines": "rh-territory", "/formation": "form-territory",
           "/filieres": "fil-territory", "/territoires": "ter-indicator", "/besoins": "bes-territory",
           "/perspectives": "outlook-family", "/mon-etablissement": "own-indicator", "/donnees": "data-indicator"}
WIDTHS = ((390, 844), (1280, 1000))  # phone, desk: each page is opened once, at phone width, and checked at both


def another_choice(driver, dropdown: str) -> str:
    """With the keyboard: focus the dropdown, Enter, the arrow to the next choice, Enter; the new choice's name."""
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();",
                          driver.find_element("id", dropdown))
    assert matches(driver, f"#{dropdown}"), focused(driver)
    before = driver.execute_script(f"return document.getElementById('{dropdown}').textContent")
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 0, "y": 0})
    press(driver, Keys.ENTER)
    wait(lambda: driver.execute_script("return !!document.activeElement.closest('.dash-dropdown-content')"), 5,
         f"{dropdown} open")
    option = "const o = document.activeElement.closest('.dash-dropdown-option'); return o ? o.textContent.trim() : null"
    for _ in range(4):  # down to a choice other than the current one (from the search box, or past the last one)
        press(driver, Keys.ARROW_DOWN)
        time.sleep(0.1)
        if driver.execute_script(option) not in (None, before):
            break
    else:
        raise AssertionError(f"{dropdown}: no other choice reached from {before!r}")
    main = "return document.getElementById('contenu').innerText"
    page = driver.execute_script(main)
    press(driver, Keys.ENTER)
    after = wait(lambda: (lambda shown: shown != before and shown)(
        driver.execute_script(f"return document.getElementById('{dropdown}').textContent")), 20,
        f"{dropdown} changed")
    # the page has followed: its text has changed beyond the dropdown's own words, and nothing is loading
    wait(lambda: driver.execute_script(main).replace(after, "") != page.replace(before, ""), 20,
         f"the page redrawn after {dropdown}")
    settled(driver)
    return after


def test_every_page_before_and_after_a_filter_change_at_desk_and_phone_widths(dash_duo, dash_app):
    driver = dash_duo.driver
    dash_duo.start_server(dash_app)
    left: dict[tuple[str, str], set[str]] = {}
    serious: list = []

    def check(path: str, width: int, state: str = "") -> None:
        for v in axe(driver):
            where = f"{path} @{width}{' ' + state if state else ''}"
            left.setdefault((v["id"], v["impact"]), set()).add(where)
            if v["impact"] in ("serious", "critical"):
                serious.append((where, v["id"], [n["target"] for n in v["nodes"]][:5]))
        _charts, _dropdowns, missing = driver.execute_script(TEXT_ALTERNATIVES)
        assert missing == [], (path, width, state, missing)  # every chart described, every dropdown labelled

    def resize(width: int, height: int) -> None:
        driver.set_window_size(width, height)
        time.sleep(0.3)  # the layout and the charts follow the new width

    assert set(PAGES) == set(registered_paths())  # every page of the app, and only those
    changed = []
    for path in PAGES:
        driver.set_window_size(*WIDTHS[0])
        dash_duo.wait_for_page(url=dash_duo.server_url + path)
        dash_duo.wait_for_element("main h1", timeout=30)
        settled(driver)
        assert_fits_phone(driver, path)
        check(path, WIDTHS[0][0])
        resize(*WIDTHS[1])
        check(path, WIDTHS[1][0])
        if path in CHANGED:
            state = f"after « {another_choice(driver, CHANGED[path])[:40]} »"
            check(path, WIDTHS[1][0], state)
            resize(*WIDTHS[0])
            check(path, WIDTHS[0][0], state)
            changed.append(path)
    print("\naxe-core, rules left:", {f"{rule} ({impact})": sorted(where) for (rule, impact), where in
                                     sorted(left.items())} or "none")
    assert {rule for rule, impact in left if impact in ("serious", "critical")} == set(accessibilite.NOT_YET), \
        serious  # every serious rule named by the statement, and nothing more
    assert {rule for rule, impact in left if impact not in ("serious", "critical")} == set(
        accessibilite.MODERATE)
    assert changed == list(CHANGED)
    assert errors(dash_duo) == []  # no console error on any page, in any of these states


def test_the_statement_is_linked_from_every_page_and_says_the_status(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/besoins")
    link = dash_duo.wait_for_element("footer a[href='/accessibilite']", timeout=30)
    assert link.text == "Accessibilité"
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "fr"
    dash_duo.wait_for_page(url=dash_duo.server_url + "/accessibilite")
    assert dash_duo.wait_for_element("#a11y-status", timeout=30).text == "non conforme"
    for element, named in (("#a11y-not-yet", accessibilite.NOT_YET), ("#a11y-moderate", accessibilite.MODERATE),
                           ("#a11y-other", accessibilite.OTHER)):
        listed = {li.get_attribute("data-rule") for li in
                  dash_duo.driver.find_elements("css selector", f"{element} li")}
        assert listed == set(named), element
    if not accessibilite.NOT_YET:
        assert "aucun défaut grave ou critique" in dash_duo.find_element("#a11y-not-yet").text
    if not accessibilite.MODERATE:
        assert "aucun défaut de gravité modérée" in dash_duo.find_element("#a11y-moderate").text
