"""Shared page components: header, filter bar, chart cards with their data table and summary."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from observatory import api, catalogue, figures, queries
from observatory.store import Store
from observatory.urlstate import Filters

MAX_TABLE_ROWS = 200


def store() -> Store:
    """The app's store, for every page and callback: app.py makes it (`OBSERVATORY_DB` or the bundled file) and
    `api.register` keeps it in the Flask config; pages never look for a store themselves."""
    return api.current_store()


def page_header(title: str, intro: str) -> html.Div:
    return html.Div([html.H1(title, className="h2"), html.P(intro, className="lead fs-6")])


def illustrative_banner(element_id: str, show: bool = False) -> html.Div:
    return html.Div(
        "⚠ Données fictives calibrées : ces chiffres sont illustratifs (générés dans la mise en forme des "
        "fichiers publiés et calibrés sur les chiffres nationaux publiés), pas des données réelles.",
        id=element_id, className="obs-illustrative", role="note", hidden=not show)


# Dash's dropdown speaks English by default (« Search », « Clear selection »…): its own words, in French (RGAA 8.3)
DROPDOWN_LABELS = {"select_all": "Tout sélectionner", "deselect_all": "Tout désélectionner",
                   "selected_count": "{num_selected} sélectionné(s)", "search": "Rechercher",
                   "clear_search": "Effacer la recherche", "clear_selection": "Effacer la sélection",
                   "no_options_found": "Aucun choix ne correspond"}


def french_dropdown(element_id: str, options: list[dict], value, clearable: bool = False,
                    placeholder: str = "Choisir…") -> dcc.Dropdown:
    """Every dropdown of the dashboard: Dash's, with French words for its own buttons and messages."""
    return dcc.Dropdown(id=element_id, options=options, value=value, clearable=clearable, labels=DROPDOWN_LABELS,
                        placeholder=placeholder)


def dropdown(element_id: str, label: str, options: list[dict], value, clearable: bool = False,
             placeholder: str = "Choisir…") -> html.Div:
    """`placeholder`: what an empty choice means (« Toutes les années » where none is a filter left open)."""
    return html.Div([html.Label(label, htmlFor=element_id),
                     french_dropdown(element_id, options, value, clearable, placeholder)], className="mb-2")


def table_column(name: str) -> dict:
    """A DataTable column named `name`; « Année » is a number, so its filter box reads « 2023 » as « = 2023 » (as
    Dash's « any » type it matched nothing)."""
    return {"name": name, "id": name, **({"type": "numeric"} if name == "Année" else {})}


def indicator_options(ids: tuple[str, ...]) -> list[dict]:
    return [{"label": f"{catalogue.get(i).label} ({catalogue.get(i).unit})", "value": i} for i in ids]


def profession_options(store: Store, include_others: bool = True, ensemble_label: str | None = None,
                       indicator_id: str | None = None) -> list[dict]:
    """`ensemble_label` (or the catalogue's `root_label` of `indicator_id`): what the root stands for with the
    indicator shown (TDBMS: « Personnel permanent des ESMS », not every occupation)."""
    dims = queries.dimensions(store)
    professions = dims.professions.set_index("profession_id")
    indent = {"ensemble": 0, "domain": 1, "family": 2, "group": 3, "profession": 4}
    root = professions.loc["ensemble", "label"]
    if ensemble_label is None and indicator_id:
        ensemble_label = catalogue.root_label(indicator_id, root)
    options = [{"label": ensemble_label or root, "value": "ensemble"}]
    for pid in queries.social_professions(store):
        row = professions.loc[pid]
        options.append({"label": "\u2003" * (indent[row.level] - 1) + row.label, "value": pid})
    if include_others:
        others = professions[(professions.parent_id == "autres_metiers")].sort_values("label")
        options += [{"label": f"{row.label} (autre métier)", "value": pid} for pid, row in others.iterrows()
                    if not pid.startswith(("rome_", "fap22_"))]
    return options


def territory_options(store: Store) -> list[dict]:
    territories = queries.dimensions(store).territories
    options = [{"label": "France", "value": "FR"}]
    for level in ("region", "departement"):
        part = territories[territories.level == level].sort_values("code")
        options += [{"label": f"{catalogue.place(level, r.name)} ({r.code})", "value": r.territory_id}
                    for r in part.itertuples()]
    return options


COMPARE_OPTIONS = [{"label": "sa région", "value": "region"}, {"label": "la France", "value": "france"}]


def compare_checklist(prefix: str, filters: Filters) -> html.Div:
    """« Comparer avec »: the territory shown also against its région and/or France (one line per territory)."""
    return html.Fieldset([
        html.Legend("Comparer avec", className="fs-6 mb-1"),
        dcc.Checklist(id=f"{prefix}-comparer", options=COMPARE_OPTIONS, value=list(filters.compare), inline=True,
                      inputClassName="me-1", labelClassName="me-3"),
    ], className="mb-2")


