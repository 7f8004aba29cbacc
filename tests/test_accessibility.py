"""Issue 22 (first part): axe-core (the `axe-core-python` package ships its build) on every page of the
dashboard at desk and phone widths. The rules fixed so far must find nothing; every serious or critical rule still
found must be one the « Accessibilité » statement names (`pages.accessibilite.NOT_YET`), and the statement names no
rule that is gone. The output lists what is left, with its pages."""
from __future__ import annotations

import time

from axe_core_python.selenium import Axe

from observatory import accessibility as accessibilite

PAGES = ("/", "/recrutement", "/ressources-humaines", "/formation", "/filieres", "/territoires", "/besoins",
         "/perspectives", "/mon-etablissement", "/donnees", "/methodologie", "/accessibilite")
FIXED = ("html-has-lang", "document-title", "button-name", "label", "aria-hidden-focus", "link-name", "image-alt",
         "aria-roles", "bypass", "color-contrast", "nested-interactive", "aria-input-field-name")
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(dash_duo, path: str, load: bool = True) -> list[dict]:
    if load:
        dash_duo.wait_for_page(url=dash_duo.server_url + path)
    dash_duo.wait_for_element("main h1", timeout=30)
    deadline = time.time() + 20  # the page's callbacks have drawn it (no « loading » left)
    while time.time() < deadline and dash_duo.driver.execute_script(
            "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"):
        time.sleep(0.2)
    dash_duo.driver.set_script_timeout(60)
    return Axe().run(dash_duo.driver, options=OPTIONS)["violations"]


WIDTHS = ((1280, 1000), (390, 844))  # desk, phone: each page is loaded once and checked at both (CSS reflows it)


def test_every_page_against_axe_core_at_desk_and_phone_widths(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    left: dict[str, set[str]] = {}
    for path in PAGES:
        dash_duo.driver.set_window_size(*WIDTHS[0])
        for number, (width, height) in enumerate(WIDTHS):
            if number:
                dash_duo.driver.set_window_size(width, height)
                time.sleep(0.5)  # the layout and the charts follow the new width
            found = violations(dash_duo, path, load=not number)
            fixed = [(v["id"], [n["target"] for n in v["nodes"]]) for v in found if v["id"] in FIXED]
            assert not fixed, (path, width, fixed)
            for v in found:
                left.setdefault(f"{v['id']} ({v['impact']})", set()).add(f"{path} @{width}")
    print("\naxe-core, rules left:", {rule: sorted(paths) for rule, paths in sorted(left.items())})
    serious = {rule.split(" ")[0] for rule in left if rule.endswith(("(serious)", "(critical)"))}
    moderate = {rule.split(" ")[0] for rule in left if rule.endswith(("(moderate)", "(minor)"))}
    assert serious == set(accessibilite.NOT_YET), serious ^ set(accessibilite.NOT_YET)  # named, and nothing more
    assert moderate <= set(accessibilite.MODERATE), moderate - set(accessibilite.MODERATE)


def test_the_statement_is_linked_from_every_page_and_says_the_status(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/besoins")
    link = dash_duo.wait_for_element("footer a[href='/accessibilite']", timeout=30)
    assert link.text == "Accessibilité"
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "fr"
    dash_duo.wait_for_page(url=dash_duo.server_url + "/accessibilite")
    assert dash_duo.wait_for_element("#a11y-status", timeout=30).text == "non conforme"
    listed = {li.get_attribute("data-rule") for li in dash_duo.driver.find_elements("css selector", "#a11y-not-yet li")}
    assert listed == set(accessibilite.NOT_YET)
    if not accessibilite.NOT_YET:
        assert "ne relève plus de défaut grave ou critique" in dash_duo.find_element("#a11y-not-yet").text
