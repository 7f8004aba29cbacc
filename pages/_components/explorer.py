"""Layout and callback of an indicator explorer page (recrutement, ressources humaines, formation).

The callback is thin: it turns the dropdowns into Filters, asks `views.explorer.explorer_view`, and writes the
figures, texts, tables and the URL query string (so the view can be shared and reopened).
"""
from __future__ import annotations

from dataclasses import replace

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update

from observatory import catalogue, queries, urlstate, views
from observatory.urlstate import Filters
from pages._components import ui


def layout(page: views.explorer.ExplorerPage, prefix: str, query: dict) -> html.Div:
    filters = views.explorer.resolve(ui.store(), page, urlstate.decode(query, page.default))
    categories = ([{"label": label, "value": code} for code, label in views.names.esms_labels(ui.store()).items()]
                  if page.compare == "categories" else None)
    return html.Div([
        ui.page_header(page.name, page.intro),
        ui.illustrative_banner(f"{prefix}-banner"),
        ui.filter_bar(prefix, page.indicators, filters, categories=categories, compare=True),
        ui.copy_link(),
        ui.export_buttons(prefix),
        html.Div(id=f"{prefix}-coverage", role="status", className="obs-illustrative", hidden=True),
        dbc.Row([dbc.Col(ui.chart_card(prefix, "trend", filters.indicator), lg=12),
                 dbc.Col(ui.chart_card(prefix, "compare", filters.indicator), lg=12)]),
    ])


def coverage_notice(page: views.explorer.ExplorerPage, prefix: str, view: views.explorer.View) -> list:
    """The sentence saying the chosen profession is not published by the source (and which one counts it),
    with a link to that profession's view: the choice stays in the dropdown and the URL."""
    if not view.coverage:
        return []
    children = [view.coverage]
    if view.counted_in:
        label = views.names.population_labels(ui.store(), view.filters.indicator).get(view.counted_in, view.counted_in)
        href = page.path + urlstate.encode(replace(view.filters, profession=view.counted_in), page.default)
        children += [" ", html.A(f"Afficher « {label} »", href=href, id=f"{prefix}-coverage-switch")]
    return children


def _filters(page: views.explorer.ExplorerPage, indicator, profession, territory, period, source, breakdown=None,
             compare=None) -> Filters:
    return Filters(indicator or page.default.indicator, profession=profession or page.default.profession,
                   territory=territory or "FR", period=period, source=source, breakdown=breakdown or None,
                   compare=tuple(c for c in urlstate.COMPARE if c in (compare or ())))


def _profession_options(page: views.explorer.ExplorerPage, prefix: str, f: Filters):
    """The profession list names the root for what the indicator covers; sent only when that can change."""
    if ctx.triggered_id not in (None, f"{prefix}-indicator") or not any(
            i in catalogue.POPULATION for i in page.indicators):
        return no_update
    return ui.profession_options(ui.store(), indicator_id=f.indicator)


def register(page: views.explorer.ExplorerPage, prefix: str) -> None:
    inputs = [Input(f"{prefix}-indicator", "value"), Input(f"{prefix}-profession", "value"),
              Input(f"{prefix}-territory", "value"), Input(f"{prefix}-period", "value"),
              Input(f"{prefix}-source", "value")]
    if page.compare == "categories":
        inputs.append(Input(f"{prefix}-breakdown", "value"))

    @callback(
        Output(f"{prefix}-trend", "figure"), Output(f"{prefix}-trend-summary", "children"),
        Output(f"{prefix}-trend-table", "data"), Output(f"{prefix}-compare", "figure"),
        Output(f"{prefix}-compare-summary", "children"), Output(f"{prefix}-compare-table", "data"),
        Output(f"{prefix}-period", "options"), Output(f"{prefix}-period", "value"),
        Output(f"{prefix}-source", "options"), Output(f"{prefix}-source", "value"),
        Output(f"{prefix}-profession", "value"), Output(f"{prefix}-profession", "options"),
        Output(f"{prefix}-banner", "hidden"), Output("url", "search"),
        Output(f"{prefix}-coverage", "children"), Output(f"{prefix}-coverage", "hidden"),
        Input(f"{prefix}-comparer", "value"), State("url", "search"), *inputs,
    )
    def update(compare, search, indicator, profession, territory, period, source, breakdown=None):
        """Thin: filters in, view out (with the filters as resolved, so the URL reopens this exact view)."""
        view = views.explorer.explorer_view(ui.store(), page, _filters(page, indicator, profession, territory,
                                                                       period, source, breakdown, compare))
        f = view.filters
        period_options = [{"label": str(p), "value": p} for p in reversed(view.periods)]
        source_options = [{"label": views.names.source_label(ui.store(), s), "value": s} for s in view.sources]
        return (view.trend, view.trend_summary, view.trend_table, view.compare, view.compare_summary,
                view.compare_table, period_options, f.period, source_options, f.source, f.profession,
                _profession_options(page, prefix, f),
                not view.illustrative, urlstate.keep_card(urlstate.encode(f, page.default), search),
                coverage_notice(page, prefix, view), not view.coverage)

    @callback(Output(f"{prefix}-trend-definition", "children"), Output(f"{prefix}-compare-definition", "children"),
              Input(f"{prefix}-indicator", "value"), prevent_initial_call=True)
    def definitions(indicator):
        """The definition line under both charts, with its link to « Méthodologie »."""
        indicator = indicator if indicator in page.indicators else page.default.indicator
        return ui.definition_children(indicator), ui.definition_children(indicator)

    @callback(Output(f"{prefix}-export-csv", "href"), Output(f"{prefix}-export-xlsx", "href"),
              Input(f"{prefix}-comparer", "value"), *inputs)
    def export(compare, indicator, profession, territory, period, source, breakdown=None):
        """The export links: the API with the selection of the rows behind the two charts (the compared
        territories' lines included)."""
        view = views.explorer.explorer_view(ui.store(), page, _filters(page, indicator, profession, territory,
                                                                       period, source, breakdown, compare))
        return ui.export_links(export_selection(view), page.path + urlstate.encode(view.filters, page.default))


def export_selection(view: views.explorer.View) -> queries.Selection:
    """The selection behind an explorer's charts: every row of both (the comparison's métiers over every year of
    the trend, too); the view's filters when the charts are empty."""
    return queries.Selection.covering(views.explorer.view_frame(view)) or urlstate.selection(ui.store(),
        replace(view.filters, period=None))  # the trend's every year
