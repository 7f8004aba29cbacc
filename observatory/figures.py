"""Figure builders: pure functions from query results to Plotly figures, titles, summaries and tables.

Every chart says what it shows (indicator, unit, period, source) and marks the quality of each value:
secret, partial (a lower bound), provisional, and illustrative data with a visible « données fictives
calibrées » label. Texts come from the catalogue; numbers are in French format.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go

from observatory import catalogue, heatmap
from observatory.config import REFERENCE_DIR
from observatory.formatting import NNBSP, points, with_unit
from observatory.status import LABELS as STATUS_LABELS  # the one table of status words (observatory/status.py)
from observatory.status import MARKED
from observatory.status import SHORT as STATUS_SHORT  # « 100,0 % (Ardennes, partiel) »
from observatory.status import is_illustrative as illustrative_cells

# After Okabe–Ito's hues, first the observatory's blue, each darkened to at least 3:1 against the charts' white
# (RGAA 3.3 / WCAG 1.4.11, chart marks): Okabe–Ito's own orange, sky blue and yellow were 1.3–2.3:1; a purple
# instead of the vermillion, which darkened was too close to the orange. Lines also differ by their markers.
# tests/test_contrast.py checks every colour a mark can take.
PALETTE = ["#0063cb", "#c26a00", "#00805c", "#b8508f", "#2e86c1", "#6a3d9a", "#7a6500", "#000000"]
# Scatter points (one per territory, see-through where they overlap), the chosen one, the median lines: each at
# least 3:1 on white once blended (the points were #6c8ebf at 75 %: 2.5:1)
POINT_COLOUR, POINT_OPACITY = "#4a6fa5", 0.85
CHOSEN_POINT_COLOUR = "#c0392b"
MEDIAN_LINE_COLOUR = "#767676"
QUARTILE_FILL, QUARTILE_EDGE = "#c6dbef", "#1f3b73"  # the peers' quartile band: pale, with a dark outline
STATUS_SYMBOLS = {"ok": "circle", "partial": "triangle-down", "provisional": "circle-open", "estimated": "square",
                  "illustrative": "diamond", "illustrative_incomplete": "diamond-open", "undefined": "x",
                  "secret": "x"}
# Bars whose value is not a plain published figure are hatched; the legend says what each hatch means.
STATUS_PATTERNS = {"partial": "/", "illustrative_incomplete": "x", "provisional": ".", "estimated": "."}
PATTERN_LEGEND = {"/": "hachures : partiel (cellules secrètes exclues)",
                  "x": "croisillons : fictif, incomplet (cellules non renseignées)",
                  ".": "pointillés : provisoire ou estimé"}
# Sequential scales from a light colour (never grey): grey is kept for « pas de donnée », with its legend entry.
SCALE_HIGHER = [[0, "#e3eefb"], [0.25, "#b1cdf1"], [0.5, "#6d9fe3"], [0.75, "#2c67c4"], [1, "#0b2f7a"]]
SCALE_LOWER = [[0, "#fde9df"], [0.25, "#f6bba1"], [0.5, "#e9805e"], [0.75, "#c7432b"], [1, "#7f1a0f"]]
NO_DATA_COLOUR = "#a8a8a8"
TITLE_WIDTH = 44  # characters per title line: fits a 390 px phone at 16 px (titles are SVG text: they never wrap)
BREAK_COLOUR = "#b34000"
ILLUSTRATIVE_LABEL = "Données fictives calibrées"
LAYOUT = dict(separators=f",{NNBSP}", font={"family": "Marianne, Arial, sans-serif", "size": 14},
              margin={"l": 10, "r": 10, "t": 70, "b": 40}, plot_bgcolor="white", paper_bgcolor="white",
              hoverlabel={"font_size": 13}, colorway=PALETTE)
# Plotly's tool bar: only « download as an image » (zoom and pan are mouse gestures; double-click resets), so a
# keyboard user meets one named button per chart, not eight English ones. Its words come in French with the chart
# (Plotly's `locales`: no locale script to load from a CDN).
MODEBAR_FR = {"Download plot as a PNG": "Télécharger le graphique (PNG)",  # the one button
              "Double-click to zoom back out": "Double-cliquer pour revenir à la vue d'ensemble"}  # after a zoom
GRAPH_CONFIG = {"locale": "fr", "locales": {"fr": {"dictionary": MODEBAR_FR}}, "displaylogo": False,
                "responsive": True, "modeBarButtons": [["toImage"]],
                # Plotly's geo module loads a base map even when hidden: serve it ourselves (no CDN).
                "topojsonURL": "/assets/topojson/"}


def chart_title(indicator_id: str, period: str | int | None, source: dict, subject: str = "") -> str:
    """« Taux de rotation (%) – France, 2023 » with the source on a second line."""
    entry = catalogue.get(indicator_id)
    head = f"{entry.label} ({entry.unit})"
    where = ", ".join(str(p) for p in (subject, period) if p not in (None, ""))
    producer = source.get("producer", "")
    vintage = f" {source['vintage']}" if source.get("vintage") else ""
    line = f"{head} – {where}" if where else head
    return wrap_title(f"{line}<br><sup>Source : {producer}{vintage}</sup>")


def wrap_title(text: str, width: int = TITLE_WIDTH) -> str:
    """A chart title cut into lines that fit a phone: plain lines at `width` characters, `<sup>` lines (smaller)
    at 1.35 × `width`; lines holding other markup are kept whole."""
    lines = []
    for segment in (text or "").split("<br>"):
        inner = segment[5:-6] if segment.startswith("<sup>") and segment.endswith("</sup>") else None
        if inner is not None and "<" not in inner:
            lines += [f"<sup>{part}</sup>" for part in _wrap(inner, int(width * 1.35)).split("<br>")]
        elif "<" in segment or not segment:
            lines.append(segment)
        else:
            lines += _wrap(segment, width).split("<br>")
    return "<br>".join(lines)


def title_margin(text: str) -> int:
    """The top margin a (wrapped) title needs: about 22 px a line, 17 px a `<sup>` line."""
    segments = (text or "").split("<br>")
    small = sum(s.startswith("<sup>") for s in segments)
    return 30 + 22 * (len(segments) - small) + 17 * small


def _fit_title(figure: go.Figure, below: int = 0) -> go.Figure:
    """Wrap the figure's title and make room for it: the top margin fits its lines (plus `below`, e.g. axis
    labels drawn on top), and the height grows by what the margin grows, so the plot keeps its size."""
    text = wrap_title(figure.layout.title.text or "")
    top = title_margin(text) + below
    before = figure.layout.margin.t if figure.layout.margin.t is not None else LAYOUT["margin"]["t"]
    update = {"title": {"text": text, "x": 0, "font": {"size": 16}}, "margin": {"t": top}}
    if figure.layout.height:
        update["height"] = figure.layout.height + max(0, top - before)
    return figure.update_layout(**update)


def is_illustrative(frame: pd.DataFrame) -> bool:
    return bool(len(frame)) and bool(illustrative_cells(frame["status"]).any())


def _status_text(status: str) -> str:
    label = STATUS_LABELS.get(status, status)
    return f" ({label})" if label else ""


def _mark_illustrative(figure: go.Figure, frame: pd.DataFrame) -> go.Figure:
    """Illustrative data says so in the chart itself (and so in every exported image)."""
    if is_illustrative(frame):
        title = figure.layout.title.text or ""
        figure.update_layout(title={"text": f"{title}<br><sup><span style='color:#b34000'>⚠ {ILLUSTRATIVE_LABEL}"
                                            "</span></sup>"})
    return _fit_title(figure)


def _status_word(status) -> str:
    """« partiel », « fictif »…; empty for a plain published value."""
    return STATUS_SHORT.get(status, "") if isinstance(status, str) else ""


def with_status(value, unit: str, decimals: int, status) -> str:
    """« 12,3 % (partiel) »: the value and, when it is not a plain published figure, its quality."""
    word = _status_word(status)
    return with_unit(value, unit, decimals) + (f" ({word})" if word else "")


def _status_legend(figure: go.Figure, statuses) -> None:
    """Legend entries for the status symbols present (the symbols alone say nothing)."""
    for status in [s for s in STATUS_SYMBOLS if s != "ok" and s in set(statuses)]:
        figure.add_scatter(x=[None], y=[None], mode="markers", name=STATUS_LABELS.get(status, status),
                           marker={"symbol": STATUS_SYMBOLS[status], "size": 10, "color": "#3a3a3a"},
                           hoverinfo="skip", legendgroup="statuts")


def _short(label: str, width: int = 42) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def time_series_figure(frame: pd.DataFrame, series: str, labels: dict[str, str], title: str) -> go.Figure:
    """One line per value of `series` (profession_id or territory_id) over the periods, markers by status."""
    entry = catalogue.get(frame["indicator_id"].iloc[0]) if len(frame) else None
    # An explicit height: with `responsive` and no layout height, Plotly sizes the chart to 100 % of a parent
    # whose height is auto, i.e. 0 px, on every other redraw (issue 11: « charts disappear »).
    figure = go.Figure(layout={**LAYOUT, "title": {"text": title, "x": 0}, "height": 450})
    unit, decimals = (entry.unit, entry.decimals) if entry else ("", 0)
    breaks = series_breaks(frame)
    for i, (key, part) in enumerate(frame.sort_values("period").groupby(series, sort=False)):
        x, y, text, symbols = [], [], [], []
        for period, value, status, note in zip(part["period"], part["value"], part["status"],
                                               part.get("series_break", pd.Series([None] * len(part)))):
            if isinstance(note, str) and x:  # not comparable with the point before: the line stops here
                x.append((x[-1] + int(period)) / 2)
                y.append(None)
                text.append("")
                symbols.append("circle")
            x.append(int(period))
            y.append(value)
            text.append(with_unit(value, unit, decimals) + _status_text(status)
                        + (f"<br>rupture de série : {note}" if isinstance(note, str) else ""))
            symbols.append(STATUS_SYMBOLS.get(status, "circle"))
        figure.add_scatter(
            x=x, y=y, name=labels.get(key, key), mode="lines+markers", connectgaps=False,
            line={"color": PALETTE[i % len(PALETTE)], "width": 3}, marker={"symbol": symbols, "size": 10},
            hovertemplate="%{x} : %{customdata}<extra>%{fullData.name}</extra>", customdata=text,
        )
    top = frame["value"].max() if len(frame) and frame["value"].notna().any() else 1
    periods = sorted({int(p) for p in frame["period"]}) if len(frame) else []
    for period, note in breaks:
        # A dashed vertical line between the break and the period before it; the legend says why.
        before = max((p for p in periods if p < period), default=period - 1)
        at = (before + period) / 2
        figure.add_scatter(x=[at, at], y=[0, top * 1.05], mode="lines",
                           line={"color": BREAK_COLOUR, "width": 2, "dash": "dash"},
                           name=f"Rupture de série {period} : {_short(note, 40)}", hovertext=note,
                           hovertemplate="%{hovertext}<extra>rupture de série</extra>")
    _status_legend(figure, frame["status"] if len(frame) else [])
    figure.update_xaxes(dtick=1, tickformat="d", title=None, showgrid=False)
    figure.update_yaxes(title=entry.unit if entry else None, rangemode="tozero", gridcolor="#e5e5e5")
    figure.update_layout(legend={"orientation": "h", "y": -0.15})
    return _fit_title(_mark_illustrative(figure, frame))


def series_breaks(frame: pd.DataFrame) -> list[tuple[int, str]]:
    """(period, note) of every series break among the rows of a chart, oldest first."""
    if "series_break" not in frame or frame.empty:
        return []
    rows = frame.dropna(subset=["series_break"])
    notes: dict[int, list[str]] = {}
    for period, note in zip(rows["period"], rows["series_break"]):
        bucket = notes.setdefault(int(period), [])
        for part in str(note).split(" ; "):
            if part not in bucket:
                bucket.append(part)
    return [(period, " ; ".join(parts)) for period, parts in sorted(notes.items())]


def bar_figure(frame: pd.DataFrame, category: str, labels: dict[str, str], title: str,
               highlight: set[str] | None = None) -> go.Figure:
    """Horizontal bars for one period, sorted, statuses written next to the values."""
    entry = catalogue.get(frame["indicator_id"].iloc[0]) if len(frame) else None
    unit, decimals = (entry.unit, entry.decimals) if entry else ("", 0)
    data = frame.assign(label=frame[category].map(lambda k: labels.get(k, k))).sort_values("value", na_position="first")
    data = data.assign(short=data["label"].map(_bar_label))
    colours = [PALETTE[1] if highlight and key in highlight else PALETTE[0] for key in data[category]]
    patterns = [STATUS_PATTERNS.get(s, "") for s in data["status"]]
    figure = go.Figure(layout={**LAYOUT, "title": {"text": title, "x": 0},
                               "height": max(320, 36 * len(data) + 150)})
    figure.add_bar(
        x=data["value"], y=data["short"], orientation="h", name="valeur", showlegend=False,
        marker={"color": colours, "pattern": {"shape": patterns, "fgcolor": "#ffffff", "size": 7}},
        text=[with_status(v, unit, decimals, s) if v == v and v is not None else ""
              for v, s in zip(data["value"], data["status"])], customdata=data["label"],
        hovertext=[with_unit(v, unit, decimals) + _status_text(s) for v, s in zip(data["value"], data["status"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{customdata} : %{hovertext}<extra></extra>",
    )
    for label, value, status in zip(data["short"], data["value"], data["status"]):
        if value is None or value != value:  # no bar: say why (« secret », never an empty row)
            figure.add_annotation(x=0, y=label, xanchor="left", showarrow=False, font={"color": "#3a3a3a"},
                                  text=f"<i>{_status_word(status) or 'non publié'}</i>")
    for shape in dict.fromkeys(p for p in patterns if p):
        figure.add_bar(x=[None], y=[None], orientation="h", name=PATTERN_LEGEND[shape], hoverinfo="skip",
                       marker={"color": PALETTE[0], "pattern": {"shape": shape, "fgcolor": "#ffffff", "size": 7}})
    top = data["value"].max() if data["value"].notna().any() else 1
    figure.update_xaxes(title=unit, gridcolor="#e5e5e5", range=[0, top * 1.3])
    figure.update_yaxes(title=None, automargin=True)
    figure.update_layout(legend={"orientation": "h", "y": -0.12, "yanchor": "top"}, barmode="overlay")
    return _fit_title(_mark_illustrative(figure, frame))


def _bar_label(label: str) -> str:
    """A bar's label on at most two short lines (it must leave room for the bar on a phone)."""
    lines = _wrap(label, 24).split("<br>")
    return lines[0] if len(lines) == 1 else f"{lines[0]}<br>{_short(' '.join(lines[1:]), 24)}"


