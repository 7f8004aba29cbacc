"""Compare job families (filières) side by side on every indicator published by profession."""
from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, callback, dash_table, dcc, html

from observatory import catalogue, figures, queries, urlstate, views
from observatory.formatting import with_unit
from observatory.urlstate import Filters
from pages._components import ui

dash.register_page(__name__, path="/filieres", name="Filières", title="Filières – Observatoire", order=4)
DEFAULT = Filters("recruitment_difficulty_share")


def layout(**query):
    filters = urlstate.decode(query, DEFAULT)
    options = [o for o in ui.territory_options() if o["value"] == "FR" or o["value"].startswith("REG-")]
    return html.Div([
        ui.page_header("Comparer les filières", "Les filières du travail social côte à côte, avec l'ensemble des "
                       "métiers. Chaque case donne la valeur ; sa couleur dit si la filière fait mieux (vert) ou "
                       "moins bien (rouge) que les autres sur cet indicateur, selon le sens de « mieux » propre à "
                       "l'indicateur (moins de difficultés, plus de diplômés…)."),
        ui.illustrative_banner("fil-banner"),
        html.Div([
            ui.dropdown("fil-territory", "Territoire", options, filters.territory),
            html.Fieldset([
                html.Legend("Comparer avec", className="fs-6 mb-1"),
                dcc.Checklist(id="fil-comparer", options=[{"label": "la France", "value": "france"}],
                              value=[c for c in filters.compare if c == "france"], inline=True,
                              inputClassName="me-1", labelClassName="me-3"),
            ], className="mb-2"),
        ], className="obs-card"),
        ui.copy_link(),
        ui.export_buttons("fil"),
        html.Div([
            ui.described_chart(dcc.Loading(dcc.Graph(id="fil-heatmap", config=figures.GRAPH_CONFIG)),
                               "fil-summary", "fil-table", min_width=720),
            html.P(id="fil-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"),
                          dash_table.DataTable(id="fil-table", page_size=20, style_table={"overflowX": "auto"})],
                         className="obs-data"),
        ], className="obs-card"),
    ])


@callback(Output("fil-heatmap", "figure"), Output("fil-summary", "children"), Output("fil-table", "data"),
          Output("fil-banner", "children"), Output("fil-banner", "hidden"),
          Output("url", "search", allow_duplicate=True),
          Input("fil-territory", "value"), Input("fil-comparer", "value"), prevent_initial_call="initial_duplicate")
def update(territory, compare=None):
    territory = territory or "FR"
    matrix, long = families(territory, compare)
    columns = views.family_column_names(long)
    directions = {name: catalogue.get(i).direction for i, name in columns.items()}
    units = {name: (catalogue.get(i).unit, catalogue.get(i).decimals) for i, name in columns.items()}
    fictive = [name for name in columns.values() if name.endswith("– fictif")]
    banner = ("⚠ Données fictives calibrées dans les colonnes : " + " ; ".join(fictive) + ". Les autres colonnes "
              "sont des données publiées.") if fictive else ""
    where = views.labels("territory").get(territory, territory)
    sources = views.source_names()
    quoted = "; ".join(sources.get(s, s) + (" (fictif)" if s in set(long.loc[long.status.astype(str).str.startswith(
        "illustrative"), "source_id"]) else "") for s in sorted(long.source_id.unique()))
    figure = figures.heatmap_figure(matrix, directions, units, f"Filières du travail social – {where}<br><sup>"
                                    f"Sources : {quoted}</sup>")
    best = ""
    first = catalogue.PAGES["filieres"][0]  # the page's lead indicator, as the catalogue orders them
    if first in columns and matrix[columns[first]].notna().any():
        column, entry = matrix[columns[first]], catalogue.get(first)
        best = (f" {entry.label} : de {with_unit(column.min(), entry.unit, entry.decimals)} "
                f"(« {column.idxmin()} ») à {with_unit(column.max(), entry.unit, entry.decimals)} "
                f"(« {column.idxmax()} »).")
    summary = f"{len(matrix)} filières ou ensembles comparés sur {matrix.shape[1]} indicateurs ({where}).{best}"
    names = {"profession": views.labels("profession"), "territory": views.labels("territory"), "source": sources}
    if _with_france(territory, compare):
        summary += f" Chaque filière de {where} est suivie de sa valeur pour la France."
    return (figure, summary, figures.table_rows(long, names), banner, not fictive, _search(territory, compare))


def _with_france(territory: str, compare) -> bool:
    return territory != "FR" and "france" in (compare or ())


def _search(territory: str, compare) -> str:
    return urlstate.encode(Filters(DEFAULT.indicator, territory=territory,
                                   compare=("france",) if _with_france(territory, compare) else ()), DEFAULT)


def families(territory: str, compare=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The heat map's matrix and rows; « Comparer avec la France »: each family of the région followed by the
    same family in France (the colours then rank the région's and France's rows together)."""
    matrix, long = views.families_matrix(territory)
    if not _with_france(territory, compare):
        return matrix, long
    france, france_long = views.families_matrix("FR")
    where = views.labels("territory").get(territory, territory)
    france = france.reindex(columns=matrix.columns)
    rows = []
    for family in matrix.index:
        rows.append(matrix.loc[[family]].rename(index={family: f"{family} – {where}"}))
        if family in france.index:
            rows.append(france.loc[[family]].rename(index={family: f"{family} – France"}))
    return pd.concat(rows), pd.concat([long, france_long], ignore_index=True)


@callback(Output("fil-export-csv", "href"), Output("fil-export-xlsx", "href"), Input("fil-territory", "value"),
          Input("fil-comparer", "value"))
def export(territory, compare=None):
    """The export links: the API with the selection covering the heat map's rows (each indicator's latest year;
    an indicator whose latest year is older also gets the other indicators' years)."""
    territory = territory or "FR"
    _matrix, long = families(territory, compare)
    selection = queries.Selection.covering(long) or queries.Selection(
        indicators=catalogue.PAGES["filieres"], territories=(territory,))
    return ui.export_links(selection, "/filieres" + _search(territory, compare))
