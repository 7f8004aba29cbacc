"""Ressources humaines: an indicator explorer (see pages/_components/explorer.py), then the HR card: turnover,
absenteeism and vacancy of one ESMS category in one département beside its région and France, on one screen
(its own département and category, kept in the link by `urlstate`'s card keys)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from observatory import hrcard, queries, urlstate, views
from observatory.status import label as status_label
from pages._components import explorer, ui

PREFIX = "rh"


def _departements() -> list[dict]:
    territories = queries.dimensions(ui.store()).territories
    deps = territories[territories.level == "departement"].sort_values("code")
    return [{"label": f"{name} ({code})", "value": tid} for tid, code, name in zip(deps.territory_id, deps.code,
                                                                                   deps.name)]


def card_section(query: dict) -> html.Div:
    """The HR card's controls and body (filled by `show_card`); the link's choice, else the first of each list."""
    departements = _departements()
    categories = [{"label": label, "value": code} for code, label in views.names.esms_labels(ui.store()).items()]
    departement, category = urlstate.decode_card(query)
    departement = departement if departement in {o["value"] for o in departements} else (
        departements[0]["value"] if departements else None)
    category = category if category in {o["value"] for o in categories} else (
        categories[0]["value"] if categories else None)
    return html.Section([
        html.H2("Fiche RH : une catégorie d'établissement dans un département", className="h4"),
        html.P("Rotation, absentéisme et postes vacants côte à côte, face à la région et à la France.",
               className="mb-2"),
        dbc.Row([dbc.Col(ui.dropdown(f"{PREFIX}-card-departement", "Département", departements, departement), md=6),
                 dbc.Col(ui.dropdown(f"{PREFIX}-card-category", "Catégorie d'établissement", categories, category),
                         md=6)]),
        html.Div(id=f"{PREFIX}-card", role="region", **{"aria-live": "polite", "aria-label": "Fiche RH"}),
    ], className="obs-card", id=f"{PREFIX}-card-section")


layout = explorer.register_page(__name__, views.explorer.RESSOURCES_HUMAINES, PREFIX, order=2, below=card_section)


def _indicator_card(item: hrcard.CardIndicator) -> html.Div:
    """One indicator: its three figures, each with its status; the year and source once (they are shared)."""
    rows = [html.Tr([html.Th(f.place, scope="row"), html.Td(f.text, className="obs-card-value"),
                     html.Td(status_label(f.status or ""), className="small")],
                    **{"data-level": f.level}) for f in item.figures]
    source = views.names.source_label(ui.store(), item.source_id) if item.source_id else "aucune donnée dans l'entrepôt"
    return html.Div([
        html.H3(f"{item.label} ({item.unit})", className="h6"),
        html.P(f"{item.period if item.period else 'aucune année'} · Source : {source}"
               + (" · données fictives calibrées" if item.illustrative else ""), className="small mb-1"),
        html.Table(html.Tbody(rows), className="table table-sm mb-0"),
    ], id=f"{PREFIX}-card-{item.indicator_id}", className="obs-card h-100")


@callback(Output(f"{PREFIX}-card", "children"), Input(f"{PREFIX}-card-departement", "value"),
          Input(f"{PREFIX}-card-category", "value"))
def show_card(departement, category):
    """Thin: the card of the chosen département and category (three columns, stacked on a phone)."""
    if not departement or not category:
        return html.P("Choisissez un département et une catégorie d'établissement.")
    items = hrcard.hr_card(ui.store(), departement, category, views.names.labels(ui.store(), "territory"))
    banner = ui.illustrative_banner(f"{PREFIX}-card-banner", show=any(i.illustrative for i in items))
    places = ", ".join(f.place.split(" : ")[-1] for f in items[0].figures)
    title = html.P(f"« {views.names.esms_labels(ui.store()).get(category, category)} » : {places}.",
                   id=f"{PREFIX}-card-title", className="fw-bold mb-2")
    return [title, banner, dbc.Row([dbc.Col(_indicator_card(i), lg=4, xs=12, className="mb-2") for i in items])]


@callback(Output("url", "search", allow_duplicate=True), Input(f"{PREFIX}-card-departement", "value"),
          Input(f"{PREFIX}-card-category", "value"), State("url", "search"), prevent_initial_call=True)
def card_link(departement, category, search):
    """The card's choice in the page's link (the explorer's keys kept): reopening the link shows the same card."""
    return urlstate.with_card(search, departement, category)
