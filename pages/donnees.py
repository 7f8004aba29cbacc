"""Data explorer: the observations behind the charts, with the current filters, as a table."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, ctx, dash_table, html

from observatory import catalogue, exports, figures, queries, urlstate, views
from observatory.formatting import number
from observatory.urlstate import Filters
from pages._components import ui

dash.register_page(__name__, path="/donnees", name="Données", title="Données – Observatoire", order=7)
DEFAULT = Filters("recruitment_projects", profession="travail_social", level="region")
LEVELS = [{"label": "France", "value": "nation"}, {"label": "Régions", "value": "region"},
          {"label": "Départements", "value": "departement"}, {"label": "Bassins d'emploi", "value": "bassin"}]
MAX_ROWS = 5000


def layout(**query):
    f = urlstate.decode(query, DEFAULT)
    indicators = tuple(i.indicator_id for i in catalogue.INDICATORS)
    return html.Div([
        ui.page_header("Explorer les données", "Les observations de l'entrepôt, telles que les graphiques les "
                       "utilisent : valeur, numérateur et dénominateur, statut et source."),
        ui.illustrative_banner("data-banner"),
        html.Div([
            ui.dropdown("data-indicator", "Indicateur", ui.indicator_options(indicators), f.indicator),
            ui.dropdown("data-profession", "Filière, groupe ou métier", ui.profession_options(), f.profession),
            html.Div([html.Label("Niveau territorial", htmlFor="data-level"),
                      dash.dcc.Dropdown(id="data-level", options=LEVELS, value=f.level, clearable=False)]),
            ui.dropdown("data-period", "Année", [], f.period, clearable=True),
            ui.dropdown("data-source", "Source", [], f.source),
        ], className="obs-card obs-filters"),
        ui.copy_link(),
        ui.export_buttons("data"),
        html.P(id="data-count", className="obs-summary", **{"aria-live": "polite"}),
        html.Div(dash_table.DataTable(id="data-table", page_size=25, sort_action="native", filter_action="native",
                                      style_table={"overflowX": "auto"},
                                      style_cell={"fontFamily": "Arial", "fontSize": 13, "textAlign": "left"}),
                 className="obs-card"),
    ])


def frame_for(f: Filters):
    """The observations the page shows for its filters (all of them; the screen shows the first MAX_ROWS)."""
    level = None if f.level == "nation" else f.level
    return queries.observations(f.indicator, f.source, professions=[f.profession], period=f.period,
                                territory_level=level, territories=["FR"] if f.level == "nation" else None)


def resolve(indicator, profession, level, period, source) -> Filters:
    indicator = indicator or DEFAULT.indicator
    sources = queries.sources_for(indicator)
    source = source if source in sources else (sources[0] if sources else None)
    periods = queries.periods_for(indicator, source) if source else ()
    return Filters(indicator, profession=profession or DEFAULT.profession, level=level or DEFAULT.level,
                   period=period if period in periods else None, source=source)


def rows(f: Filters) -> tuple[list[dict], int, bool]:
    """The table for the filters: rows (at most MAX_ROWS, said on screen), total count, illustrative flag."""
    if not f.source:
        return [], 0, False
    frame = frame_for(f)
    entry = catalogue.get(f.indicator)
    names = views.labels("territory")
    out = [{"Territoire": names.get(r.territory_id, r.territory_id), "Code": r.territory_id, "Année": int(r.period),
            "Valeur": number(r.value, entry.decimals), "Numérateur": number(r.numerator, 1),
            "Dénominateur": number(r.denominator, 1), "Unité": entry.unit,
            "Statut": figures.STATUS_LABELS.get(r.status, r.status) or "publié",
            "Calculé": "oui" if r.is_derived else "non", "Source": r.source_id,
            "Rupture de série": r.series_break or ""}
           for r in frame.head(MAX_ROWS).itertuples()]
    return out, len(frame), figures.is_illustrative(frame)


@callback(Output("data-table", "data"), Output("data-table", "columns"), Output("data-count", "children"),
          Output("data-period", "options"), Output("data-source", "options"), Output("data-source", "value"),
          Output("data-banner", "hidden"), Output("url", "search", allow_duplicate=True),
          Input("data-indicator", "value"), Input("data-profession", "value"), Input("data-level", "value"),
          Input("data-period", "value"), Input("data-source", "value"), prevent_initial_call="initial_duplicate")
def update(indicator, profession, level, period, source):
    f = resolve(indicator, profession, level, period, source)
    sources = queries.sources_for(f.indicator)
    periods = queries.periods_for(f.indicator, f.source) if f.source else ()
    data, total, illustrative = rows(f)
    shown = f"{total:,}".replace(",", "\u202f")
    count = f"{shown} observations" + (f" ; les {MAX_ROWS:,} premières affichées".replace(",", "\u202f")
                                       if total > MAX_ROWS else "") + "."
    columns = [{"name": c, "id": c} for c in (data[0] if data else {})]
    return (data, columns, count, [{"label": str(p), "value": p} for p in reversed(periods)],
            [{"label": views.source_label(s), "value": s} for s in sources], source, not illustrative,
            urlstate.encode(f, DEFAULT))


@callback(Output("data-download", "data"), Input("data-export-csv", "n_clicks"), Input("data-export-xlsx", "n_clicks"),
          State("data-indicator", "value"), State("data-profession", "value"), State("data-level", "value"),
          State("data-period", "value"), State("data-source", "value"), State("url", "href"), prevent_initial_call=True)
def export(_csv, _xlsx, indicator, profession, level, period, source, href):
    """Every row of the table (not only the first MAX_ROWS shown), with the same writers as the API."""
    f = resolve(indicator, profession, level, period, source)
    rows_ = exports.rows_from_frame(frame_for(f)) if f.source else []
    fmt = "xlsx" if ctx.triggered_id == "data-export-xlsx" else "csv"
    return ui.download(rows_, fmt, views.filters_dict(f), href or "", "observatoire-donnees")