def band_figure(bands: pd.DataFrame, title: str, unit: str, decimals: int = 1, *,
                value_name: str = "votre établissement", value_as: str = "marker",
                highlight: set[str] | None = None, label_width: int = 46) -> go.Figure:
    """Peer bands, one row per `label`, in the frame's order: the peers' interquartile band, their median and
    the value (columns label, q1, median, q3, value; optional key, status, n).

    Every trace uses the same full label (wrapped, never cut), so each median sits on its row, and every
    row's label is written. Rows whose `key` (else `label`) is in `highlight` are in bold, their value in
    orange. A row without median (fewer than `benchmarks.MIN_PEERS` peers) shows its value alone.
    `value_as="bar"`: the value as a bar (a territory's figure), else a diamond (an establishment's).
    `label_width`: characters per label line; about 26 lets a 390 px phone keep half its width for the bars
    (Plotly's automargin cannot give labels more than that: longer ones are cut)."""
    data = bands.reset_index(drop=True)
    data = data.assign(**{c: pd.to_numeric(data[c], errors="coerce").astype(float)  # None-able columns: floats
                          for c in ("q1", "median", "q3", "value") if c in data})
    keys = list(data["key"]) if "key" in data else list(data["label"])
    marked = [bool(highlight) and key in highlight for key in keys]
    rows = [_wrap(plotly_text(label), label_width) for label in data["label"]]  # labels are text, not markup
    lines = sum(row.count("<br>") + 1 for row in rows)
    tallest = max((row.count("<br>") + 1 for row in rows), default=1)
    # narrow labels: every row as tall as the tallest label (rows are evenly spaced: a taller label would
    # spill over its neighbours)
    height = (19 * lines + 22 * len(rows) + 150 if label_width >= 46
              else (15 * tallest + 16) * len(rows) + 190)
    figure = go.Figure(layout={**LAYOUT, "title": {"text": title, "x": 0}, "height": max(280, height)})
    values = data["value"] if "value" in data else pd.Series([None] * len(data), dtype=float)
    statuses = data["status"] if "status" in data else pd.Series([""] * len(data))
    texts = [with_unit(v, unit, decimals) + (_status_text(s) if isinstance(s, str) else "")
             for v, s in zip(values, statuses)]
    known = data["median"].notna()
    if known.any():
        figure.add_bar(y=[r for r, k in zip(rows, known) if k], x=(data["q3"] - data["q1"])[known],
                       base=data["q1"][known], orientation="h", width=0.8,
                       # a pale fill, outlined at 10:1 so the band's ends read on white (WCAG 1.4.11)
                       marker={"color": QUARTILE_FILL, "line": {"color": QUARTILE_EDGE, "width": 1.5}},
                       name="quartiles des pairs (25 %–75 %)",
                       customdata=[f"de {with_unit(a, unit, decimals)} à {with_unit(b, unit, decimals)}"
                                   for a, b in zip(data["q1"][known], data["q3"][known])],
                       hovertemplate="%{customdata}<extra>quartiles des pairs</extra>")
    if value_as == "bar" and values.notna().any():
        figure.add_bar(y=rows, x=values, orientation="h", width=0.42, name=value_name,
                       marker={"color": [PALETTE[1] if m else PALETTE[0] for m in marked]},
                       text=[with_unit(v, unit, decimals) for v in values], textposition="outside",
                       cliponaxis=False, customdata=texts, hovertemplate="%{customdata}<extra>%{fullData.name}</extra>")
        for row, value, status in zip(rows, values, statuses):  # a secret cell is labelled, never an empty bar
            if pd.isna(value) and isinstance(status, str) and status in STATUS_SHORT:
                figure.add_annotation(x=0, y=row, text=f"<i>{STATUS_SHORT[status]}</i>", showarrow=False,
                                      xanchor="left", font={"color": "#555"})
    if known.any():
        figure.add_scatter(y=[r for r, k in zip(rows, known) if k], x=data["median"][known], mode="markers",
                           name="médiane des pairs",
                           marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": "#1f3b73"}},
                           customdata=[with_unit(v, unit, decimals) for v in data["median"][known]],
                           hovertemplate="%{customdata}<extra>médiane des pairs</extra>")
    if value_as != "bar" and values.notna().any():
        figure.add_scatter(y=rows, x=values, mode="markers", name=value_name,
                           marker={"symbol": "diamond", "size": 14, "color": PALETTE[1],
                                   "line": {"width": [2 if m else 0 for m in marked], "color": "#000000"}},
                           customdata=texts, hovertemplate="%{customdata}<extra>%{fullData.name}</extra>")
    figure.update_yaxes(title=None, automargin=True, autorange="reversed", type="category", tickmode="array",
                        tickvals=rows, ticktext=[f"<b>{r}</b>" if m else r for r, m in zip(rows, marked)],
                        tickfont={"size": 12 if label_width < 46 else 14})
    tops = [x for x in (values.max(), data["q3"].max()) if x == x and x is not None]
    room = 1.35 if value_as == "bar" else 1.2  # a bar's value is written past its end: room for it on a phone
    figure.update_xaxes(title=unit, rangemode="tozero", gridcolor="#e5e5e5",
                        **({"range": [0, max(tops) * room]} if tops else {}))
    # under the x axis, about 80 px below the plot whatever its height (a tall chart left a blank gap)
    below = 0.12 if label_width >= 46 else min(0.12, 80 / max(1, height - 190))
    figure.update_layout(legend={"orientation": "h", "y": -below, "yanchor": "top"}, barmode="overlay")
    return figure


