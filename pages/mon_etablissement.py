"""My establishment: upload one's own figures (TDBMS extract or the template) and see them against peers.

The file is read in memory and never stored unless the user asks (« Enregistrer dans mon espace privé »): then
it goes to the store's private tables (`etl.private`), never into published data, and the page gives a private
link, `/mon-etablissement#cle=<token>` — the only way back to those figures, and to delete them (« Supprimer mes
données »). The token sits in the URL's fragment, which browsers never send to the server (no access log, no
`Referer`, not in the page's shareable link). Nothing private is listed, and another visitor sees nothing of it.
"""
from __future__ import annotations

import base64
import binascii

import dash
import pandas as pd
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html
from dash.exceptions import PreventUpdate

from observatory import catalogue, figures, views
from observatory.benchmarks import MIN_PEERS
from observatory.formatting import number, with_unit
from pages._components import ui

dash.register_page(__name__, path="/mon-etablissement", name="Mon établissement",
                   title="Mon établissement – Observatoire", order=6)
INDICATORS = [{"label": catalogue.get(i).label, "value": i} for i in views.own_figures.OWN_INDICATORS]
KEY = "#cle="  # the private link's fragment


def layout(**_query):
    from etl.uploads import rules_sentence

    return html.Div([
        ui.page_header("Mon établissement parmi ses pairs",
                       "Déposez un extrait du tableau de bord de la performance (CSV) ou le modèle de "
                       "l'observatoire rempli (XLSX) : vos taux de rotation, d'absentéisme et de postes vacants sont "
                       "calculés selon les formules du TDBMS et situés parmi les établissements de même catégorie. "
                       "Le fichier n'est pas conservé, sauf si vous le demandez."),
        html.P(rules_sentence(views.own_figures.MAX_UPLOAD_BYTES), id="own-rules", className="obs-source"),
        html.Div([
            html.P(id="own-private-text", className="mb-2"),
            html.Button("Supprimer mes données", id="own-delete", className="btn btn-outline-danger", hidden=True),
            dcc.ConfirmDialog(id="own-confirm",
                              message="Supprimer définitivement de l'observatoire les données enregistrées sous ce "
                                      "lien privé ? Cette action ne peut pas être annulée."),
        ], id="own-private", role="status"),
        html.Div([
            html.A("Télécharger le modèle (XLSX)", href="/modeles/modele_tdbms_etablissement.xlsx", download=""),
            " · ",
            html.A("un exemple rempli", href="/modeles/exemple_mon_etablissement.xlsx", download=""),
        ], className="mb-2"),
        dcc.Upload(id="own-upload", max_size=views.own_figures.MAX_UPLOAD_BYTES, multiple=False,
                   children=html.Div(["Glissez votre fichier ici ou ", html.A("choisissez-le", href="#")]),
                   className="obs-card text-center", style={"borderStyle": "dashed"}),
        html.Div([
            html.Div(ui.dropdown("own-establishment", "Établissement du fichier", [], None), className="col-md-5"),
            html.Div(ui.dropdown("own-indicator", "Indicateur", INDICATORS, "turnover_rate"), className="col-md-4"),
            html.Div(ui.dropdown("own-year", "Année", [], None), className="col-md-3"),
        ], className="obs-card obs-filters row"),
        html.Div(id="own-messages", role="status"),
        html.Div([
            ui.described_chart(dcc.Graph(id="own-bands", config=figures.GRAPH_CONFIG), "own-summary", "own-table"),
            html.Div(id="own-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"), dash_table.DataTable(id="own-table", page_size=15)],
                         className="obs-data"),
        ], className="obs-card"),
        html.Div([
            html.Button("Enregistrer dans mon espace privé", id="own-save", className="btn btn-outline-primary"),
            html.Div(id="own-saved", className="mt-2", role="status"),
        ], className="mb-3"),
        dcc.Store(id="own-removed"),
    ])


def _decode(contents: str) -> bytes | None:
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, ValueError, binascii.Error):
        return None


def _token(fragment: str | None) -> str | None:
    """The token of a private link's fragment (`#cle=…`), None for any other fragment."""
    return fragment[len(KEY):] if fragment and fragment.startswith(KEY) else None