def filter_bar(prefix: str, indicators: tuple[str, ...], filters: Filters, *, categories: list[dict] | None = None,
               professions: bool = True, compare: bool = False) -> dbc.Row:
    columns = [
        dbc.Col(dropdown(f"{prefix}-indicator", "Indicateur", indicator_options(indicators), filters.indicator), md=4),
    ]
    if professions:
        columns.append(dbc.Col(dropdown(f"{prefix}-profession", "Filière, groupe ou métier",
                                        profession_options(store(), indicator_id=filters.indicator),
                                        filters.profession), md=3))
    columns += [
        dbc.Col(dropdown(f"{prefix}-territory", "Territoire", territory_options(store()), filters.territory), md=3),
        dbc.Col(dropdown(f"{prefix}-period", "Année", [], filters.period), md=2),
    ]
    if categories is not None:
        columns.append(dbc.Col(dropdown(f"{prefix}-breakdown", "Catégorie d'établissement",
                                        [{"label": "Toutes catégories", "value": ""}, *categories],
                                        filters.breakdown or "", clearable=False), md=4))
    columns.append(dbc.Col(dropdown(f"{prefix}-source", "Source", [], filters.source), md=4))
    if compare:
        columns.append(dbc.Col(compare_checklist(prefix, filters), md=4))
    return dbc.Row(columns, className="obs-filters obs-card")


def described_chart(graph, summary_id: str, table_id: str, min_width: int | None = None) -> html.Div:
    """A chart with its text alternative: a `figure` whose `aria-describedby` names the summary sentence and the
    data table. `min_width` (px): below it the chart scrolls inside its card instead of shrinking (a map, a
    heat map), so the page itself never gets wider than a phone."""
    inner = html.Div(graph, style={"minWidth": f"{min_width}px"}) if min_width else graph
    return html.Div(inner, role="figure", className="obs-chart" + (" obs-chart-wide" if min_width else ""),
                    **{"aria-describedby": f"{summary_id} {table_id}"})


def definition_children(indicator_id: str) -> list:
    """The definition line under a chart: the catalogue's definition and a link to the indicator's section of
    « Méthodologie » (its formula in words and symbols), `/methodologie#indicateur-<id>`."""
    entry = catalogue.get(indicator_id)
    return [html.Strong(f"{entry.label} : "), entry.definition + " ",
            html.A("Définition et formule", href=catalogue.methodology_href(indicator_id),
                   className="obs-definition-link")]


def definition_line(element_id: str, indicator_id: str | None = None) -> html.P:
    """The definition under a chart (filled by the page's callback when the indicator is chosen there)."""
    return html.P(definition_children(indicator_id) if indicator_id else [], id=element_id,
                  className="obs-source obs-definition")


def chart_card(prefix: str, name: str, indicator_id: str | None = None) -> html.Div:
    """A chart, its one-sentence summary, its definition and its data behind a « Voir les données »
    disclosure."""
    return html.Div([
        described_chart(dcc.Loading(dcc.Graph(id=f"{prefix}-{name}", config=figures.GRAPH_CONFIG,
                                              style={"width": "100%"}), type="dot"),
                        f"{prefix}-{name}-summary", f"{prefix}-{name}-table"),
        html.P(id=f"{prefix}-{name}-summary", className="obs-summary", **{"aria-live": "polite"}),
        definition_line(f"{prefix}-{name}-definition", indicator_id),
        html.Details([
            html.Summary("Voir les données"),
            dash_table.DataTable(id=f"{prefix}-{name}-table", page_size=15, style_table={"overflowX": "auto"},
                                 style_cell={"fontFamily": "Arial", "fontSize": 13, "textAlign": "left"}),
        ], className="obs-data"),
    ], className="obs-card")


def export_buttons(prefix: str) -> html.Div:
    """« Exporter » the current view: links to the API with the view's selection (`export_links`), so that the
    page's file and the API's are the same bytes by construction. The page's callback sets the `href`s."""
    return html.Div([
        html.A("Exporter la vue (CSV)", id=f"{prefix}-export-csv", className="btn btn-outline-primary btn-sm me-2",
               rel="nofollow"),
        html.A("Exporter la vue (XLSX)", id=f"{prefix}-export-xlsx", className="btn btn-outline-primary btn-sm",
               rel="nofollow"),
    ], className="mb-2")


def export_links(selection: queries.Selection, permalink: str) -> tuple[str, str]:
    """The CSV and XLSX links of a view: `/api/v1/observations?<its selection>&format=…&lang=fr`; the XLSX
    quotes `permalink` (the page's own link, with its filters) in its metadata sheet."""
    from urllib.parse import quote

    from observatory import urlstate

    base = f"/api/v1/observations?{urlstate.encode_selection(store(), selection)}"
    return (f"{base}&format=csv&lang=fr",
            f"{base}&format=xlsx&lang=fr&permalink={quote(permalink, safe='/')}")


def copy_link() -> html.Div:
    return html.Div([
        html.Span("Lien de cette vue : ", className="obs-source"),
        html.Code(id="page-link", className="obs-source"),
        dcc.Clipboard(target_id="page-link", title="Copier le lien", className="d-inline-block ms-2",
                      style={"cursor": "pointer"}),
    ], className="mb-2")


def choice(value, allowed, default):
    """A callback input normalised: `value` when it is one of `allowed` (text or number, never a list or an
    object a forged request may send), else `default`."""
    return value if isinstance(value, (str, int, float)) and value in allowed else default


def refuse_bad_input(error: Exception) -> None:
    """Every callback's guard (Dash's `on_error`): an input of the wrong type or an unknown value (a forged
    request, a hand-edited link) leaves the page as it was — its defaults, or the last valid view — instead of
    a 500. One line in the log, the value cut (the log formatter bounds every line too)."""
    import logging

    logging.getLogger("observatory.callbacks").warning("entrée refusée (%s : %.200s)", type(error).__name__, error)