def plotly_text(text: str) -> str:
    """Text as Plotly shows it, never as markup: Plotly reads a subset of HTML in titles, tick labels and
    hover texts (`<a href>`, `<b>`, `<br>`…), so `&`, `<` and `>` become entities (shown as themselves)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(label: str, width: int = 18) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def heatmap_figure(matrix: pd.DataFrame, columns: list[heatmap.Column], title: str) -> go.Figure:
    """Job families (rows) × indicators (columns, each with its year): a rate's colour is its gap to France
    (`observatory.heatmap`: a neutral band, oriented by the indicator's direction); counts are grey, never
    better or worse; each cell shows its value, the hover its gap. The title is pinned to the top and the top
    margin holds it and the column headers, so neither overlaps the other."""
    grid = heatmap.cells(matrix, columns)
    index = {name: i for i, name in enumerate(heatmap.CLASSES)}
    z = [[index.get(cell["class"]) for cell in line] for line in grid]
    hover = [[f"{cell['row']}<br>{cell['column']} : {cell['text']}"
              + (f"<br>écart à la France : {cell['gap']}" if cell["gap"] else "") for cell in line] for line in grid]
    headers = [_wrap(c.name, 15) + (f"<br><i>{c.unit_note}</i>" if c.unit_note else "") for c in columns]
    header_lines = max((h.count("<br>") + 1 for h in headers), default=1)
    text = wrap_title(title)
    top = title_margin(text) + 18 * header_lines + 12
    steps = len(heatmap.CLASSES)
    scale = []
    for i, name in enumerate(heatmap.CLASSES):  # one flat step per class
        scale += [[i / steps, heatmap.COLOURS[name]], [(i + 1) / steps, heatmap.COLOURS[name]]]
    height = top + 52 * len(matrix) + 110
    figure = go.Figure(layout={**LAYOUT, "height": height, "margin": {"l": 10, "r": 10, "t": top, "b": 110}})
    figure.add_heatmap(z=z, x=headers, y=list(matrix.index), text=[[c["text"] for c in line] for line in grid],
                       customdata=[[c["value"] for c in line] for line in grid], hovertext=hover,
                       texttemplate="%{text}", textfont={"size": 12}, xgap=2, ygap=2,
                       colorscale=scale, zmin=-0.5, zmax=steps - 0.5, hovertemplate="%{hovertext}<extra></extra>",
                       # under the table, so the columns keep the width (the page's legend says it in full)
                       colorbar={"title": {"text": heatmap.LEGEND_TITLE, "side": "top"}, "orientation": "h",
                                 "x": 0, "xanchor": "left", "y": -0.02, "yanchor": "top", "thickness": 12,
                                 "len": 600, "lenmode": "pixels", "tickvals": list(range(steps)),
                                 "tickfont": {"size": 11},
                                 "ticktext": [_wrap(heatmap.SHORT_LABELS[n], 12) for n in heatmap.CLASSES]})
    figure.update_xaxes(side="top", tickangle=0, automargin=False, tickfont={"size": 12})
    # long row names (« … – Auvergne-Rhône-Alpes ») are written on up to three lines; the data keeps them whole
    figure.update_yaxes(autorange="reversed", automargin=True, tickmode="array", tickvals=list(matrix.index),
                        ticktext=[_wrap(str(name), 28) for name in matrix.index])
    figure.update_layout(title={"text": text, "x": 0.01, "xref": "container", "y": 1 - 12 / height,
                                "yref": "container", "yanchor": "top", "font": {"size": 16}})
    return figure


GEOMETRY_FILES = {"region": "regions_insets.geojson", "departement": "departements_insets.geojson"}
GEOMETRY_URL = "/carte/"  # where the dashboard serves those files (app.py): the browser fetches each once


@lru_cache(maxsize=2)
def geometry(level: str) -> dict:
    """The map geometry (DROM as insets), read once: the territories' codes, in the map's order."""
    return json.loads(geometry_path(level).read_text(encoding="utf-8"))


def geometry_path(level: str):
    """The bundled GeoJSON file of a level (`scripts/build_map_geometry.py` makes it)."""
    return REFERENCE_DIR / "geo" / GEOMETRY_FILES[level]


@lru_cache(maxsize=2)
def geometry_url(level: str) -> str:
    """The geometry's URL, by content (a new file is a new URL: browsers may keep the old one for ever). A URL,
    not the GeoJSON, goes in the figure: the page and every level change stay a few kilobytes (issue 19: the
    page sent the départements' 270 KB once per trace, 869 KB), and the browser caches the file."""
    digest = hashlib.sha256(geometry_path(level).read_bytes()).hexdigest()[:12]
    return f"{GEOMETRY_URL}{GEOMETRY_FILES[level]}?v={digest}"


def choropleth_figure(level: str, title: str) -> dict:
    """The map shell as a plain figure dict: the geometry's URL and the layout, no values (values arrive by
    partial update, see `map_values`). Built and validated once per level; callers get a new top-level dict."""
    shell = _choropleth_shell(level)
    text = wrap_title(title)
    return {"data": [dict(trace) for trace in shell["data"]],
            "layout": {**shell["layout"], "title": {"text": text, "x": 0, "font": {"size": 16}},
                       "margin": {**shell["layout"]["margin"], "t": title_margin(text)}}}


@lru_cache(maxsize=2)
def _choropleth_shell(level: str) -> dict:
    shapes = geometry_url(level)
    codes = [f["properties"]["code"] for f in geometry(level)["features"]]
    # The colour bar lies under the map and the legend under it (issue 17: on a phone a bar on the right took
    # a third of the width or was scrolled out of sight): the map keeps the card's whole width at any size.
    figure = go.Figure(layout={**LAYOUT, "height": 600, "margin": {"l": 0, "r": 0, "t": 70, "b": 120}})
    figure.add_choropleth(geojson=shapes, locations=codes, featureidkey="properties.code", z=[None] * len(codes),
                          colorscale=SCALE_HIGHER, marker={"line": {"width": 0.5, "color": "white"}},
                          hovertemplate="%{customdata}<extra></extra>", customdata=codes, showlegend=False,
                          colorbar={"orientation": "h", "thickness": 12, "len": 300, "lenmode": "pixels",
                                    "x": 0, "xanchor": "left", "y": -0.02, "yanchor": "top",
                                    "tickfont": {"size": 12}})
    # « pas de donnée »: its own neutral colour and legend entry (see `map_overlays`)
    figure.add_choropleth(geojson=shapes, locations=[], z=[], featureidkey="properties.code", name="pas de donnée",
                          colorscale=[[0, NO_DATA_COLOUR], [1, NO_DATA_COLOUR]], showscale=False, showlegend=True,
                          marker={"line": {"width": 0.5, "color": "white"}}, customdata=[],
                          hovertemplate="%{customdata}<extra></extra>")
    # partial (or incomplete) values: the territory outlined in black, with a legend entry
    figure.add_choropleth(geojson=shapes, locations=[], z=[], featureidkey="properties.code",
                          name="contour noir : partiel (minorant)", showscale=False, showlegend=True,
                          colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                          marker={"line": {"width": 2.2, "color": "#000000"}}, customdata=[],
                          hovertemplate="%{customdata}<extra></extra>")
    figure.update_geos(fitbounds="locations", visible=False, projection={"type": "mercator"})
    figure.update_layout(legend={"orientation": "h", "x": 0, "y": -0.17, "yanchor": "top"})
    return figure.to_plotly_json()


def map_values(frame: pd.DataFrame, level: str, names: dict[str, str], unit: str, decimals: int,
               lower_is_better: bool) -> dict:
    """What a filter change sends to the map: values, hover texts and the colour scale, never the geometry."""
    codes = [f["properties"]["code"] for f in geometry(level)["features"]]
    prefix = "REG-" if level == "region" else "DEP-"
    by_code = {t[len(prefix):]: (v, s) for t, v, s in zip(frame["territory_id"], frame["value"], frame["status"])}
    z = [by_code.get(c, (None, None))[0] for c in codes]
    z = [None if v is None or v != v else float(v) for v in z]
    texts = [f"{names.get(prefix + c, c)} : " + (with_unit(by_code[c][0], unit, decimals) + _status_text(by_code[c][1])
                                                  if c in by_code else "pas de donnée") for c in codes]
    return {"z": z, "customdata": texts, "colorscale": SCALE_LOWER if lower_is_better else SCALE_HIGHER}


def map_overlays(values: dict, level: str, frame: pd.DataFrame) -> list[dict]:
    """The map's two other traces for `map_values`' result: territories without a value (neutral colour, legend
    « pas de donnée ») and territories whose value is partial or incomplete (outlined)."""
    codes = [f["properties"]["code"] for f in geometry(level)["features"]]
    prefix = "REG-" if level == "region" else "DEP-"
    marked = {t[len(prefix):] for t, s in zip(frame["territory_id"], frame["status"])
              if s in MARKED}
    missing = [i for i, v in enumerate(values["z"]) if v is None]
    outlined = [i for i, c in enumerate(codes) if c in marked and values["z"][i] is not None]
    return [{"locations": [codes[i] for i in rows], "z": [0] * len(rows),
             "customdata": [values["customdata"][i] for i in rows]} for rows in (missing, outlined)]


def summary_sentence(indicator_id: str, subject: str, frame: pd.DataFrame) -> str:
    """One sentence for screen readers and people in a hurry: the latest value and the change since the first."""
    entry = catalogue.get(indicator_id)
    known = frame.dropna(subset=["value"]).sort_values("period")
    if known.empty:
        return f"Aucune valeur publiée pour « {entry.label} » ({subject}) avec ces filtres."
    last = known.iloc[-1]
    sentence = (f"En {int(last.period)}, {entry.label.lower()} ({subject}) : "
                f"{with_unit(last.value, entry.unit, entry.decimals)}{_status_text(last.status)}")
    if len(known) > 1:
        first = known.iloc[0]
        sentence += (f", soit {points(last.value - first.value, entry.unit, entry.decimals)} depuis "
                     f"{int(first.period)}")
        breaks = [p for p, _ in series_breaks(known) if p > int(first.period)]
        if breaks:
            sentence += (" (évolution à lire avec prudence : rupture de série en "
                         f"{', '.join(str(p) for p in breaks)})")
    return sentence + "."


def comparison_sentence(indicator_id: str, frame: pd.DataFrame, labels: dict[str, str], period) -> str:
    """The comparison chart in one sentence: highest and lowest values, and the whole population's."""
    entry = catalogue.get(indicator_id)
    known = frame.dropna(subset=["value"])
    if known.empty:
        return f"Aucune valeur à comparer pour « {entry.label} » avec ces filtres."
    key = "breakdown" if known["breakdown"].notna().any() else "profession_id"
    rows = known[~known[key].isin(["ensemble", "travail_social"])] if key == "profession_id" else known
    rows = rows if len(rows) else known
    high, low = rows.loc[rows["value"].idxmax()], rows.loc[rows["value"].idxmin()]
    sentence = (f"En {period}, {entry.label.lower()} : le plus élevé pour « {labels.get(high[key], high[key])} » "
                f"({with_unit(high.value, entry.unit, entry.decimals)}), le plus bas pour "
                f"« {labels.get(low[key], low[key])} » ({with_unit(low.value, entry.unit, entry.decimals)})")
    overall = known[known[key] == "ensemble"] if key == "profession_id" else known.iloc[0:0]
    if len(overall):
        sentence += (f" ; {labels.get('ensemble', 'ensemble des métiers').lower()} : "
                     f"{with_unit(overall.value.iloc[0], entry.unit, entry.decimals)}")
    return sentence + "."