def _empty_figure():
    empty = figures.band_figure(pd.DataFrame(columns=["label", "q1", "median", "q3", "value"]),
                                "Votre établissement parmi ses pairs", "%")
    empty.update_layout(xaxis_visible=False, yaxis_visible=False, height=220)
    empty.add_annotation(text="Déposez un fichier pour voir vos indicateurs parmi ceux de vos pairs.",
                         showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return empty


def _show(view: views.own_figures.OwnFiguresView, finess: str, indicator_id: str, year: int):
    """Figure, sentences and table of one establishment and one year of a view: its département, région and
    France side by side (a file with several years shows one at a time: the rows of two years would share
    the chart's rows and sentences)."""
    entry = catalogue.get(indicator_id)
    mine = view.levels[(view.levels.finess == finess) & (view.levels.period == year)]
    rows = mine[mine.indicator_id == indicator_id]
    name = view.names.get(finess, finess)
    if rows.empty:
        return _empty_figure(), f"{entry.label} : pas de valeur pour « {name} » en {year} dans le fichier.", []
    bands = rows.assign(label=[place if enough else f"{place} ({n} pair{'s' if n > 1 else ''} : moins de "
                                                     f"{MIN_PEERS}, pas de médiane)"
                               for place, n, enough in zip(rows.place, rows.n, rows.n >= MIN_PEERS)],
                        key=rows.level)
    title = (f"{entry.label} ({entry.unit}) – « {figures.plotly_text(name)} », {year}, parmi les établissements de "
             f"même catégorie<br><sup>Pairs : {views.own_figures.peer_source_label(ui.store())}</sup>")
    figure = figures.band_figure(bands, title, entry.unit, entry.decimals, value_name="votre établissement",
                                 highlight=set(rows.level[rows.shown]))
    if views.own_figures.peers_are_illustrative(ui.store()):
        figures._mark_illustrative(figure, pd.DataFrame({"status": ["illustrative"]}))
    fmt = lambda v, e: with_unit(v, e.unit, e.decimals) if v is not None and v == v else "—"  # noqa: E731
    table = [{"Indicateur": catalogue.get(r.indicator_id).label, "Comparé au…": r.place,
              "Votre valeur": fmt(r.value, catalogue.get(r.indicator_id)), "Année": r.period,
              "Année des pairs": r.peer_period, "Pairs": r.n,
              "1er quartile": fmt(r.q1, catalogue.get(r.indicator_id)),
              "Médiane": fmt(r.median, catalogue.get(r.indicator_id)),
              "3e quartile": fmt(r.q3, catalogue.get(r.indicator_id)),
              "Rang centile": number(r.rank, 0) if r.rank is not None and r.rank == r.rank else "—",
              "Lecture": r.reading} for r in mine.itertuples()]
    sentences = views.own_figures.own_sentences(view, finess, indicator_id, year)
    return figure, [html.P(s, className="mb-1") for s in sentences], table


def _read_status(file_name: str | None, units: pd.DataFrame, count: int) -> str:
    """The status line after an upload: what was read (file, establishments, years), nothing kept yet."""
    years = sorted({int(p) for p in units.period})
    name = file_name or "fichier"
    if not years:
        return f"Fichier « {name} » : aucune ligne n'a pu être retenue (voir les messages ci-dessus)."
    listed = ", ".join(map(str, years[:-1])) + f" et {years[-1]}" if len(years) > 1 else str(years[0])
    return (f"Fichier « {name} » lu : {count} établissement{'s' if count > 1 else ''}, "
            f"année{'s' if len(years) > 1 else ''} {listed}. Rien n'est conservé tant que vous ne cliquez pas sur "
            "« Enregistrer dans mon espace privé ».")


@callback(Output("own-bands", "figure"), Output("own-summary", "children"), Output("own-table", "data"),
          Output("own-messages", "children"), Output("own-private-text", "children"),
          Output("own-delete", "hidden"), Output("own-establishment", "options"),
          Output("own-establishment", "value"), Output("own-year", "options"), Output("own-year", "value"),
          Output("own-saved", "children", allow_duplicate=True),
          Input("own-upload", "contents"), Input("own-establishment", "value"), Input("own-indicator", "value"),
          Input("own-year", "value"), Input("url", "hash"), Input("own-removed", "data"),
          State("own-upload", "filename"), prevent_initial_call="initial_duplicate")
def compare(contents, finess, indicator_id, year, fragment, removed, file_name):
    """Thin: the upload just read (never stored), or the figures saved under the private link, against peers
    in the département, the région and France, one year at a time (the latest by default)."""
    from etl.uploads import preview, read_private

    indicator_id = indicator_id or "turnover_rate"
    token = _token(fragment)
    if ctx.triggered_id == "url" and fragment and token is None:
        raise PreventUpdate  # another fragment (the skip link): nothing changed here
    nothing = (_empty_figure(), "", [], "")
    private_text, hide_delete = "", True
    uploaded = ctx.triggered_id == "own-upload" and bool(contents)
    if removed and removed.get("fragment") == fragment:
        private_text = ("Vos données ont été supprimées de l'observatoire : ce lien privé ne mène plus à rien."
                        if removed.get("ok") else
                        "Rien à supprimer : ce lien privé ne correspond à aucune donnée enregistrée.")
        token = None
    saved = read_private(ui.store().engine, token) if token else None
    if token and saved is None:
        private_text = ("Ce lien privé ne correspond à aucune donnée enregistrée : elles ont été supprimées, ou le "
                        "lien est incomplet.")
    elif saved is not None:
        private_text = (f"Vos données enregistrées (fichier « {saved.file_name} », le "
                        f"{saved.created_at:%d/%m/%Y}). Ce lien privé est le seul moyen d'y revenir et de les "
                        "supprimer : gardez-le, ne le partagez qu'avec qui peut les voir.")
        hide_delete = False
    use_upload = contents and (ctx.triggered_id in ("own-upload", "own-establishment", "own-indicator", "own-year")
                               or saved is None)
    if use_upload:
        content = _decode(contents)
        if content is None:
            return (*nothing[:3], html.Ul([html.Li("Fichier illisible : le dépôt n'a pas abouti.")],
                                          className="obs-card"), private_text, hide_delete, [], None, [], None,
                    f"Fichier « {file_name or 'fichier'} » illisible : le dépôt n'a pas abouti.")
        read = preview(content, file_name or "fichier.csv", ui.store().engine,
                       max_bytes=views.own_figures.MAX_UPLOAD_BYTES)
        units, establishments, messages = read.units, read.establishments, read.messages
    elif saved is not None:
        units, establishments, messages = saved.units, saved.establishments, []
    else:
        return *nothing, private_text, hide_delete, [], None, [], None, dash.no_update
    present = set(units.finess)
    codes = [code for code in dict.fromkeys(establishments.finess) if code in present]
    if finess not in present or ctx.triggered_id == "own-upload":
        finess = codes[0] if codes else None
    # Only the establishment shown is compared with its peers: the cost stays that of one establishment's years.
    view = views.own_figures.own_figures_view(ui.store(), units[units.finess == finess], establishments,
                                              "departement", messages)
    names = {code: view.names.get(code, code) for code in codes}
    options = [{"label": f"{name} ({code})" if name != code else code, "value": code} for code, name in names.items()]
    years = views.own_figures.own_years(view, finess) if finess else []
    if year not in years or ctx.triggered_id in ("own-upload", "own-establishment"):
        year = years[-1] if years else None  # the latest year of the file by default
    messages = html.Ul([html.Li(m) for m in view.messages], className="obs-card") if view.messages else ""
    figure, summary, table = _show(view, finess, indicator_id, year) if finess and year else nothing[:3]
    status = _read_status(file_name, units, len(codes)) if uploaded else dash.no_update
    return (figure, summary, table, messages, private_text, hide_delete, options, finess,
            [{"label": str(y), "value": y} for y in reversed(years)], year, status)


@callback(Output("own-saved", "children"), Output("url", "hash", allow_duplicate=True),
          Output("own-upload", "contents"),
          Input("own-save", "n_clicks"), State("own-upload", "contents"), State("own-upload", "filename"),
          State("url", "href"), prevent_initial_call=True)
def save(_clicks, contents, file_name, href):
    """Only on request: save the upload in the private namespace and hand out its private link."""
    from flask import request

    from etl.uploads import LoadError, french_problem, french_rate_limits, may_save, private_link, save_private

    if not contents:
        return "Déposez d'abord un fichier.", dash.no_update, dash.no_update
    if not may_save(request.remote_addr or "?"):
        return (f"Non enregistré : trop d'enregistrements depuis votre connexion (au plus {french_rate_limits()}) ; "
                "réessayez plus tard.", dash.no_update, dash.no_update)
    content = _decode(contents)
    if content is None:
        return "Non enregistré : le dépôt du fichier n'a pas abouti.", dash.no_update, dash.no_update
    try:
        token, _upload_id = save_private(ui.store().engine, content, file_name or "fichier.csv",
                                         max_bytes=views.own_figures.MAX_UPLOAD_BYTES)
    except LoadError as error:
        return f"Non enregistré : {french_problem(error)}.", dash.no_update, dash.no_update
    link = private_link(token)
    origin = "/".join((href or "").split("/")[:3])
    message = html.Div([
        html.P(["Enregistré dans votre espace privé. Votre lien privé : ",
                html.A(origin + link, href=link, id="own-private-link")]),
        html.P("Gardez ce lien (dans vos favoris ou un gestionnaire de mots de passe) : c'est le seul moyen de "
               "revenir à ces données et de les supprimer (bouton « Supprimer mes données »). L'observatoire n'en "
               "garde qu'une empreinte et ne peut pas vous le renvoyer. Vos données ne sont ni publiées, ni "
               "mêlées aux chiffres des autres établissements, ni visibles des autres visiteurs."),
    ], className="obs-card")
    return message, KEY + token, None


@callback(Output("own-confirm", "displayed"), Input("own-delete", "n_clicks"), prevent_initial_call=True)
def confirm(_clicks):
    return True


@callback(Output("own-removed", "data"), Output("own-saved", "children", allow_duplicate=True),
          Input("own-confirm", "submit_n_clicks"), State("url", "hash"), prevent_initial_call=True)
def delete(_clicks, fragment):
    """Remove what the private link in the address holds (confirmed in the dialog); a store that cannot be
    written says so, and the data stays shown."""
    from etl.uploads import LoadError, french_store_problem, remove_private

    try:
        return {"fragment": fragment, "ok": remove_private(ui.store().engine, _token(fragment))}, ""
    except LoadError as error:
        reason = french_store_problem(error, "supprimé") or "l'entrepôt ne peut pas être écrit"
        return dash.no_update, html.P(f"Non supprimé : {reason}.", className="obs-card")
