"""Methodology, generated from the indicator catalogue and the source table (never restated by hand)."""
from __future__ import annotations

import dash
from dash import dash_table, html

from observatory import catalogue, figures, queries

dash.register_page(__name__, path="/methodologie", name="Méthodologie", title="Méthodologie – Observatoire", order=8)

AGGREGATION = {"sum": "somme des territoires et métiers inclus",
               "ratio": "rapport des sommes (numérateurs et dénominateurs), jamais moyenne de taux",
               "none": "non agrégé : publié seulement au niveau de la source"}
DIRECTION = {"higher_is_better": "plus haut = mieux", "lower_is_better": "plus bas = mieux", "neutral": "neutre"}
STYLE = {"style_cell": {"fontFamily": "Arial", "fontSize": 13, "textAlign": "left", "whiteSpace": "normal",
                        "height": "auto", "minWidth": "120px"}, "style_table": {"overflowX": "auto"}}


def layout(**_query):
    indicators = [{"Indicateur": i.label, "Identifiant": i.indicator_id, "Thème": i.theme, "Unité": i.unit,
                   "Définition": i.definition, "Formule": i.formula, "Agrégation": AGGREGATION[i.aggregation],
                   "Sens": DIRECTION[i.direction], "Sources": i.sources, "Précautions": i.caveats or ""}
                  for i in catalogue.INDICATORS]
    sources = queries.dimensions().sources
    source_rows = [{"Producteur": r.producer, "Titre": r.title, "Millésime": r.vintage or "",
                    "Licence": r.licence or "", "Données fictives": "oui" if r.is_illustrative else "non",
                    "Adresse": r.url or "", "Note": r.note or ""}
                   for r in sources[sources.scope == "published"].itertuples()]
    statuses = [{"Statut": label or "publié", "Code": code} for code, label in figures.STATUS_LABELS.items()]
    return html.Div([
        html.H1("Méthodologie", className="h2"),
        html.P("Tout ce que l'observatoire affiche vient de fichiers publiés, lus par un adaptateur par format, "
               "validés (chaque ligne écartée l'est avec sa raison), puis agrégés selon les règles ci-dessous."),
        html.H2("Indicateurs", className="h4"),
        html.Div(dash_table.DataTable(id="method-indicators", data=indicators,
                                      columns=[{"name": c, "id": c} for c in indicators[0]], **STYLE),
                 className="obs-card"),
        html.H2("Deux définitions du taux de rotation", className="h4"),
        html.P(catalogue.get("turnover_rate").caveats),
        html.H2("Secret statistique et statuts", className="h4"),
        html.P("Une cellule marquée « * » (BMO) ou « nd », « ns », « nc »… (DREES) est secrète : sa valeur est "
               "laissée vide, jamais mise à zéro. Un total qui omet des cellules secrètes est « partiel » : pour un "
               "effectif, c'est un minorant ; pour un taux, il est calculé sur les seules cellules connues."),
        html.Div(dash_table.DataTable(id="method-statuses", data=statuses,
                                      columns=[{"name": c, "id": c} for c in statuses[0]], **STYLE),
                 className="obs-card"),
        html.H2("Sources", className="h4"),
        html.Div(dash_table.DataTable(id="method-sources", data=source_rows,
                                      columns=[{"name": c, "id": c} for c in source_rows[0]], **STYLE),
                 className="obs-card"),
        html.H2("Données fictives calibrées", className="h4"),
        html.P("Les données d'établissements (TDBMS) ne sont pas ouvertes et les tableaux de l'enquête Écoles ne "
               "sont pas fournis : l'observatoire génère des fichiers dans ces mises en forme, calibrés pour que les "
               "totaux nationaux retrouvent les chiffres publiés (CNSA 2023 : rotation 24,4 %, postes vacants 4,5 % ; "
               "DREES 2023 : 57 300 inscrits, 20 676 diplômés). Ils sont signalés partout comme fictifs."),
    ])
