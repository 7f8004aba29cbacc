"""Maps of régions and départements (DROM as insets) and a territory's profile against its région and France.

The map's geometry is sent once, with the page (or when the level changes); a filter change sends only
the values and hover texts (a Dash partial update), a few kilobytes.
"""
from __future__ import annotations

from dataclasses import replace

import dash
from dash import Input, Output, Patch, State, callback, ctx, dash_table, dcc, html

from observatory import benchmarks, catalogue, figures, queries, urlstate, views
from observatory.formatting import points, with_unit
from observatory.urlstate import Filters
from pages._components import ui

dash.register_page(__name__, path="/territoires", name="Territoires", title="Territoires – Observatoire", order=5)

PAGE = views.explorer.ExplorerPage(
    "/territoires", "Territoires", "",
    Filters(catalogue.PAGES["territoires"][0], profession="travail_social", level="departement"), "professions")
PROFILE_PROFESSIONS = ("travail_social", "ensemble")


def layout(**query):
    f = views.explorer.resolve(ui.store(), PAGE, urlstate.decode(query, PAGE.default))
    level_options = catalogue.level_options(("region", "departement"))
    return html.Div([
        ui.page_header("Territoires", "Cartes par région ou département (outre-mer en encarts), et profil d'un "
                       "territoire comparé à sa région et à la France."),
        ui.illustrative_banner("ter-banner"),
        html.Div([
            ui.dropdown("ter-indicator", "Indicateur", ui.indicator_options(PAGE.indicators), f.indicator),
            ui.dropdown("ter-level", "Niveau", level_options, f.level),
            ui.dropdown("ter-profession", "Filière, groupe ou métier", ui.profession_options(ui.store()), f.profession),
            ui.dropdown("ter-period", "Année", [], f.period),
        ], className="obs-card obs-filters"),
        ui.copy_link(),
        ui.export_buttons("ter"),
        html.Div([
            ui.described_chart(dcc.Graph(id="ter-map", figure=_shell(f.level, f), config=figures.GRAPH_CONFIG),
                               "ter-map-summary", "ter-map-table"),
            html.P(id="ter-map-summary", className="obs-summary", **{"aria-live": "polite"}),
            ui.definition_line("ter-map-definition", f.indicator),
            html.Details([html.Summary("Voir les données"),
                          dash_table.DataTable(id="ter-map-table", page_size=15, style_table={"overflowX": "auto"})],
                         className="obs-data"),
        ], className="obs-card"),
        html.Div([
            html.H2("Profil d'un territoire", className="h4"),
            ui.dropdown("ter-territory", "Territoire", ui.territory_options(ui.store()),
                        f.territory if f.territory != "FR" else "DEP-69"),
            # long indicator names wrap (a phone sees the figures beside them), the table scrolls in its box
            dash_table.DataTable(id="ter-profile", style_cell={"textAlign": "left", "fontFamily": "Arial",
                                                               "whiteSpace": "normal", "height": "auto",
                                                               "minWidth": "80px"},
                                 style_cell_conditional=[{"if": {"column_id": "Indicateur"}, "minWidth": "170px"}],
                                 style_table={"overflowX": "auto"}),
        ], className="obs-card"),
    ])


@callback(Output("ter-map-definition", "children"), Input("ter-indicator", "value"), prevent_initial_call=True)
def _definition(indicator):
    """The map's definition line, with its link to the indicator's section of « Méthodologie »."""
    return ui.definition_children(indicator if indicator in PAGE.indicators else PAGE.default.indicator)


def _shell(level: str, f: Filters) -> dict:
    return _full_map(level, map_update(f))


def _full_map(level: str, update_: dict) -> dict:
    """The map with its geometry (first render, new level): the shell, then the values and both overlays."""
    figure = figures.choropleth_figure(level, update_["title"])
    for trace, values in zip(figure["data"], [update_["trace"], *update_["overlays"]]):
        trace.update(values)
    return figure


def map_update(f: Filters) -> dict:
    """Values, hover texts, colours and title for the map (what a filter change sends)."""
    f = views.explorer.resolve(ui.store(), PAGE, f)
    entry = catalogue.get(f.indicator)
    frame = queries.observations(ui.store(), f.indicator, f.source, professions=[f.profession], period=f.period,
                                 territory_level=f.level) if f.source else queries.observations(ui.store(), "", "")
    if frame.empty and f.source and f.profession != "ensemble":  # e.g. TDBMS: all staff only
        f = replace(f, profession="ensemble")
        frame = queries.observations(ui.store(), f.indicator, f.source, professions=["ensemble"], period=f.period,
                                     territory_level=f.level)
    values = figures.map_values(frame, f.level, views.names.labels(ui.store(), "territory"), entry.unit, entry.decimals,
                                entry.direction == "lower_is_better")
    where = catalogue.TERRITORY_LEVELS["region" if f.level == "region" else "departement"].by
    who = views.names.population_labels(ui.store(), f.indicator).get(f.profession, f.profession)
    title = figures.chart_title(f.indicator, f.period, queries.source_row(ui.store(), f.source) if f.source else {},
                                f"{who}, {where}")
    return {"trace": values, "overlays": figures.map_overlays(values, f.level, frame), "title": title,
            "frame": frame, "filters": f}


