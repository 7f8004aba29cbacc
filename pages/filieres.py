"""Compare job families (filières) side by side on every indicator published by profession."""
from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, callback, dash_table, dcc, html

from observatory import catalogue, figures, heatmap, queries, urlstate, views
from observatory.formatting import with_unit
from observatory.urlstate import Filters
from pages._components import ui

dash.register_page(__name__, path="/filieres", name="Filières", title="Filières – Observatoire", order=4)
DEFAULT = Filters("recruitment_difficulty_share")
INTRO = ("Les filières du travail social côte à côte, avec l'ensemble des métiers ; chaque colonne dit son année. "
         "Chaque case donne la valeur. Pour un taux ou une part, sa couleur dit l'écart à la France (ensemble des "
         "métiers, même année), en points, selon le sens de « mieux » propre à l'indicateur (moins de "
         "difficultés, plus de diplômés…) : bleu mieux, rouge moins bien, gris clair proche de la France. Les "
         "volumes (projets, offres, personnes) dépendent de la taille de la filière : ils ne sont pas colorés.")


def layout(**query):
    filters = urlstate.decode(query, DEFAULT)
    options = [o for o in ui.territory_options(ui.store()) if o["value"] == "FR" or o["value"].startswith("REG-")]
    return html.Div([
        ui.page_header("Comparer les filières", INTRO),
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
            legend(),
            # desk: the heat map (seven columns need about 900 px); phones and tablets (below Bootstrap's lg,
            # 992 px): the same cells as a table
            html.Div(ui.described_chart(dcc.Loading(dcc.Graph(id="fil-heatmap", config=figures.GRAPH_CONFIG)),
                                        "fil-summary", "fil-table", min_width=900), className="d-none d-lg-block"),
            html.Div(id="fil-phone", className="d-lg-none"),
            html.P(id="fil-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"),
                          dash_table.DataTable(id="fil-table", page_size=20, style_table={"overflowX": "auto"})],
                         className="obs-data"),
        ], className="obs-card"),
    ])


def legend() -> html.Div:
    """The colours' meaning, for the heat map and the phone table alike."""
    return html.Div([
        html.Strong(heatmap.LEGEND_TITLE[0].upper() + heatmap.LEGEND_TITLE[1:] + " : ", className="me-1"),
        *[html.Span([html.Span(className="obs-swatch", style={"background": colour}), words],
                    className="obs-legend-item") for _name, colour, words in heatmap.legend_items()],
    ], id="fil-legend", className="obs-legend mb-2")


def phone_table(grid: list[list[dict]], columns: list[heatmap.Column], where: str) -> html.Table:
    """The heat map as a table a phone reads: one block per indicator (its name and year), a row per family
    with the value (coloured as in the heat map) and its gap to France in words."""
    blocks = []
    for j, column in enumerate(columns):
        head = column.name + (f" – {column.unit_note}" if column.unit_note else "")
        rows = [html.Tr(html.Th(head, colSpan=3, scope="colgroup"), className="obs-group")]
        for line in grid:
            cell = line[j]
            dark = cell["class"] in ("much_worse", "much_better")
            rows.append(html.Tr([
                html.Th(cell["row"], scope="row"),
                html.Td(cell["text"], style={"background": cell["colour"], "color": "#fff" if dark else None},
                        className="obs-value", **{"data-row": cell["row"], "data-column": cell["column"]}),
                html.Td(cell["gap"] or ("non comparé" if cell["class"] == "count" else "—")),
            ]))
        blocks.append(html.Tbody(rows))
    return html.Table([
        html.Caption(f"Filières du travail social – {where} : valeur et écart à la France"),
        html.Thead(html.Tr([html.Th("Filière", scope="col"), html.Th("Valeur", scope="col"),
                            html.Th("Écart à la France", scope="col")])),
        *blocks,
    ], id="fil-phone-table", className="table table-sm obs-phone-table")


