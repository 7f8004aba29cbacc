"""Issue 17, /filieres: a cell's colour is its gap to France (a neutral band, the indicator's direction), never
its rank among families; counts are not coloured; headers carry their year; a phone reads a table holding the
heat map's numbers. Pure functions first, then the page in Chromium at 1280 px and 390 px (one session)."""
from __future__ import annotations

import re
import time

import pandas as pd

from observatory import catalogue, figures, heatmap
from tests.test_charts_phone import settle, wait_until_true
from tests.test_dashboard import errors, wait_text

RATE, COUNT = "training_interruption_rate", "recruitment_projects"  # lower is better (%), a count


def column(indicator_id: str, reference: float | None, year: int = 2024) -> heatmap.Column:
    return heatmap.Column(f"{catalogue.get(indicator_id).label} ({year})", indicator_id, reference)


def test_gap_class_has_a_neutral_band_and_follows_the_direction():
    band = heatmap.neutral_band(RATE)
    assert band == catalogue.NEUTRAL_BAND[RATE] > 0
    assert heatmap.gap_class(0.0, band, "lower_is_better") == "close"
    assert heatmap.gap_class(band * 0.99, band, "lower_is_better") == "close"
    assert heatmap.gap_class(-band * 0.99, band, "higher_is_better") == "close"
    assert heatmap.gap_class(band, band, "lower_is_better") == "worse"  # the band's edge is outside it
    assert heatmap.gap_class(band, band, "higher_is_better") == "better"
    assert heatmap.gap_class(-2 * band, band, "lower_is_better") == "better"
    strong = heatmap.STRONG_FACTOR * band
    assert heatmap.gap_class(strong, band, "lower_is_better") == "much_worse"
    assert heatmap.gap_class(-strong, band, "lower_is_better") == "much_better"
    assert heatmap.gap_class(float("nan"), band, "lower_is_better") is None


def test_values_a_few_hundredths_apart_share_the_neutral_colour_the_defect():
    """The issue: 6,98 % and 7,01 % were full green and full red (min..max of the column)."""
    rate = column(RATE, reference=7.0)
    assert heatmap.cell_class(6.98, rate) == heatmap.cell_class(7.01, rate) == "close"
    matrix = pd.DataFrame({rate.name: [6.98, 7.01, 9.5, 4.0]}, index=["A", "B", "C", "D"])
    grid = heatmap.cells(matrix, [rate])
    assert [line[0]["class"] for line in grid] == ["close", "close", "worse", "better"]
    assert grid[0][0]["colour"] == grid[1][0]["colour"] == heatmap.COLOURS["close"]
    assert grid[2][0]["gap"].startswith("+2,5 points")


def test_counts_are_never_coloured_as_better_or_worse():
    assert not heatmap.is_compared(COUNT) and not heatmap.is_compared("students_enrolled")  # a count, even if
    assert heatmap.is_compared(RATE)                                                       # « higher is better »
    counts = column("students_enrolled", reference=50_000)
    assert {heatmap.cell_class(v, counts) for v in (10.0, 50_000.0, 900_000.0)} == {"count"}
    assert heatmap.cell_class(float("nan"), counts) is None
    assert heatmap.cell_class(5.0, column(RATE, reference=None)) is None  # nothing to compare with: no colour


def test_the_figure_paints_classes_with_a_legend_in_points_and_headers_with_years():
    rate, count = column(RATE, reference=7.0), column(COUNT, reference=3_000_000, year=2023)
    matrix = pd.DataFrame({rate.name: [6.98, 7.01, 12.0], count.name: [100.0, 250_000.0, None]},
                          index=["A", "B", "C"])
    figure = figures.heatmap_figure(matrix, [rate, count], "Titre<br><sup>Source : test</sup>")
    trace = figure.data[0]
    assert trace.z[0][0] == trace.z[1][0]  # the same class, hence the same colour
    assert painted(trace.colorscale, trace.zmin, trace.zmax, trace.z[0][0]) == heatmap.COLOURS["close"]
    assert painted(trace.colorscale, trace.zmin, trace.zmax, trace.z[2][0]) == heatmap.COLOURS["much_worse"]
    assert [painted(trace.colorscale, trace.zmin, trace.zmax, z[1]) for z in trace.z[:2]] == \
        [heatmap.COLOURS["count"]] * 2
    assert trace.z[2][1] is None and trace.text[2][1] == "—"
    assert "écart à la France" in trace.colorbar.title.text and "(points)" in trace.colorbar.title.text
    assert "(2024)" in trace.x[0].replace("<br>", " ") and "(2023)" in trace.x[1].replace("<br>", " ")
    assert "en projets" in trace.x[1]  # a count's unit is in its header, its cells hold numbers


