"""Dashboard entry point: `python app.py` serves http://127.0.0.1:8050 (builds the store first if missing).

The pages arrive with the dashboard issue; this placeholder shows what the store holds and where it
comes from, in French, so the run command already works end to end.
"""
from __future__ import annotations

import argparse
import os

from dash import Dash, dash_table, html
from sqlalchemy import text

from observatory.store import get_engine, store_exists


def ensure_store() -> None:
    """Build the store from the bundled files when it has never been built."""
    engine = get_engine()
    if not store_exists(engine):
        from etl.build import build

        print("Construction de l'entrepôt à partir des fichiers fournis…", flush=True)
        build(engine)


def sources_table() -> list[dict]:
    with get_engine().connect() as conn:
        rows = conn.execute(text(
            "SELECT s.producer, s.title, s.vintage, s.licence, COUNT(o.value) AS n "
            "FROM source s LEFT JOIN observation o ON o.source_key = s.key "
            "GROUP BY s.producer, s.title, s.vintage, s.licence ORDER BY s.producer, s.title")).mappings().all()
    return [{"Producteur": r["producer"], "Source": r["title"], "Millésime": r["vintage"],
             "Licence": r["licence"], "Valeurs": f"{r['n']:,}".replace(",", "\u202f")} for r in rows]


def create_app() -> Dash:
    app = Dash(__name__, title="Observatoire des métiers du social")
    app.layout = html.Main(lang="fr", children=[
        html.H1("Observatoire de l'attractivité des métiers du social"),
        html.P("Le tableau de bord arrive ; l'entrepôt de données est construit à partir des sources "
               "publiées suivantes."),
        dash_table.DataTable(id="sources", data=sources_table(), page_size=20),
    ])
    return app


ensure_store()
app = create_app()
server = app.server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Observatoire des métiers du social")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    args = parser.parse_args()
    app.run(host=args.host, port=args.port, debug=False)
