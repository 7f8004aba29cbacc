"""Figure builders: pure functions from query results to Plotly figures, titles, summaries and tables.

Every chart says what it shows (indicator, unit, period, source) and marks the quality of each value:
secret, partial (a lower bound), provisional, and illustrative data with a visible « données fictives
calibrées » label. Texts come from the catalogue; numbers are in French format.
"""
from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go

from observatory import catalogue
from observatory.config import REFERENCE_DIR
from observatory.formatting import NNBSP, number, points, with_unit

# Colour-blind-safe palette (Okabe–Ito), first the observatory's blue.
PALETTE = ["#0063cb", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
STATUS_LABELS = {
    "ok": "", "secret": "secret statistique", "partial": "partiel : cellules secrètes exclues",
    "provisional": "provisoire", "estimated": "estimé", "illustrative": "données fictives calibrées",
    "undefined": "non calculable", "illustrative_incomplete": "fictif, incomplet : cellules non renseignées",
}
STATUS_SYMBOLS = {"ok": "circle", "partial": "triangle-down", "provisional": "circle-open", "estimated": "square",
                  "illustrative": "diamond", "illustrative_incomplete": "diamond-open", "undefined": "x",
                  "secret": "x"}
BREAK_COLOUR = "#b34000"
ILLUSTRATIVE_LABEL = "Données fictives calibrées"
LAYOUT = dict(separators=f",{NNBSP}", font={"family": "Marianne, Arial, sans-serif", "size": 14},
              margin={"l": 10, "r": 10, "t": 70, "b": 40}, plot_bgcolor="white", paper_bgcolor="white",
              hoverlabel={"font_size": 13}, colorway=PALETTE)
GRAPH_CONFIG = {"locale": "fr", "displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d"],
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
    return f"{line}<br><sup>Source : {producer}{vintage}</sup>"


def is_illustrative(frame: pd.DataFrame) -> bool:
    return bool(len(frame)) and frame["status"].astype(str).str.startswith("illustrative").any()


def _status_text(status: str) -> str:
    label = STATUS_LABELS.get(status, status)
    return f" ({label})" if label else ""


def _mark_illustrative(figure: go.Figure, frame: pd.DataFrame) -> go.Figure:
    """Illustrative data says so in the chart itself (and so in every exported image)."""
    if is_illustrative(frame):
        title = figure.layout.title.text or ""
        figure.update_layout(title={"text": f"{title}<br><sup><span style='color:#b34000'>⚠ {ILLUSTRATIVE_LABEL}"
                                            "</span></sup>"}, margin={"t": 95})
    return figure


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
                           name=f"Rupture de série {period} : {_short(note, 70)}", hovertext=note,
                           hovertemplate="%{hovertext}<extra>rupture de série</extra>")
    figure.update_xaxes(dtick=1, tickformat="d", title=None, showgrid=False)
    figure.update_yaxes(title=entry.unit if entry else None, rangemode="tozero", gridcolor="#e5e5e5")
    figure.update_layout(legend={"orientation": "h", "y": -0.15})
    return _mark_illustrative(figure, frame)


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
    data = data.assign(short=data["label"].map(_short))
    colours = [PALETTE[1] if highlight and key in highlight else PALETTE[0] for key in data[category]]
    figure = go.Figure(layout={**LAYOUT, "title": {"text": title, "x": 0},
                               "height": max(320, 28 * len(data) + 120)})
    figure.add_bar(
        x=data["value"], y=data["short"], orientation="h", marker={"color": colours}, name="valeur",
        text=[with_unit(v, unit, decimals) for v in data["value"]], customdata=data["label"],
        hovertext=[with_unit(v, unit, decimals) + _status_text(s) for v, s in zip(data["value"], data["status"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{customdata} : %{hovertext}<extra></extra>",
    )
    top = data["value"].max() if data["value"].notna().any() else 1
    figure.update_xaxes(title=unit, gridcolor="#e5e5e5", range=[0, top * 1.22])
    figure.update_yaxes(title=None, automargin=True)
    return _mark_illustrative(figure, frame)


def band_figure(bands: pd.DataFrame, title: str, unit: str, decimals: int = 1, *,
                value_name: str = "votre établissement", value_as: str = "marker",
                highlight: set[str] | None = None) -> go.Figure:
    """Peer bands, one row per `label`, in the frame's order: the peers' interquartile band, their median and
    the value (columns label, q1, median, q3, value; optional key, status, n).

    Every trace uses the same full label (wrapped, never cut), so each median sits on its row, and every
    row's label is written. Rows whose `key` (else `label`) is in `highlight` are in bold, their value in
    orange. A row without median (fewer than 5 peers: see `benchmarks.MIN_PEERS`) shows its value alone.
    `value_as="bar"`: the value as a bar (a territory's figure), else a diamond (an establishment's)."""
    data = bands.reset_index(drop=True)
    data = data.assign(**{c: pd.to_numeric(data[c], errors="coerce").astype(float)  # None-able columns: floats
                          for c in ("q1", "median", "q3", "value") if c in data})
    keys = list(data["key"]) if "key" in data else list(data["label"])
    marked = [bool(highlight) and key in highlight for key in keys]
    rows = [_wrap(str(label), 46) for label in data["label"]]
    lines = sum(row.count("<br>") + 1 for row in rows)
    figure = go.Figure(layout={**LAYOUT, "title": {"text": title, "x": 0},
                               "height": max(280, 19 * lines + 22 * len(rows) + 150)})
    values = data["value"] if "value" in data else pd.Series([None] * len(data), dtype=float)
    statuses = data["status"] if "status" in data else pd.Series([""] * len(data))
    texts = [with_unit(v, unit, decimals) + (_status_text(s) if isinstance(s, str) else "")
             for v, s in zip(values, statuses)]
    known = data["median"].notna()
    if known.any():
        figure.add_bar(y=[r for r, k in zip(rows, known) if k], x=(data["q3"] - data["q1"])[known],
                       base=data["q1"][known], orientation="h", width=0.8, marker={"color": "#c6dbef"},
                       name="quartiles des pairs (25 %–75 %)",
                       customdata=[f"de {with_unit(a, unit, decimals)} à {with_unit(b, unit, decimals)}"
                                   for a, b in zip(data["q1"][known], data["q3"][known])],
                       hovertemplate="%{customdata}<extra>quartiles des pairs</extra>")
    if value_as == "bar" and values.notna().any():
        figure.add_bar(y=rows, x=values, orientation="h", width=0.42, name=value_name,
                       marker={"color": [PALETTE[1] if m else PALETTE[0] for m in marked]},
                       text=[with_unit(v, unit, decimals) for v in values], textposition="outside",
                       cliponaxis=False, customdata=texts, hovertemplate="%{customdata}<extra>%{fullData.name}</extra>")
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
                        tickvals=rows, ticktext=[f"<b>{r}</b>" if m else r for r, m in zip(rows, marked)])
    tops = [x for x in (values.max(), data["q3"].max()) if x == x and x is not None]
    figure.update_xaxes(title=unit, rangemode="tozero", gridcolor="#e5e5e5",
                        **({"range": [0, max(tops) * 1.2]} if tops else {}))
    figure.update_layout(legend={"orientation": "h", "y": -0.12, "yanchor": "top"}, barmode="overlay")
    return figure


def _wrap(label: str, width: int = 18) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def heatmap_figure(matrix: pd.DataFrame, directions: dict[str, str], units: dict[str, tuple[str, int]],
                   title: str) -> go.Figure:
    """Job families (rows) × indicators (columns): colour = position among families, oriented so that
    green always means « better » whatever the indicator's direction; the cell shows the value."""
    scores = matrix.copy()
    for column in scores:
        values = scores[column]
        spread = values.max() - values.min()
        scaled = (values - values.min()) / spread if spread else values * 0 + 0.5
        scores[column] = {"higher_is_better": scaled, "lower_is_better": 1 - scaled}.get(directions.get(column), 0.5)
    text = [[with_unit(matrix.iloc[r, c], *units.get(matrix.columns[c], ("", 1))) for c in range(matrix.shape[1])]
            for r in range(matrix.shape[0])]
    figure = go.Figure(layout={**LAYOUT, "title": {"text": title, "x": 0}, "height": 260 + 52 * len(matrix),
                               "margin": {"l": 10, "r": 10, "t": 190, "b": 20}})
    figure.add_heatmap(z=scores.to_numpy(), x=[_wrap(c) for c in matrix.columns], y=list(matrix.index), text=text,
                       texttemplate="%{text}", textfont={"size": 13},
                       colorscale=[[0, "#d73027"], [0.5, "#f7f7f7"], [1, "#1a9850"]],
                       zmin=0, zmax=1, hovertemplate="%{y} – %{x} : %{text}<extra></extra>",
                       colorbar={"title": "mieux →", "tickvals": [0, 1], "ticktext": ["moins bien", "mieux"]})
    figure.update_xaxes(side="top", tickangle=0, automargin=True)
    figure.update_yaxes(autorange="reversed", automargin=True)
    return figure


@lru_cache(maxsize=2)
def geometry(level: str) -> dict:
    """The map geometry (DROM as insets), read once: sent to the browser once per map."""
    name = "regions_insets.geojson" if level == "region" else "departements_insets.geojson"
    return json.loads((REFERENCE_DIR / "geo" / name).read_text(encoding="utf-8"))


def choropleth_figure(level: str, title: str) -> dict:
    """The map shell as a plain figure dict: geometry and layout, no values (values arrive by partial update,
    see `map_values`). Built and validated once per level; callers get a new top-level dict sharing the
    geometry, which nobody mutates."""
    shell = _choropleth_shell(level)
    return {"data": [dict(shell["data"][0])], "layout": {**shell["layout"], "title": {"text": title, "x": 0}}}


@lru_cache(maxsize=2)
def _choropleth_shell(level: str) -> dict:
    shapes = geometry(level)
    codes = [f["properties"]["code"] for f in shapes["features"]]
    figure = go.Figure(layout={**LAYOUT, "height": 560, "margin": {"l": 0, "r": 0, "t": 70, "b": 0}})
    figure.add_choropleth(geojson=shapes, locations=codes, featureidkey="properties.code", z=[None] * len(codes),
                          colorscale="Blues", marker={"line": {"width": 0.5, "color": "white"}},
                          hovertemplate="%{customdata}<extra></extra>", customdata=codes,
                          colorbar={"thickness": 14, "len": 0.7})
    figure.update_geos(fitbounds="locations", visible=False, projection={"type": "mercator"})
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
    return {"z": z, "customdata": texts, "colorscale": "Reds" if lower_is_better else "Blues"}


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


def table_rows(frame: pd.DataFrame, labels: dict[str, dict[str, str]]) -> list[dict]:
    """« Voir les données »: the figures behind a chart, as displayed (French numbers, status in words)."""
    rows = []
    for r in frame.itertuples(index=False):
        entry = catalogue.get(r.indicator_id)
        rows.append({
            "Indicateur": entry.label, "Profession": labels.get("profession", {}).get(r.profession_id, r.profession_id),
            "Territoire": labels.get("territory", {}).get(r.territory_id, r.territory_id), "Année": int(r.period),
            "Valeur": number(r.value, entry.decimals), "Unité": entry.unit,
            "Statut": STATUS_LABELS.get(r.status, r.status) or "publié",
            "Source": labels.get("source", {}).get(r.source_id, r.source_id),
            "Rupture de série": getattr(r, "series_break", None) or "",
        })
    return rows