@callback(Output("fil-heatmap", "figure"), Output("fil-summary", "children"), Output("fil-table", "data"),
          Output("fil-phone", "children"),
          Output("fil-banner", "children"), Output("fil-banner", "hidden"),
          Output("url", "search", allow_duplicate=True),
          Output("fil-export-csv", "href"), Output("fil-export-xlsx", "href"),
          Input("fil-territory", "value"), Input("fil-comparer", "value"), prevent_initial_call="initial_duplicate")
def update(territory, compare=None):
    """The heat map, its table and texts, and the export links (`export_links`: from the same rows)."""
    territory = territory or "FR"
    matrix, long = families(territory, compare)
    columns = views.families.family_columns(ui.store(), matrix, long)
    fictive = [c.name for c in columns if c.name.endswith("– fictif")]
    banner = ("⚠ Données fictives calibrées dans les colonnes : " + " ; ".join(fictive) + ". Les autres colonnes "
              "sont des données publiées.") if fictive else ""
    where = views.names.labels(ui.store(), "territory").get(territory, territory)
    sources = views.names.source_names(ui.store())
    quoted = "; ".join(sources.get(s, s) + (" (fictif)" if s in set(long.loc[long.status.astype(str).str.startswith(
        "illustrative"), "source_id"]) else "") for s in sorted(long.source_id.unique()))
    figure = figures.heatmap_figure(matrix, columns, f"Filières du travail social – {where}<br><sup>"
                                    f"Sources : {quoted}</sup>")
    table = phone_table(heatmap.cells(matrix, columns), columns, where)
    best = ""
    first = catalogue.PAGES["filieres"][0]  # the page's lead indicator, as the catalogue orders them
    lead = next((c.name for c in columns if c.indicator_id == first), None)
    if lead and matrix[lead].notna().any():
        column, entry = matrix[lead], catalogue.get(first)
        best = (f" {entry.label} : de {with_unit(column.min(), entry.unit, entry.decimals)} "
                f"(« {column.idxmin()} ») à {with_unit(column.max(), entry.unit, entry.decimals)} "
                f"(« {column.idxmax()} »).")
    summary = f"{len(matrix)} filières ou ensembles comparés sur {matrix.shape[1]} indicateurs ({where}).{best}"
    if _with_france(territory, compare):
        summary += f" Chaque filière de {where} est suivie de sa valeur pour la France."
    summary += (" Couleurs : écart de chaque taux à la France (ensemble des métiers, même année) ; les volumes ne "
                "sont pas colorés.")
    return (figure, summary, views.names.table_rows(ui.store(), long), table, banner, not fictive,
            _search(territory, compare), *export_links(territory, compare, long))


def _with_france(territory: str, compare) -> bool:
    return territory != "FR" and "france" in (compare or ())


def _search(territory: str, compare) -> str:
    return urlstate.encode(Filters(DEFAULT.indicator, territory=territory,
                                   compare=("france",) if _with_france(territory, compare) else ()), DEFAULT)


def families(territory: str, compare=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The heat map's matrix and rows; « Comparer avec la France »: each family of the région followed by the
    same family in France (the colours then rank the région's and France's rows together)."""
    matrix, long = views.families.families_matrix(ui.store(), territory)
    if not _with_france(territory, compare):
        return matrix, long
    france, france_long = views.families.families_matrix(ui.store(), "FR")
    where = views.names.labels(ui.store(), "territory").get(territory, territory)
    france = france.reindex(columns=matrix.columns)
    rows = []
    for family in matrix.index:
        rows.append(matrix.loc[[family]].rename(index={family: f"{family} – {where}"}))
        if family in france.index:
            rows.append(france.loc[[family]].rename(index={family: f"{family} – France"}))
    return pd.concat(rows), pd.concat([long, france_long], ignore_index=True)


def export_links(territory: str, compare, long: pd.DataFrame) -> tuple[str, str]:
    """The export links: the API with the selection covering the heat map's rows (each indicator's latest year;
    an indicator whose latest year is older also gets the other indicators' years)."""
    selection = queries.Selection.covering(long) or queries.Selection(
        indicators=catalogue.PAGES["filieres"], territories=(territory,))
    return ui.export_links(selection, "/filieres" + _search(territory, compare))
