"""« Perspectives »: how many positions to fill by the horizon, per job family and territory, under a scenario
the user can change (the stock-flow model of `observatory.outlook`, its inputs read by `observatory.outlook_data`).

The URL is the state: the page reads it with the outlook's codec (`urlstate.parse_outlook`, lenient) and writes it
back (`urlstate.encode_outlook`), so a shared link reopens the same view; the export links are the API's URL for the
same request. Callbacks are thin: `outlook_data.run`, then `observatory.outlook_view.view` (its figures:
`observatory.outlook_figures`).
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html, no_update

from observatory import figures, outlook, outlook_data, urlstate
from observatory import outlook_view as parts
from observatory.formatting import number
from observatory.outlook import OutlookError
from observatory.outlook_figures import HIDDEN_NOTE, MINUS
from pages._components import ui

dash.register_page(__name__, path="/perspectives", name="Perspectives",
                   title="Perspectives – Observatoire des métiers du social", order=5.5)
PREFIX = "outlook"
PARAMETERS = tuple(outlook.PARAMETERS)
TABLE_STYLE = {"style_cell": {"fontFamily": "Arial", "fontSize": 13, "textAlign": "left", "whiteSpace": "normal",
                              "height": "auto", "minWidth": "90px"},
               "style_header": {"fontWeight": "bold"}, "style_table": {"overflowX": "auto"}}
WIDE_COLUMNS = {"Source": "320px", "Hypothèse": "180px", "Famille": "160px", "Mesure": "140px",
                "L'emploi suit": "180px"}  # never a sliver


def _control(name: str, value, hint: tuple[str, str] | None = None) -> dbc.Col:
    """A scenario control: its French label with the unit, the number field, its source in one line. `hint`:
    (placeholder, words after the label) of a field left empty by default (the family's own value)."""
    p = outlook.PARAMETERS[name]
    element_id = f"{PREFIX}-{name}"
    placeholder, words = hint or (None, "")
    return dbc.Col(html.Div([
        html.Label([f"{p.label} ({p.unit} ; de {number(p.low, 1).replace('-', MINUS).removesuffix(',0')} "
                    f"à {number(p.high, 1).removesuffix(',0')})",
                    html.Span(words, id=f"{element_id}-hint") if hint else None], htmlFor=element_id),
        # a text field with a decimal keypad, not type=number: a browser's number field turns « 1,5 » into no value
        # (or 15) without a word; the codec reads French decimals (formatting.parse_number), checks the range, and
        # the page says which entry it ignored and why (see parts.ignored)
        dcc.Input(id=element_id, type="text", debounce=True, value=parts.field_value(value),
                  placeholder=placeholder, inputMode="decimal", autoComplete="off",
                  className="form-control obs-number"),
        html.Small(p.source, className="obs-source d-block"),
    ], className="mb-2"), xs=12, md=6, lg=4)


def _table(element_id: str, columns: list[str] | None = None, data=None) -> dash_table.DataTable:
    """A table whose long text columns keep a readable width (on a phone the table scrolls in its box)."""
    widths = [{"if": {"column_id": c}, "minWidth": w} for c, w in WIDE_COLUMNS.items() if c in (columns or [])]
    return dash_table.DataTable(id=element_id, data=data or [], style_cell_conditional=widths,
                                columns=[{"name": c, "id": c} for c in (columns or [])], **TABLE_STYLE)


def layout(**query):
    try:
        data = outlook_data.store(ui.store())
        request = urlstate.parse_outlook(query, data, strict=False)
    except OutlookError:
        return html.Div([
            ui.page_header("Perspectives", "Projection des postes à pourvoir par famille professionnelle."),
            html.P("Les données de la projection (pyramides des âges, emploi par famille) ne sont pas chargées dans "
                   "l'entrepôt : lancez la construction de l'entrepôt (python -m etl build).",
                   className="obs-illustrative", id=f"{PREFIX}-sentence"),
        ])
    scenario = request.scenario
    social = parts.social_backtest_rows(data)
    export_link = {"className": "btn btn-outline-primary btn-sm me-2 mb-1", "rel": "nofollow"}
    return html.Div([
        ui.page_header("Perspectives", "Combien de postes faudra-t-il pourvoir d'ici l'horizon choisi ? Les départs "
                       "en fin de carrière et les créations nettes d'emplois d'une famille professionnelle, face aux "
                       "jeunes diplômés qui prennent un poste ; les sorties en cours de carrière donnent l'écart "
                       "complet. Chaque hypothèse se modifie ci-dessous et reste dans le lien de la page."),
        html.Div("⚠ Données fictives calibrées pour la formation : les jeunes diplômés, donc les écarts, reposent "
                 "sur une série DREES illustrative, pas sur des données réelles. Les départs en fin de carrière, "
                 "l'emploi et les créations nettes reposent sur les données publiées par la DARES.",
                 id=f"{PREFIX}-banner", className="obs-illustrative", role="note", hidden=True),
        dcc.Store(id=f"{PREFIX}-request", data={"profession": request.profession, "from": request.start,
                                                "to": request.end}),
        html.Div([
            dbc.Row([
                dbc.Col(ui.dropdown(f"{PREFIX}-family", "Famille professionnelle (FAP)", parts.family_options(data),
                                    request.family), xs=12, md=6),
                dbc.Col(ui.dropdown(f"{PREFIX}-territory", "Territoire",
                                    parts.territory_options(data, ui.territory_options(ui.store())),
                                    request.territory),
                        xs=12, md=4),
                dbc.Col(ui.dropdown(f"{PREFIX}-horizon", "Horizon",
                                    parts.horizon_options(request.base_year, request.end), request.end),
                        xs=12, md=2),
            ]),
            html.H2("Scénario", className="h6 mt-2"),
            dbc.Row(dbc.Col(ui.dropdown(f"{PREFIX}-population", "Population servie : scénario de l'Insee",
                                        [{"label": label, "value": value}
                                         for value, label in outlook_data.POPULATION_LABELS.items()],
                                        request.population), xs=12, md=6)),
            dbc.Row([_control(name, getattr(scenario, name),
                              parts.trend_hint(data, request.family) if name == "demand_growth" else None)
                     for name in PARAMETERS]),
            html.Button("Revenir au scénario central", id=f"{PREFIX}-reset", n_clicks=0,
                        className="btn btn-outline-secondary btn-sm"),
            html.P(id=f"{PREFIX}-warning", className="obs-source mt-2 mb-0", role="status"),
        ], className="obs-card obs-filters obs-outlook-controls"),
        html.Div([
            html.H2("Les familles du travail social à l'horizon choisi", className="h4"),
            html.P(id=f"{PREFIX}-ranking-caption", className="obs-summary", **{"aria-live": "polite"}),
            _table(f"{PREFIX}-ranking", list(parts.RANKING_COLUMNS)),
            html.P(parts.ranking_status(data), id=f"{PREFIX}-ranking-status", className="obs-source mt-2"),
        ], className="obs-card"),
        ui.copy_link(),
        html.Div([
            html.A("Exporter la projection (CSV)", id=f"{PREFIX}-export-csv", **export_link),
            html.A("Exporter la projection (XLSX)", id=f"{PREFIX}-export-xlsx", **export_link),
            html.A("Exporter la projection (JSON)", id=f"{PREFIX}-export-json", **export_link),
        ], className="mb-2"),
        html.Div(html.P(id=f"{PREFIX}-sentence", className="obs-summary fs-5 mb-0", **{"aria-live": "polite"}),
                 className="obs-card"),
        html.Div([
            ui.described_chart(dcc.Graph(id=f"{PREFIX}-flows", config=figures.GRAPH_CONFIG, style={"width": "100%"}),
                               f"{PREFIX}-sentence", f"{PREFIX}-table"),
            html.P(HIDDEN_NOTE, className="obs-source mt-1 mb-0"),
        ], className="obs-card"),
        html.Div([
            ui.described_chart(dcc.Graph(id=f"{PREFIX}-employment", config=figures.GRAPH_CONFIG,
                                         style={"width": "100%"}), f"{PREFIX}-employment-summary", f"{PREFIX}-table"),
            html.P(id=f"{PREFIX}-employment-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"),
                          _table(f"{PREFIX}-table", list(parts.DATA_COLUMNS.values()))], className="obs-data"),
            html.P(id=f"{PREFIX}-sources", className="obs-source mt-2"),
        ], className="obs-card"),
        html.Div([
            html.H2("Ce que l'emploi suit : la population servie", className="h4"),
            ui.described_chart(dcc.Graph(id=f"{PREFIX}-driver", config=figures.GRAPH_CONFIG, style={"width": "100%"}),
                               f"{PREFIX}-driver-summary", f"{PREFIX}-driver-table"),
            html.P(id=f"{PREFIX}-driver-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"), _table(f"{PREFIX}-driver-table", ["Année", "Valeur",
                                                                                              "Statut"])],
                         className="obs-data"),
            html.P(id=f"{PREFIX}-driver-source", className="obs-source mt-2"),
        ], className="obs-card"),
        html.Div([
            html.H2("Le modèle face au passé", className="h4"),
            html.Div(id=f"{PREFIX}-backtest"),
            html.H3("Familles du travail social", className="h6 mt-3"),
            _table(f"{PREFIX}-backtest-social", list(social[0]) if social else [], social),
            html.P(outlook.BACKTEST_METHOD, className="obs-source mt-2"),
        ], className="obs-card"),
        html.Div([
            html.H2("Hypothèses", className="h4"),
            _table(f"{PREFIX}-assumptions", ["Hypothèse", "Valeur", "Unité", "Plage", "Source", "Données"]),
        ], className="obs-card"),
    ])


