"""Dashboard entry point: `python app.py` serves http://127.0.0.1:8050 (builds the store first if missing).

A multi-page Dash app (pages/): one page per user question, filters in the URL query string, every chart
with its source, its data table and a one-sentence summary. `server = app.server` for gunicorn.
"""
from __future__ import annotations

import argparse
import os

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from observatory import api
from observatory.store import get_engine, store_exists

NAV = [("/", "Accueil"), ("/recrutement", "Recrutement"), ("/ressources-humaines", "Ressources humaines"),
       ("/formation", "Formation"), ("/filieres", "Filières"), ("/territoires", "Territoires"),
       ("/mon-etablissement", "Mon établissement"), ("/donnees", "Données"), ("/methodologie", "Méthodologie")]


def ensure_store() -> None:
    """Build the store from the bundled files when it has never been built."""
    engine = get_engine()
    if not store_exists(engine):
        from etl.build import build

        print("Construction de l'entrepôt à partir des fichiers fournis…", flush=True)
        build(engine)


def create_app() -> dash.Dash:
    app = dash.Dash(__name__, use_pages=True, title="Observatoire des métiers du social",
                    suppress_callback_exceptions=True, update_title=None,
                    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])
    app.layout = html.Div([
        html.A("Aller au contenu", href="#contenu", className="skip-link"),
        dcc.Location(id="url", refresh=False),
        dbc.Navbar(dbc.Container([
            dbc.NavbarBrand("Observatoire des métiers du social", href="/"),
            dbc.NavbarToggler(id="nav-toggle"),
            dbc.Collapse(dbc.Nav([dbc.NavLink(name, href=path, active="exact") for path, name in NAV],
                                 navbar=True), id="nav-collapse", navbar=True),
        ], fluid=True), className="obs-navbar", dark=True, expand="xl"),
        html.Main(dash.page_container, id="contenu", className="obs-main", lang="fr"),
        html.Footer(html.P([
            "Sources publiques (France Travail, DARES, DREES, Insee) sous Licence Ouverte ; données ",
            html.Strong("fictives calibrées"), " pour les établissements (TDBMS) et les formations (Écoles), "
            "signalées comme telles. ", dcc.Link("Méthodologie", href="/methodologie"),
        ], className="obs-source text-center"), className="mb-3"),
    ], lang="fr")
    return app


@callback(Output("nav-collapse", "is_open"), Input("nav-toggle", "n_clicks"), prevent_initial_call=True)
def _toggle_menu(clicks: int | None) -> bool:
    return bool(clicks and clicks % 2)


@callback(Output("page-link", "children"), Input("url", "pathname"), Input("url", "search"), State("url", "href"))
def _page_link(pathname: str | None, search: str | None, href: str | None) -> str:
    """The shareable link of the current view (the filters live in the query string)."""
    origin = "/".join((href or "").split("/")[:3])
    return f"{origin}{pathname or '/'}{search or ''}"


def warm_caches() -> None:
    """Read the dimensions and the map geometry once at start-up, not in the first user's request."""
    from observatory import figures, queries, views

    queries.dimensions()
    for kind in ("profession", "territory"):
        views.labels(kind)
    views.esms_labels()
    for level in ("region", "departement"):
        figures.choropleth_figure(level, "")


ensure_store()
warm_caches()
app = create_app()
server = app.server
api.register(server)


@server.route("/modeles/<path:name>")
def template_file(name: str):
    """The own-figures templates (data/templates/), for download from « Mon établissement »."""
    from flask import send_from_directory

    from observatory.config import DATA_DIR

    return send_from_directory(DATA_DIR / "templates", name, as_attachment=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Observatoire des métiers du social")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    args = parser.parse_args()
    app.run(host=args.host, port=args.port, debug=False)
