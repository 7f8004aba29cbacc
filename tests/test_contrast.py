"""RGAA 3.2–3.3 / WCAG 1.4.3 and 1.4.11 (issue 22), computed from the colours themselves: every colour a chart's
line, marker or bar outline can take is at least 3:1 against the charts' white, and the focus outline at least
3:1 against every background it is drawn on. Not here, and said on the « Accessibilité » page: the fills of the
maps' and the heat map's scales, whose pale steps are under 3:1 (each cell's value is written in it or in the
table beside it). Text contrast in the pages is axe-core's (tests/test_accessibility.py)."""
from __future__ import annotations

import re

import pytest

from observatory import figures, outlook_figures
from tests.conftest import ROOT


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def blend(colour: str, opacity: float, background: str = "#ffffff") -> str:
    """The colour a see-through mark shows on the background."""
    mixed = [round(opacity * int(colour[i:i + 2], 16) + (1 - opacity) * int(background[i:i + 2], 16))
             for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def test_the_formula_gives_wcags_own_figures():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest grey passing 4.5:1
    assert blend("#000000", 0.5) == "#808080"


MARKS = {**{f"PALETTE[{i}]": c for i, c in enumerate(figures.PALETTE)},
         **{f"FLOW_COLOURS[{k}]": c for k, c in outlook_figures.FLOW_COLOURS.items()},
         "BREAK_COLOUR": figures.BREAK_COLOUR, "CHOSEN_POINT_COLOUR": figures.CHOSEN_POINT_COLOUR,
         "MEDIAN_LINE_COLOUR": figures.MEDIAN_LINE_COLOUR, "QUARTILE_EDGE": figures.QUARTILE_EDGE,
         "POINT_COLOUR": blend(figures.POINT_COLOUR, figures.POINT_OPACITY)}


@pytest.mark.parametrize("name", sorted(MARKS))
def test_every_chart_mark_colour_is_at_least_3_to_1_on_the_charts_white(name):
    assert figures.LAYOUT["plot_bgcolor"] == "white"
    assert contrast(MARKS[name], "#ffffff") >= 3, (name, MARKS[name], round(contrast(MARKS[name], "#ffffff"), 2))


def test_the_focus_outline_is_at_least_3_to_1_on_the_pages_backgrounds():
    css = (ROOT / "assets/style.css").read_text(encoding="utf-8")
    outline = re.search(r":focus-visible[^{]*\{\s*outline: 3px solid (#[0-9a-f]{6})", css)
    assert outline, "the focus rule"
    for background in ("#ffffff", "#f6f6f6", "#fff4e5"):  # cards, page, the « fictif » banner
        assert contrast(outline.group(1), background) >= 3, background
    assert ".obs-navbar :focus-visible { outline-color: #fff" in css
    assert contrast("#ffffff", "#000091") >= 3  # white outline on the nav bar's blue