@callback(
    Output(f"{PREFIX}-sentence", "children"), Output(f"{PREFIX}-flows", "figure"),
    Output(f"{PREFIX}-employment", "figure"), Output(f"{PREFIX}-employment-summary", "children"),
    Output(f"{PREFIX}-table", "data"), Output(f"{PREFIX}-sources", "children"),
    Output(f"{PREFIX}-backtest", "children"), Output(f"{PREFIX}-assumptions", "data"),
    Output(f"{PREFIX}-export-csv", "href"), Output(f"{PREFIX}-export-xlsx", "href"),
    Output(f"{PREFIX}-export-json", "href"), Output(f"{PREFIX}-banner", "hidden"),
    Output(f"{PREFIX}-demand_growth", "placeholder"), Output(f"{PREFIX}-demand_growth-hint", "children"),
    Output(f"{PREFIX}-warning", "children"),
    Output(f"{PREFIX}-ranking", "data"), Output(f"{PREFIX}-ranking-caption", "children"),
    Output("url", "search", allow_duplicate=True),
    Input(f"{PREFIX}-family", "value"), Input(f"{PREFIX}-territory", "value"), Input(f"{PREFIX}-horizon", "value"),
    Input(f"{PREFIX}-population", "value"), *[Input(f"{PREFIX}-{name}", "value") for name in PARAMETERS],
    State(f"{PREFIX}-request", "data"), prevent_initial_call="initial_duplicate")
