"""Layout and callback of an indicator explorer page (recrutement, ressources humaines, formation).

The callback is thin: it turns the dropdowns into Filters, asks `views.explorer.explorer_view`, and writes the
figures, texts, tables and the URL query string (so the view can be shared and reopened).
"""
from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update

from observatory import catalogue, queries, urlstate, views
from observatory.urlstate import Filters
from pages._components import ui

# What the explorer's callback writes, in the order `update` returns it ("{}": the page's prefix).
OUTPUTS = (("{}-trend", "figure"), ("{}-trend-summary", "children"), ("{}-trend-table", "data"),
           ("{}-compare", "figure"), ("{}-compare-summary", "children"), ("{}-compare-table", "data"),
           ("{}-period", "options"), ("{}-period", "value"), ("{}-source", "options"), ("{}-source", "value"),
           ("{}-profession", "value"), ("{}-profession", "options"), ("{}-banner", "hidden"), ("url", "search"),
           ("{}-coverage", "children"), ("{}-coverage", "hidden"), ("{}-export-csv", "href"),
           ("{}-export-xlsx", "href"))


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


def register_page(module: str, page_: views.explorer.ExplorerPage, prefix: str, order: int, below=None):
    """Register an explorer page (Dash's registry: path, name, title, menu order) and its callbacks; returns its
    layout, with `below(query)` under the explorer when the page has more (« Ressources humaines »: its card).
    Named as Dash's own: Dash imports only the files of pages/ whose text names `register_page`."""
    def layout_(**query):
        explorer = layout(page_, prefix, query)
        return html.Div([explorer, below(query)]) if below else explorer

    dash.register_page(module, path=page_.path, name=page_.name, order=order, layout=layout_,
                       title=f"{page_.name} – Observatoire des métiers du social")
    register(page_, prefix)
    return layout_


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

    @callback(*[Output(ident.format(prefix), prop) for ident, prop in OUTPUTS],
              Input(f"{prefix}-comparer", "value"), State("url", "search"), *inputs)
    def update(compare, search, indicator, profession, territory, period, source, breakdown=None):
        """Thin: filters in, view out (with the filters as resolved, so the URL reopens this exact view), and
        the export links: the API with the selection of the rows behind the two charts (the compared
        territories' lines included) — from the same view, never computed twice."""
        view = views.explorer.explorer_view(ui.store(), page, _filters(page, indicator, profession, territory,
                                                                       period, source, breakdown, compare))
        f = view.filters
        period_options = [{"label": str(p), "value": p} for p in reversed(view.periods)]
        source_options = [{"label": views.names.source_label(ui.store(), s), "value": s} for s in view.sources]
        return (view.trend, view.trend_summary, view.trend_table, view.compare, view.compare_summary,
                view.compare_table, period_options, f.period, source_options, f.source, f.profession,
                _profession_options(page, prefix, f),
                not view.illustrative, urlstate.keep_card(urlstate.encode(f, page.default), search),
                coverage_notice(page, prefix, view), not view.coverage,
                *ui.export_links(export_selection(view), page.path + urlstate.encode(f, page.default)))

    @callback(Output(f"{prefix}-trend-definition", "children"), Output(f"{prefix}-compare-definition", "children"),
              Input(f"{prefix}-indicator", "value"), prevent_initial_call=True)
    def definitions(indicator):
        """The definition line under both charts, with its link to « Méthodologie »."""
        indicator = indicator if indicator in page.indicators else page.default.indicator
        return ui.definition_children(indicator), ui.definition_children(indicator)


def export_selection(view: views.explorer.View) -> queries.Selection:
    """The selection behind an explorer's charts: every row of both (the comparison's métiers over every year of
    the trend, too); the view's filters when the charts are empty."""
    return queries.Selection.covering(views.explorer.view_frame(view)) or urlstate.selection(ui.store(),
        replace(view.filters, period=None))  # the trend's every year