@callback(Output("ter-map", "figure"), Output("ter-map-summary", "children"), Output("ter-map-table", "data"),
          Output("ter-period", "options"), Output("ter-period", "value"), Output("ter-profession", "value"),
          Output("ter-banner", "hidden"),
          Output("url", "search", allow_duplicate=True),
          Output("ter-export-csv", "href"), Output("ter-export-xlsx", "href"),
          Input("ter-indicator", "value"), Input("ter-level", "value"), Input("ter-profession", "value"),
          Input("ter-period", "value"), State("ter-territory", "value"), prevent_initial_call="initial_duplicate")
def update(indicator, level, profession, period, territory=None):
    """Thin: a new level rebuilds the map (new geometry); any other change patches values only. The export
    links ask the API for the map's selection (`export_selection`), so the file holds the map's rows exactly."""
    filters = Filters(indicator or PAGE.default.indicator, profession=profession or PAGE.default.profession,
                      level=level or PAGE.default.level, period=period)
    update_ = map_update(filters)
    f = update_["filters"]
    if ctx.triggered_id == "ter-level":
        figure = _full_map(f.level, update_)
    else:
        figure = Patch()
        for index, values in enumerate([update_["trace"], *update_["overlays"]]):
            for key, value in values.items():
                figure["data"][index][key] = value
        title = figures.wrap_title(update_["title"])
        figure["layout"]["title"]["text"] = title
        figure["layout"]["margin"]["t"] = figures.title_margin(title)
    frame = update_["frame"]
    entry = catalogue.get(f.indicator)
    known = frame.dropna(subset=["value"])
    names = views.names.labels(ui.store(), "territory")

    def extreme(row) -> str:
        """« 100,0 % (Ardennes, partiel) »: the value, where, and its quality when not a plain published one."""
        word = figures.STATUS_SHORT.get(row.status, "")
        return (f"{with_unit(row.value, entry.unit, entry.decimals)} "
                f"({names.get(row.territory_id, row.territory_id)}{', ' + word if word else ''})")

    summary = (f"{len(known)} territoires renseignés ; de {extreme(known.loc[known.value.idxmin()])} à "
               f"{extreme(known.loc[known.value.idxmax()])}." if len(known) else "Aucune valeur pour ces filtres.")
    periods = queries.periods_for(ui.store(), f.indicator, f.source) if f.source else ()
    table = views.names.table_rows(ui.store(), frame)
    return (figure, summary, table, [{"label": str(p), "value": p} for p in reversed(periods)], f.period,
            f.profession, not figures.is_illustrative(frame), _search(f, territory),
            *ui.export_links(export_selection(f), PAGE.path + urlstate.encode(f, PAGE.default)))


def _search(f: Filters, territory: str | None) -> str:
    """The page's query string: the map's filters and the profile's territory, so a shared link reopens both."""
    return urlstate.encode(replace(f, territory=territory or PAGE.default.territory), PAGE.default)


@callback(Output("url", "search", allow_duplicate=True), Input("ter-territory", "value"),
          State("ter-indicator", "value"), State("ter-level", "value"), State("ter-profession", "value"),
          State("ter-period", "value"), prevent_initial_call=True)
def profile_in_url(territory, indicator, level, profession, period):
    """A profile picked in the page goes into the URL too."""
    f = Filters(indicator or PAGE.default.indicator, profession=profession or PAGE.default.profession,
                level=level or PAGE.default.level, period=period)
    return _search(f, territory)


def profile_rows(territory_id: str) -> list[dict]:
    """The territory's key figures next to its parent's and France's."""
    names = views.names.labels(ui.store(), "territory")
    rows = []
    for indicator_id in catalogue.PAGES["territoires-profil"]:
        if (found := views.names.latest(ui.store(), indicator_id)) is None:
            continue
        series, period = found
        professions = views.names.population_labels(ui.store(), indicator_id)
        for profession_id in PROFILE_PROFESSIONS:
            position = benchmarks.territory_position(ui.store(), indicator_id, territory_id, period, series,
                                                     profession_id)
            if position.nation_value is None:
                continue
            rows.append(_profile_row(indicator_id, profession_id, period, position, names, professions)
                        | _provenance(series))
    return rows


def _provenance(series: str) -> dict:
    """Every figure of the profile says where it comes from, and whether it is illustrative."""
    row = queries.source_row(ui.store(), series)
    return {"Source": views.names.source_label(ui.store(), series),
            "Données": figures.ILLUSTRATIVE_LABEL if row.get("is_illustrative") else "publiées"}


def _profile_row(indicator_id, profession_id, period, position, names, professions) -> dict:
    entry = catalogue.get(indicator_id)
    territory_id = position.territory_id
    return {
            "Indicateur": f"{entry.label} – {professions.get(profession_id)} ({period})",
            names.get(territory_id, territory_id): with_unit(position.value, entry.unit, entry.decimals),
            "Territoire parent": (f"{names.get(position.parent_id, '')} : "
                                  f"{with_unit(position.parent_value, entry.unit, entry.decimals)}")
            if position.parent_id else "—",
            "France": with_unit(position.nation_value, entry.unit, entry.decimals),
            "Écart à la France": points(position.gap_to_nation, entry.unit, entry.decimals),
    }


@callback(Output("ter-profile", "data"), Output("ter-profile", "columns"), Input("ter-territory", "value"))
def profile(territory_id):
    rows = profile_rows(territory_id or "FR")
    return rows, [{"name": c, "id": c} for c in (rows[0] if rows else {})]


def export_selection(f: Filters) -> queries.Selection:
    """The selection `map_update` shows for resolved filters: every territory of the map's level."""
    return urlstate.selection(ui.store(), replace(f, territory="", breakdown=None))