def painted(scale, zmin: float, zmax: float, z) -> str | None:
    """The colour Plotly gives `z` on a stepped colour scale (pairs of stops with one colour)."""
    if z is None:
        return None
    t = (z - zmin) / (zmax - zmin)
    stops = [(float(p), c) for p, c in scale]
    for (p0, c0), (p1, c1) in zip(stops, stops[1:]):
        if p0 <= t <= p1 and c0 == c1:
            return c0
    raise AssertionError(f"z={z} falls between two colours: not a class")


HEATMAP = """
const g = document.querySelector('#fil-heatmap .js-plotly-plot');
if (!g || !g.data || !g.data.length) return null;
const t = g.data[0];
return {x: t.x, y: t.y, z: t.z, text: t.text, values: t.customdata, scale: t.colorscale, zmin: t.zmin, zmax: t.zmax,
        legend: t.colorbar.title.text, shown: g.offsetParent !== null};
"""
TABLE = """
const table = document.querySelector('#fil-phone-table');
if (!table) return null;
const groups = [...table.querySelectorAll('th[scope="colgroup"]')].map(th => th.innerText);
const cells = [...table.querySelectorAll('td.obs-value')].map(td => [td.dataset.row, td.dataset.column, td.innerText]);
return {groups, cells, shown: table.offsetParent !== null, width: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth};
"""


def header_name(x: str) -> str:
    """A heat-map header as its column name: lines joined, the count's unit line (« en … ») left out."""
    return re.sub(r"<br><i>.*?</i>$", "", x).replace("<br>", " ")


def test_filieres_at_1280_colours_gaps_and_at_390_shows_the_same_numbers_in_a_table(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(1280, 1000)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/filieres")
    wait_text(dash_duo, "#fil-summary", "filières", timeout=30)
    settle(dash_duo)
    figure = wait_until_true(dash_duo.driver, HEATMAP, "heat map")
    assert figure["shown"], "the heat map is shown at 1280 px"
    names = [header_name(x) for x in figure["x"]]
    assert all(re.search(r"\(\d{4}\)", name) for name in names), names  # every column says its year
    assert "écart à la France" in figure["legend"] and "(points)" in figure["legend"]
    assert "écart à la france (points)" in dash_duo.find_element("#fil-legend").text.lower()

    def colour(z):
        return painted(figure["scale"], figure["zmin"], figure["zmax"], z)

    figure["y"] = [y.replace("<br>", " ") for y in figure["y"]]  # long row names are wrapped
    reference_row = figure["y"].index("Ensemble des métiers")  # France, all occupations: what a rate is compared with
    neutral_pairs = 0
    for j, name in enumerate(names):
        indicator = next(i for i in catalogue.PAGES["filieres"] if name.startswith(catalogue.get(i).label + " ("))
        painted_column = [colour(line[j]) for line in figure["z"]]
        values = [line[j] for line in figure["values"]]
        if not heatmap.is_compared(indicator):  # counts: grey wherever there is a value, never better or worse
            assert {c for c, v in zip(painted_column, values) if v is not None} == {heatmap.COLOURS["count"]}, name
            continue
        band, reference = heatmap.neutral_band(indicator), values[reference_row]
        close = [i for i, v in enumerate(values) if v is not None and abs(v - reference) < band]
        for a in close:
            for b in close:
                if a < b and abs(values[a] - values[b]) < band:
                    assert painted_column[a] == painted_column[b] == heatmap.COLOURS["close"], (name, a, b)
                    neutral_pairs += 1
        for i, v in enumerate(values):
            if v is not None and abs(v - reference) >= band:
                assert painted_column[i] not in (heatmap.COLOURS["close"], heatmap.COLOURS["count"]), (name, i)
    assert neutral_pairs >= 1, "no two cells within the neutral band: the test would prove nothing"
    desk = {(row, names[j]): figure["text"][i][j] for i, row in enumerate(figure["y"]) for j in range(len(names))}

    dash_duo.driver.set_window_size(390, 844)
    time.sleep(0.5)
    table = wait_until_true(dash_duo.driver, TABLE, "phone table")
    assert table["shown"], "the table is shown at 390 px"
    assert dash_duo.driver.execute_script(HEATMAP)["shown"] is False, "the heat map is hidden at 390 px"
    assert table["width"] <= table["client"] <= 390  # no sideways scroll of the page
    assert all(re.search(r"\(\d{4}\)", group) for group in table["groups"]), table["groups"]
    phone = {(row, name): text.strip() for row, name, text in table["cells"]}
    assert phone == desk
    assert errors(dash_duo) == []
