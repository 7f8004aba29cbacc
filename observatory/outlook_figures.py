"""The outlook's charts (page « Perspectives »): pure functions from an `outlook_data.Projection` to Plotly figures.

They share the observatory's chart layout, palette and status symbols (`observatory.figures`) and write persons in
French (`persons`, `signed`…, also used by the page's sentence and tables in `outlook_view`). No Dash, no store.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

from observatory import figures
from observatory.formatting import NNBSP, number, points
from observatory.outlook_data import Projection

BAND_LABEL = "fourchette (tendance ± écart-type historique)"
FLOW_NAMES = {"retirements": "départs en fin de carrière", "job_change": "créations nettes d'emploi",
              "other_exits": "sorties en cours de carrière (borne haute)"}
HIDDEN_BY_DEFAULT = ("other_exits",)  # an upper bound never dominates the chart: shown on demand (legend click)
HIDDEN_NOTE = ("Les sorties en cours de carrière, une borne haute, sont masquées par défaut : cliquez sur « sorties "
               "en cours de carrière (borne haute) » dans la légende pour les ajouter au graphique.")
FLOW_COLOURS = {"retirements": figures.PALETTE[0], "job_change": figures.PALETTE[2],
                "other_exits": figures.PALETTE[1]}
MODEBAR = 30  # px above the title: Plotly's tool bar never covers it
MINUS = "\u2212"
HOVER = "%{x} : %{customdata}<extra>%{fullData.name}</extra>"


def missing(value) -> bool:
    """No value: None or NaN (a family without training data has no entrants, hence no gap)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def persons(value: float) -> str:
    """A count of persons in French: `12 345` (narrow no-break space), never a decimal."""
    return number(round(value), 0)


def plain(value: float) -> str:
    """`1 234`, `−1 234` (a true minus sign, no plus)."""
    return (MINUS if round(value) < 0 else "") + number(abs(round(value)), 0)


def signed(value: float) -> str:
    """`+1 234`, `−1 234` (a true minus sign), `0`."""
    return points(round(value), "", 0)


def signed_rate(value: float) -> str:
    """`+0,6 %`, `−1,2 %`."""
    return f"{points(value, '')}{NNBSP}%"



def _titled(figure: go.Figure, title: str, illustrative: bool) -> go.Figure:
    if illustrative:
        title += f"<br><sup><span style='color:{figures.BREAK_COLOUR}'>⚠ {figures.ILLUSTRATIVE_LABEL} : jeunes " \
                 "diplômés et écarts</span></sup>"
    text = figures.wrap_title(title)
    return figure.update_layout(title={"text": text, "x": 0, "font": {"size": 16}, "yref": "container", "y": 1,
                                       "yanchor": "top", "pad": {"t": MODEBAR}},
                                margin={"t": figures.title_margin(text) + MODEBAR},
                                height=460 + max(0, figures.title_margin(text) + MODEBAR - 70))


def _hover(values) -> list[str]:
    return [signed(v) if v < 0 else persons(v) for v in values]


def _central(figure: go.Figure, projection: Projection, column: str, name: str) -> None:
    """The central scenario's `column`, dashed, when the user's scenario differs from it."""
    if projection.request.scenario.changed():
        central = projection.central
        figure.add_scatter(x=[int(y) for y in central.year], y=central[column].tolist(), mode="lines", name=name,
                           line={"color": "#3a3a3a", "dash": "dash", "width": 2}, customdata=_hover(central[column]),
                           hovertemplate=HOVER)


def _axes(figure: go.Figure, **y_axis) -> None:
    """Whole years across, persons up, the legend under the chart."""
    figure.update_xaxes(tickformat="d", showgrid=False)
    figure.update_yaxes(gridcolor="#e5e5e5", **y_axis)
    figure.update_layout(legend={"orientation": "h", "y": -0.12, "yanchor": "top"})


def flows_figure(projection: Projection, subject: str, source: str, illustrative: bool) -> go.Figure:
    """Stacked bars per year (end-of-career exits, net job creation; mid-career exits, hatched, only on demand:
    an upper bound three times their size would otherwise dominate) against the young graduates taking a job
    (line); the central scenario's openings dashed when the scenario differs."""
    rows, years = projection.rows, [int(y) for y in projection.rows.year]
    figure = go.Figure(layout={**figures.LAYOUT, "barmode": "relative"})
    for key, name in FLOW_NAMES.items():
        if key == "job_change" and (rows.job_change < 0).any():
            name = "créations nettes d'emploi (sous zéro : suppressions)"
        figure.add_bar(x=years, y=rows[key].tolist(), name=name, customdata=_hover(rows[key]),
                       visible="legendonly" if key in HIDDEN_BY_DEFAULT else True,
                       marker={"color": FLOW_COLOURS[key],
                               "pattern": {"shape": "/" if key == "other_exits" else "", "fgcolor": "#ffffff",
                                           "size": 7}},
                       hovertemplate=HOVER)
    if rows.entrants.notna().any():
        figure.add_scatter(x=years, y=rows.entrants.tolist(), mode="lines+markers",
                           name="jeunes diplômés (illustratif)" if illustrative else "jeunes diplômés",
                           line={"color": "#000000", "width": 3},
                           marker={"symbol": figures.STATUS_SYMBOLS["illustrative" if illustrative else "ok"],
                                   "size": 9},
                           customdata=_hover(rows.entrants),
                           hovertemplate=HOVER)
    _central(figure, projection, "openings", "postes à pourvoir, scénario central")
    _axes(figure, title="personnes par an", zeroline=True, zerolinecolor=figures.MEDIAN_LINE_COLOUR)
    return _titled(figure, f"Postes à pourvoir et jeunes diplômés par an – {subject}<br><sup>Projection de "
                           f"l'observatoire ; source : {source}</sup>", illustrative)


def employment_figure(projection: Projection, subject: str, source: str) -> go.Figure:
    """The projected employment with its band (filled between low and high), the central scenario dashed."""
    rows, years = projection.rows, [int(y) for y in projection.rows.year]
    figure = go.Figure(layout={**figures.LAYOUT})
    figure.add_scatter(x=years, y=rows.employment_low.tolist(), mode="lines", line={"width": 0},
                       showlegend=False, hoverinfo="skip", legendgroup="band")
    figure.add_scatter(x=years, y=rows.employment_high.tolist(), mode="lines", line={"width": 0},
                       fill="tonexty", fillcolor="rgba(0, 99, 203, 0.18)", name=BAND_LABEL, legendgroup="band",
                       customdata=[f"{persons(lo)} à {persons(hi)}" for lo, hi in
                                   zip(rows.employment_low, rows.employment_high)],
                       hovertemplate="%{x} : %{customdata}<extra>fourchette</extra>")
    figure.add_scatter(x=years, y=rows.employment.tolist(), mode="lines+markers", name="emploi projeté",
                       line={"color": figures.PALETTE[0], "width": 3}, customdata=_hover(rows.employment),
                       hovertemplate=HOVER)
    _central(figure, projection, "employment", "emploi, scénario central")
    _axes(figure, title="personnes en emploi", rangemode="tozero")
    return _titled(figure, f"Emploi projeté – {subject}<br><sup>Projection de l'observatoire ; source : "
                           f"{source}</sup>", False)