def update(family, territory, horizon, population, *values_and_state):
    """Thin: the controls as the codec's query, `outlook_data.run`, then the page's view of the projection."""
    *values, given = values_and_state
    data = outlook_data.store(ui.store())
    values = dict(zip(PARAMETERS, values))
    given = dict(given or {}, to=horizon or (given or {}).get("to"))
    # a profession id from the link (aide_a_domicile) is kept while its family stays selected
    profession = given.get("profession") if family and outlook_data.resolve(
        given.get("profession") or "", data) == family else family
    args = parts.request_args(profession or "", territory, values, given)
    if population and population != "central":
        args["population_scenario"] = population
    request = urlstate.parse_outlook(args, data, strict=False)
    v = parts.view(outlook_data.run(request, data), data)
    backtest = [html.P(v.backtest_title, className="fw-semibold mb-1")]
    if v.backtest:
        backtest += [_table(f"{PREFIX}-backtest-family", list(v.backtest[0]), v.backtest),
                     html.P(v.verdict, className="obs-summary")]
    return (v.sentence, v.flows, v.employment, v.employment_summary, v.table, v.sources, backtest, v.assumptions,
            v.exports["csv"], v.exports["xlsx"], v.exports["json"], not v.illustrative,
            *parts.trend_hint(data, request.family), parts.ignored(values, request), v.ranking, v.ranking_caption,
            v.search)


@callback(*[Output(f"{PREFIX}-{name}", "value") for name in PARAMETERS], Output(f"{PREFIX}-population", "value"),
          Input(f"{PREFIX}-reset", "n_clicks"), prevent_initial_call=True)
def reset(clicks):
    """« Revenir au scénario central »: every control back to its default (demand growth: empty, the family's
    driver; Insee's central scenario)."""
    if not clicks or ctx.triggered_id != f"{PREFIX}-reset":
        return [no_update] * (len(PARAMETERS) + 1)
    return [*(parts.field_value(outlook.PARAMETERS[name].default) for name in PARAMETERS), "central"]


@callback(Output(f"{PREFIX}-driver", "figure"), Output(f"{PREFIX}-driver-summary", "children"),
          Output(f"{PREFIX}-driver-table", "data"), Output(f"{PREFIX}-driver-source", "children"),
          Input(f"{PREFIX}-family", "value"), Input(f"{PREFIX}-territory", "value"),
          Input(f"{PREFIX}-horizon", "value"), Input(f"{PREFIX}-population", "value"))
def driver(family, territory, horizon, population):
    """Thin: the family's demand driver for the territory, observed then projected (`observatory.demand`)."""
    return parts.driver_view(ui.store(), outlook_data.store(ui.store()), family, territory or "FR", horizon,
                             population if population in outlook_data.POPULATION_SCENARIOS else "central")
