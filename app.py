"""Dashboard entry point: `python app.py` serves http://127.0.0.1:8050 (builds the store first if missing).

A multi-page Dash app (pages/): one page per user question, filters in the URL query string, every chart
with its source, its data table and a one-sentence summary. `server = app.server` for gunicorn
(`gunicorn -w 4 -b 127.0.0.1:8050 app:server`): importing this module only reads the store — building it is
`python -m etl build` (or `python app.py`), so N workers never race to build or write it.
"""
from __future__ import annotations

import argparse
import os

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from observatory import api, views
from observatory.store import get_engine, store_exists, store_ready


def nav() -> list[tuple[str, str]]:
    """(path, name) of every page in its registered order: the pages declare themselves, the nav follows."""
    pages = sorted((p for p in dash.page_registry.values() if p["path"] != "/404"),
                   key=lambda p: (p.get("order") if p.get("order") is not None else 99, p["path"]))
    return [(p["path"], p["name"]) for p in pages]


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
            dbc.Collapse(dbc.Nav([dbc.NavLink(name, href=path, active="exact") for path, name in nav()],
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


# The phone menu: the hamburger opens and closes it; a new page (a tapped link, back, forward) closes it. In the
# browser, so it closes at once, and the next tap on the hamburger opens it again (no click counting).
clientside_callback(
    """function (clicks, pathname, isOpen) {
        const fired = (dash_clientside.callback_context.triggered || []).map(t => t.prop_id);
        return fired.includes('nav-toggle.n_clicks') ? !isOpen : false;
    }""",
    Output("nav-collapse", "is_open"), Input("nav-toggle", "n_clicks"), Input("url", "pathname"),
    State("nav-collapse", "is_open"), prevent_initial_call=True)


@callback(Output("page-link", "children"), Input("url", "pathname"), Input("url", "search"), State("url", "href"))
def _page_link(pathname: str | None, search: str | None, href: str | None) -> str:
    """The shareable link of the current view (the filters live in the query string)."""
    origin = "/".join((href or "").split("/")[:3])
    return f"{origin}{pathname or '/'}{search or ''}"


def warm_caches() -> None:
    """Read the dimensions and the map geometry once at start-up, not in the first user's request (skipped
    when the store is not built yet: /health says so)."""
    from observatory import figures, queries

    if not store_ready():
        return
    queries.dimensions()
    for kind in ("profession", "territory"):
        views.labels(kind)
    views.esms_labels()
    for level in ("region", "departement"):
        figures.choropleth_figure(level, "")


warm_caches()
app = create_app()
server = app.server
# The upload is the only large request (base64 in a callback's JSON): refuse bigger bodies before reading them.
server.config["MAX_CONTENT_LENGTH"] = views.MAX_REQUEST_BYTES
api.register(server)
if int(os.environ.get("OBSERVATORY_TRUSTED_PROXIES", "0")):  # behind N reverse proxies: the client's own address
    from werkzeug.middleware.proxy_fix import ProxyFix  # (per-client save limits key on it)

    server.wsgi_app = ProxyFix(server.wsgi_app, x_for=int(os.environ["OBSERVATORY_TRUSTED_PROXIES"]))


@server.after_request
def _worker_header(response):
    """Which worker answered (operators and the multi-worker test read it)."""
    response.headers["X-Observatory-Worker"] = str(os.getpid())
    return response


@server.errorhandler(413)
def _too_large(_error):
    from flask import jsonify

    return jsonify(error=f"Requête trop volumineuse : un fichier déposé fait au plus "
                         f"{views.MAX_UPLOAD_BYTES / 1e6:g} Mo."), 413


@server.route("/health")
def health():
    """For load balancers and operators: is the store built, and which version does this worker serve."""
    from flask import jsonify

    from observatory import queries

    ready = store_ready()
    body = {"status": "ok" if ready else "store not built (run `python -m etl build`)",
            "store_version": queries.store_version() if ready else None,
            "backend": get_engine().dialect.name, "pid": os.getpid()}
    if ready:  # the private space's size and caps (etl/limits.py): its growth is bounded, and seen
        from etl.private import private_status

        body["private"] = private_status(get_engine())
    return jsonify(body), (200 if ready else 503)


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
    ensure_store()
    warm_caches()
    app.run(host=args.host, port=args.port, debug=False)
