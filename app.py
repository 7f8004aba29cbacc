"""Dashboard entry point: `python app.py` serves http://127.0.0.1:8050 (builds the store first if missing).

A multi-page Dash app (pages/): one page per user question, filters in the URL query string, every chart
with its source, its data table and a one-sentence summary. `server = app.server` for gunicorn
(`gunicorn -w 4 -b 127.0.0.1:8050 app:server`): importing this module only reads the store — building it is
`python -m etl build` (or `python app.py`), so N workers never race to build or write it.

The app is an entry point: it makes the one `Store` every page, callback and API route reads (`STORE`, from
`OBSERVATORY_DB` or the bundled file; `OBSERVATORY_CACHE_MB` bounds its cache, per worker) and hands it down
(`api.register`, `pages._components.ui.store`).
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import time
from functools import lru_cache

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from observatory import api, figures, queries, views
from observatory.cache import DEFAULT_BUDGET_BYTES
from observatory.config import database_url
from observatory.store import Store, store_exists
from pages._components import ui, wiring

LOG_MAX_CHARS = 2000  # a log line quotes at most this much (a forged 1 MB value never fills the log)


def _bounded_log_records() -> None:
    """Every log record (ours, Flask's, gunicorn's) cut to `LOG_MAX_CHARS`, its traceback too."""
    make = logging.getLogRecordFactory()

    def bounded(*args, **kwargs):
        record = make(*args, **kwargs)
        message = record.getMessage()
        if len(message) > LOG_MAX_CHARS:
            record.msg, record.args = message[:LOG_MAX_CHARS] + f"… [{len(message)} caractères]", ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = text if len(text) <= LOG_MAX_CHARS else text[-LOG_MAX_CHARS:]
        return record

    if not getattr(make, "bounded", False):
        bounded.bounded = True
        logging.setLogRecordFactory(bounded)


_bounded_log_records()
CACHE_BYTES = int(float(os.environ.get("OBSERVATORY_CACHE_MB") or DEFAULT_BUDGET_BYTES / 2**20) * 2**20)
STORE = Store(database_url(), cache_bytes=CACHE_BYTES)  # the one store of this process (see the docstring)


class PublicDash(dash.Dash):
    """Dash that tells visitors nothing about the software behind it when debug is off: no Dash, Plotly or
    Python version in the page's config, the scripts' file names or the favicon's query string, and a
    `twitter:url` built from `OBSERVATORY_PUBLIC_URL` (never from the request's `Host` header)."""

    _FINGERPRINT = re.compile(r"\.v[\w-]+m([0-9a-fA-F]+)\.")

    def _config(self):
        config = super()._config()
        if "validation_layout" in config:  # the ids and types suffice to validate: not every page's figures
            config["validation_layout"] = self._validation_skeleton()
        if not self._dev_tools.ui:
            for key in ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url"):
                config.pop(key, None)
            config["disable_version_check"] = True
        return config

    def _validation_skeleton(self) -> dict:
        """`wiring.id_skeleton` of the validation layout, computed once (Dash builds that layout once)."""
        cached = getattr(self, "_skeleton", None)
        if cached is None or cached[0] is not self.validation_layout:
            self._skeleton = cached = (self.validation_layout, wiring.id_skeleton(self.validation_layout))
        return cached[1]

    def interpolate_index(self, **kwargs):
        from flask import request

        page = super().interpolate_index(**kwargs)
        if not self._dev_tools.ui:  # `.v4_4_1m123.` → `.v0m<hash>.`: still cache-busting, no version
            page = self._FINGERPRINT.sub(lambda m: f".v0m{_opaque(m.group(0))}.", page)
            page = re.sub(r"(_favicon\.ico)\?v=[^\"]*", r"\1", page)
        return re.sub(r'(<meta property="twitter:url" content=")[^"]*', lambda m: m.group(1) + _escape_attr(
            api.public_url(request.path)), page)

    def enable_pages(self) -> None:
        """Dash's pages router, deferred until the store is built. With `suppress_callback_exceptions` off,
        the router's first run builds the validation layout (the shell and every page's layout, so callbacks
        of pages not on screen still validate): that reads the store, which a worker on a missing store must
        neither read nor create (/health answers 503 meanwhile; pages and callbacks are refused anyway)."""
        super().enable_pages()
        hooks = self.server.before_request_funcs.setdefault(None, [])
        (index, router), = ((i, f) for i, f in enumerate(hooks) if f.__name__ in ("router_sync", "router_async"))
        run = self.server.ensure_sync(router)

        def router_once_the_store_is_ready():
            if self._got_first_request["pages"] or STORE.ready():
                return run()
            return None

        hooks[index] = router_once_the_store_is_ready


def _opaque(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _escape_attr(text: str) -> str:
    import html as html_text

    return html_text.escape(text, quote=True)


def nav() -> list[tuple[str, str]]:
    """(path, name) of every page in its registered order: the pages declare themselves, the nav follows."""
    pages = sorted((p for p in dash.page_registry.values() if p["path"] != "/404"),
                   key=lambda p: (p.get("order") if p.get("order") is not None else 99, p["path"]))
    return [(p["path"], p["name"]) for p in pages]


def ensure_store() -> bool:
    """Build the store from the bundled files when it has never been built (True when it was, now)."""
    engine = STORE.engine
    if store_exists(engine):
        return False
    from etl.uploads import build_store

    print("Construction de l'entrepôt à partir des fichiers fournis…", flush=True)
    build_store(engine)
    return True


def create_app() -> dash.Dash:
    # use_async=False: no callback is async, and Dash's async page router ran every request (the API's too) through
    # a new thread and event loop (asgiref): several ms on a 20 ms query.
    app = PublicDash(__name__, use_pages=True, use_async=False, title="Observatoire des métiers du social",
                    suppress_callback_exceptions=False, update_title=None, on_error=ui.refuse_bad_input,
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
        html.Main(dash.page_container, id="contenu", className="obs-main", lang="fr", tabIndex="-1"),
        html.Footer(html.P([
            "Sources publiques (France Travail, DARES, DREES, Insee) sous Licence Ouverte ; données ",
            html.Strong("fictives calibrées"), " pour les établissements (TDBMS) et les formations (Écoles), "
            "signalées comme telles. ", dcc.Link("Méthodologie", href="/methodologie"), " · ",
            dcc.Link("Accessibilité", href="/accessibilite"),
        ], className="obs-source text-center"), className="mb-3"),
    ], lang="fr")
    # RGAA / WCAG 3.1.1: the document's language, so that screen readers read the French with a French voice
    app.index_string = app.index_string.replace("<html>", '<html lang="fr">', 1)
    # Dash's index puts its scripts in a <footer>: a second, empty « contentinfo » landmark beside the page's own
    app.index_string = app.index_string.replace("<footer>", '<div class="dash-scripts">', 1).replace(
        "</footer>", "</div>", 1)
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


app = create_app()
server = app.server
# The upload is the only large request (base64 in a callback's JSON): refuse bigger bodies before reading them.
server.config["MAX_CONTENT_LENGTH"] = views.own_figures.MAX_REQUEST_BYTES
api.register(server, STORE)
if int(os.environ.get("OBSERVATORY_TRUSTED_PROXIES", "0")):  # behind N reverse proxies: the client's own address
    from werkzeug.middleware.proxy_fix import ProxyFix  # (per-client save limits key on it)

    server.wsgi_app = ProxyFix(server.wsgi_app, x_for=int(os.environ["OBSERVATORY_TRUSTED_PROXIES"]))


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    """Scripts from this origin only, plus Dash's own inline scripts by their SHA-256 (the renderer's start and
    the clientside callbacks); styles inline (Plotly and React set them); no framing, no plugins."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Referrer-Policy": "no-referrer", "Cross-Origin-Opener-Policy": "same-origin"}


# `OBSERVATORY_SERVER_TIMING=1` (bench/dashboard.py sets it): each response says, in a `Server-Timing` header,
# the process CPU time it took — a figure a loaded machine does not inflate as it does the wall-clock time.
SERVER_TIMING = os.environ.get("OBSERVATORY_SERVER_TIMING") == "1"


@server.before_request
def _cpu_started():
    if SERVER_TIMING:
        from flask import g

        g.cpu_started = time.process_time()


@server.after_request
def _worker_header(response):
    """Which worker answered (operators and the multi-worker test read it), and the security headers of every
    response: a CSP, no MIME sniffing, no framing, no `Referer`, and a `Server` that names no software."""
    response.headers["X-Observatory-Worker"] = str(os.getpid())
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["Server"] = "observatoire"
    if SERVER_TIMING:
        from flask import g

        if "cpu_started" in g:
            response.headers["Server-Timing"] = f"cpu;dur={1000 * (time.process_time() - g.cpu_started):.1f}"
    return response


UNAVAILABLE = ("L'observatoire est momentanément indisponible : son entrepôt de données est introuvable sur ce "
               "serveur (supprimé, déplacé ou pas encore construit). Aucun chiffre n'est servi tant qu'il n'est "
               "pas rétabli ; réessayez plus tard.")
# Served whatever the store: /health says why itself; scripts, styles, map outlines and the templates hold no figure.
NO_STORE_NEEDED = ("/health", "/assets/", figures.GEOMETRY_URL, "/_dash-component-suites/", "/_favicon.ico",
                   "/modeles/")
# Callbacks that write the store refuse, themselves, in the page, in French, a store they cannot write.
STORE_WRITERS = {("own-saved", "children"), ("own-removed", "data")}


def store_guard():
    """Before every request (one `stat`): a missing store answers 503 in French on pages, API and callbacks —
    never old figures from memory or a reopened empty file; a replaced one is reopened (`store_problem`)."""
    from flask import jsonify, request

    problem = STORE.problem()
    if problem is None or request.path.startswith(NO_STORE_NEEDED):
        return None
    if request.path == "/_dash-update-component":
        outputs = (request.get_json(silent=True) or {}).get("outputs")
        first = (outputs[0] if isinstance(outputs, list) and outputs else outputs) or {}
        if isinstance(first, dict) and (first.get("id"), first.get("property")) in STORE_WRITERS:
            return None
    if request.path.startswith(("/api/", "/_dash-")):
        return jsonify(error=UNAVAILABLE), 503, {"Retry-After": "60"}
    page = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Observatoire indisponible</title>'
            f'</head><body><main><h1>Observatoire des métiers du social</h1><p>{UNAVAILABLE}</p></main></body></html>')
    return page, 503, {"Content-Type": "text/html; charset=utf-8", "Retry-After": "60"}


server.before_request(store_guard)


@server.before_request
def _no_dev_routes():
    """`/_reload-hash` (it lists the installed packages) exists for hot reload only: 404 when debug is off."""
    from flask import abort, request

    if request.path.endswith("/_reload-hash") and not app._dev_tools.hot_reload:
        abort(404)


@server.errorhandler(dash.exceptions.DependencyException)
def _unknown_script(_error):
    """An unknown `/_dash-component-suites/…` path is not found (404), not a server error."""
    return "Ressource introuvable.", 404


@server.errorhandler(Exception)
def _no_traceback(error):
    """Whatever a request raises, the visitor gets a short French answer (a malformed callback request: 400),
    never a traceback; the log gets one bounded line."""
    from flask import jsonify, request
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):
        return error
    server.logger.error("%s %s : %s", request.method, request.path, error, exc_info=error)
    if request.path.endswith("/_dash-update-component"):
        return jsonify(error="Requête invalide : la page n'a pas pu être mise à jour."), 400
    return "Erreur interne : la page n'a pas pu être affichée.", 500


@server.errorhandler(413)
def _too_large(_error):
    from flask import jsonify

    return jsonify(error=f"Requête trop volumineuse : un fichier déposé fait au plus "
                         f"{views.own_figures.MAX_UPLOAD_BYTES / 1e6:g} Mo."), 413


@server.route("/health")
def health():
    """For load balancers and operators: is the store built, and which version does this worker serve."""
    from flask import jsonify

    ready = STORE.ready()
    body = {"status": "ok" if ready else STORE.problem() or "store not built (run `python -m etl build`)",
            "store_version": STORE.version() if ready else None,
            "backend": STORE.engine.dialect.name, "pid": os.getpid()}
    if ready:  # the private space's size and caps (etl/limits.py): its growth is bounded, and seen
        from etl.uploads import private_status

        body["private"] = private_status(STORE.engine)
    return jsonify(body), (200 if ready else 503)


@server.route(f"{figures.GEOMETRY_URL}<name>")
def map_geometry(name: str):
    """The maps' GeoJSON (régions, départements), fetched by the browser from the figure's `geojson` URL: its
    URL names its content, so it is cached for a year (pages and level changes never carry it)."""
    from flask import abort, send_file

    level = next((level for level, file in figures.GEOMETRY_FILES.items() if file == name), None)
    if level is None:
        abort(404)
    response = send_file(figures.geometry_path(level), mimetype="application/geo+json", max_age=365 * 86400)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@server.route("/modeles/<path:name>")
def template_file(name: str):
    """The own-figures templates (data/templates/), for download from « Mon établissement »."""
    from flask import send_from_directory

    from observatory.config import DATA_DIR

    return send_from_directory(DATA_DIR / "templates", name, as_attachment=True)


def warm_up() -> None:
    """At start, not in the first visitors' requests: the store's dimensions and labels, the map shells, Dash's
    first-request work (every page's layout, for the validation layout), the default view of each explorer page
    and of the map, and one API page (their queries' caches). Synchronous: a worker listens once warm (a few
    seconds), never a ready-looking cold one. Skipped when the store is not built (/health says so; the router
    waits for it, see `PublicDash.enable_pages`)."""
    from pages import territoires

    if not STORE.ready():
        return
    try:
        queries.dimensions(STORE)
        for kind in ("profession", "territory"):
            views.names.labels(STORE, kind)
        views.names.esms_labels(STORE)
        for level in ("region", "departement"):
            figures.choropleth_figure(level, "")
        with server.test_request_context("/"):
            server.preprocess_request()
            for page in (views.explorer.RECRUTEMENT, views.explorer.RESSOURCES_HUMAINES, views.explorer.FORMATION):
                views.explorer.explorer_view(STORE, page, views.explorer.resolve(STORE, page, page.default))
            territoires.map_update(territoires.PAGE.default)
        server.test_client().get("/api/v1/observations?page_size=1")  # the API's codec and row naming
    except Exception as error:  # a page this store cannot draw must not stop the worker: its own requests say why
        server.logger.warning("warm-up incomplete: %s", error)

warm_up()
# What start-up made (pages, the map geometry, the store's dimensions) lives as long as the process: frozen out of
# the garbage collector's full walks, which a request following a large export would otherwise pay for.
gc.freeze()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Observatoire des métiers du social")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    args = parser.parse_args()
    if ensure_store():  # built just now: what the import could not warm
        warm_up()
    app.run(host=args.host, port=args.port, debug=False)
