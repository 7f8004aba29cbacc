"""Home: published key figures with their sources, and what changed since the last vintage in the store."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from observatory import views
from observatory.key_figures import KEY_FIGURES
from pages._components import ui

dash.register_page(__name__, path="/", name="Accueil", title="Observatoire des métiers du social", order=0)


REAL, FICTITIOUS = "Chiffre réel", "Chiffre fictif calibré"


def _tag(illustrative: bool) -> html.Div:
    """Each card says whether its figure is real (published) or fictitious (calibrated illustrative data)."""
    return html.Div(FICTITIOUS if illustrative else REAL, className="obs-kpi-tag badge "
                    + ("text-bg-warning" if illustrative else "text-bg-light border"))


def _card(figure) -> dbc.Col:
    return dbc.Col(html.Div([
        _tag(figure.illustrative),
        html.Div(figure.value, className="obs-kpi"),
        html.Div(figure.label, className="obs-kpi-label"),
        html.A(f"{figure.source}, {figure.year}", href=figure.url, className="obs-source", target="_blank",
               rel="noopener"),
    ], className="obs-card h-100"), xs=12, sm=6, lg=4, className="mb-3")


def _store_card(card: dict) -> dbc.Col:
    return dbc.Col(html.Div([
        _tag(card["illustrative"]),
        html.Div(card["value"], className="obs-kpi"),
        html.Div(card["label"], className="obs-kpi-label"),
        html.A(f"Calcul de l'observatoire : {card['source']}", href=card["url"] or "/methodologie",
               className="obs-source", target="_blank", rel="noopener"),
    ], className="obs-card h-100"), xs=12, sm=6, lg=4, className="mb-3")


def layout(**_query):
    changes = views.home.changes_since_last_vintage(ui.store())
    store_cards = views.home.store_key_figures(ui.store())
    return html.Div([
        html.H1("L'attractivité des métiers du social en chiffres", className="h2"),
        html.P(views.home.real_and_fictitious_sentence(ui.store()), id="home-real-fictitious",
               className="obs-illustrative", role="note"),
        html.P("Recrutements difficiles, rotation du personnel, postes vacants et formation : les chiffres publiés, "
               "rassemblés et comparables par métier, filière et territoire.", className="lead fs-6"),
        html.H2("Chiffres clés publiés", className="h4 mt-3"),
        dbc.Row([_card(f) for f in KEY_FIGURES] + [_store_card(c) for c in store_cards]),
        html.H2("Ce qui a changé depuis la période précédente", className="h4 mt-3"),
        html.P("Valeurs nationales de l'entrepôt : dernière période publiée comparée à la précédente de la même "
               "série. Les lignes dont le statut dit « données fictives » sont illustratives ; une rupture de série "
               "est signalée quand les deux périodes ne se comparent pas.", className="obs-source"),
        html.Div(dash_table.DataTable(id="home-changes", data=changes,
                                      columns=[{"name": c, "id": c} for c in (changes[0] if changes else {})],
                                      style_cell={"fontFamily": "Arial", "fontSize": 13, "textAlign": "left",
                                                  "whiteSpace": "normal"}, style_table={"overflowX": "auto"}),
                 className="obs-card"),
        html.H2("Explorer", className="h4 mt-3"),
        html.Ul([html.Li(dcc.Link(name, href=path)) for path, name in (
            ("/recrutement", "Recrutement : projets et difficultés (BMO)"),
            ("/ressources-humaines", "Ressources humaines : rotation, absentéisme, postes vacants"),
            ("/formation", "Formation : inscrits, entrants, diplômés"),
            ("/filieres", "Comparer les filières"), ("/territoires", "Cartes et profils de territoire"),
            ("/mon-etablissement", "Situer mon établissement parmi ses pairs"),
            ("/donnees", "Explorer les données"), ("/methodologie", "Méthodologie et sources"))]),
    ])
