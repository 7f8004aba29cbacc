"""The page for an unknown address (Dash shows `pages/not_found_404.py` for any path no page has), in French."""
from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="Page introuvable", title="Page introuvable – Observatoire")


def layout(**_query):
    return html.Div([
        html.H1("Page introuvable"),
        html.P("Cette adresse ne correspond à aucune page de l'observatoire. Elle a peut-être été mal copiée."),
        html.Ul([html.Li(dcc.Link(name, href=path)) for path, name in (
            ("/", "Accueil"), ("/donnees", "Données : toutes les séries et leurs exports"),
            ("/methodologie", "Méthodologie : sources, définitions, ruptures de série"))]),
    ], className="obs-card")
