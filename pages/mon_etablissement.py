"""My establishment: upload one's own figures (TDBMS extract or the template) and see them against peers.

The file is read in memory and never stored unless the user asks (« Enregistrer dans mon espace
privé »): then it is loaded as a private source, removable with `python -m etl unload`.
"""
from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import dash
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from observatory import figures, queries, ui, views
from observatory.formatting import number, with_unit

dash.register_page(__name__, path="/mon-etablissement", name="Mon établissement",
                   title="Mon établissement – Observatoire", order=6)
LEVELS = [{"label": "Département", "value": "departement"}, {"label": "Région", "value": "region"},
          {"label": "France", "value": "nation"}]


def layout(**_query):
    return html.Div([
        ui.page_header("Mon établissement parmi ses pairs",
                       "Déposez un extrait du tableau de bord de la performance (CSV) ou le modèle de "
                       "l'observatoire rempli (XLSX) : vos taux de rotation, d'absentéisme et de postes vacants sont "
                       "calculés selon les formules du TDBMS et situés parmi les établissements de même catégorie. "
                       "Le fichier n'est pas conservé, sauf si vous le demandez."),
        html.Div([
            html.A("Télécharger le modèle (XLSX)", href="/modeles/modele_tdbms_etablissement.xlsx", download=""),
            " · ",
            html.A("un exemple rempli", href="/modeles/exemple_mon_etablissement.xlsx", download=""),
        ], className="mb-2"),
        dcc.Upload(id="own-upload", max_size=views.MAX_UPLOAD_BYTES, multiple=False,
                   children=html.Div(["Glissez votre fichier ici ou ", html.A("choisissez-le", href="#")]),
                   className="obs-card text-center", style={"borderStyle": "dashed"}),
        html.Div(ui.dropdown("own-level", "Comparer aux établissements du même…", LEVELS, "departement"),
                 className="obs-card obs-filters"),
        html.Div(id="own-messages", role="status"),
        html.Div([
            dcc.Graph(id="own-bands", config=figures.GRAPH_CONFIG),
            html.P(id="own-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"), dash_table.DataTable(id="own-table", page_size=15)],
                         className="obs-data"),
        ], className="obs-card"),
        html.Div([
            html.Button("Enregistrer dans mon espace privé", id="own-save", className="btn btn-outline-primary"),
            html.Span(id="own-saved", className="ms-2"),
        ], className="mb-3"),
    ])


def _decode(contents: str) -> bytes:
    return base64.b64decode(contents.split(",", 1)[1])


@callback(Output("own-bands", "figure"), Output("own-summary", "children"), Output("own-table", "data"),
          Output("own-messages", "children"),
          Input("own-upload", "contents"), Input("own-level", "value"), State("own-upload", "filename"))
def compare(contents, level, file_name):
    """Thin: read the upload, ask the view, show it."""
    if not contents:
        empty = figures.band_figure(pd.DataFrame(columns=["label", "q1", "median", "q3", "value"]),
                                    "Vos indicateurs parmi vos pairs", "%")
        empty.update_layout(xaxis_visible=False, yaxis_visible=False, height=220)
        empty.add_annotation(text="Déposez un fichier pour voir vos indicateurs parmi ceux de vos pairs.",
                             showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
        return empty, "", [], ""
    view = views.own_figures_view(_decode(contents), file_name or "fichier.csv", level or "departement")
    bands = view.bands
    scope = {o["value"]: o["label"] for o in LEVELS}[level or "departement"]
    title = (f"Vos indicateurs parmi les établissements de même catégorie ({scope})"
             f"<br><sup>Pairs : {views.peer_source_label()}</sup>")
    figure = figures.band_figure(bands, title, "%")
    if len(bands) and views.peers_are_illustrative():
        figures._mark_illustrative(figure, pd.DataFrame({"status": ["illustrative"]}))
    summary = " ".join(
        f"{row.label} : {with_unit(row.value, '%', 1)}, médiane des pairs {with_unit(row.median, '%', 1)} "
        f"({row.n} établissements, rang centile {number(row.rank, 0)})." for row in bands.itertuples()
        if row.median is not None and row.rank is not None)
    table = [{"Établissement et indicateur": r.label, "Année": r.period, "Année des pairs": r.peer_period,
              "Votre valeur": with_unit(r.value, "%", 1), "Pairs": r.n, "1er quartile": with_unit(r.q1, "%", 1),
              "Médiane": with_unit(r.median, "%", 1), "3e quartile": with_unit(r.q3, "%", 1),
              "Rang centile": number(r.rank, 0)} for r in bands.itertuples()]
    messages = html.Ul([html.Li(m) for m in view.messages], className="obs-card")
    return figure, summary, table, messages


@callback(Output("own-saved", "children"), Input("own-save", "n_clicks"), State("own-upload", "contents"),
          State("own-upload", "filename"), prevent_initial_call=True)
def save(_clicks, contents, file_name):
    """Only on request: load the file as a private source (removable with `python -m etl unload`)."""
    from etl.errors import LoadError
    from etl.loader import load_file

    if not contents:
        return "Déposez d'abord un fichier."
    content = _decode(contents)
    if len(content) > views.MAX_UPLOAD_BYTES:
        return "Fichier trop volumineux."
    suffix = Path(file_name or "x.csv").suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(file_name or "fichier").stem[:60] + suffix)
        path.write_bytes(content)
        try:
            summary = load_file(queries.get_engine(), path, "tdbms", scope="private")
        except LoadError as error:
            return f"Non enregistré : {error.problem}"
    queries.clear_caches()
    return (f"Enregistré dans l'espace privé (chargement n° {summary.load_id}) ; pour le retirer : "
            f"python -m etl unload {summary.load_id}")
