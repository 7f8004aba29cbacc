"""Methodology, generated from the indicator catalogue and the source table (never restated by hand)."""
from __future__ import annotations

import dash
from dash import dash_table, html

from observatory import catalogue, figures, outlook, queries, secrecy

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
    breaks = break_rows()
    return html.Div([
        html.H1("Méthodologie", className="h2"),
        html.P("Les chiffres réels viennent de fichiers publiés (liste des sources ci-dessous), lus par un "
               "adaptateur par format, validés (chaque ligne écartée l'est avec sa raison), puis agrégés selon les "
               "règles ci-dessous. Les sources marquées « données fictives » ne sont pas publiées : elles sont "
               "générées par l'observatoire (voir la dernière section) et signalées comme fictives partout."),
        html.H2("Indicateurs", className="h4"),
        html.Div(dash_table.DataTable(id="method-indicators", data=indicators,
                                      columns=[{"name": c, "id": c} for c in indicators[0]], **STYLE),
                 className="obs-card"),
        html.H2("Une définition par indicateur", className="h4"),
        html.P("Deux sources qui définissent un chiffre différemment ne partagent jamais un identifiant : "
               f"« {catalogue.get('turnover_rate').label} » ({catalogue.get('turnover_rate').sources}) et "
               f"« {catalogue.get('turnover_rate_all_contracts').label} » "
               f"({catalogue.get('turnover_rate_all_contracts').sources}) sont deux indicateurs distincts, qui ne se "
               "comparent pas entre eux.") if "turnover_rate_all_contracts" in catalogue.BY_ID else html.P(""),
        html.H2("Séries et ruptures de série", className="h4"),
        html.P("Chaque indicateur × métier × territoire forme une série à travers les millésimes d'une source "
               "(par exemple toutes les enquêtes BMO). Quand un chiffre ne se compare pas à la période précédente "
               "(code ou intitulé de métier modifié, métier ajouté ou retiré d'une famille, bassin d'emploi renommé "
               "ou redécoupé, changement de nomenclature), il porte une note de rupture : la courbe s'interrompt, "
               "une ligne verticale tiretée marque la rupture et la légende en donne la raison ; la note figure dans "
               "les tableaux « voir les données » et dans les exports (colonne series_break). Chaque chiffre est "
               "affiché sous l'intitulé de son propre millésime. Ruptures détectées au chargement :"),
        html.Div(dash_table.DataTable(id="method-breaks", data=breaks, page_size=20, filter_action="native",
                                      columns=[{"name": c, "id": c} for c in BREAK_COLUMNS], **STYLE),
                 className="obs-card"),
        html.H2("Secret statistique et statuts", className="h4"),
        html.P("Une cellule marquée « * » (BMO) ou « nd », « ns », « nc »… (DREES) est secrète : sa valeur est "
               "laissée vide, jamais mise à zéro. Un total qui omet des cellules secrètes est « partiel » : pour un "
               "effectif, c'est un minorant ; pour un taux, il est calculé sur les seules cellules connues."),
        html.P(secrecy.RULE_FR, id="method-secrecy"),
        html.Div(dash_table.DataTable(id="method-statuses", data=statuses,
                                      columns=[{"name": c, "id": c} for c in statuses[0]], **STYLE),
                 className="obs-card"),
        html.H2("Sources", className="h4"),
        html.Div(dash_table.DataTable(id="method-sources", data=source_rows,
                                      columns=[{"name": c, "id": c} for c in source_rows[0]], **STYLE),
                 className="obs-card"),
        html.H2("Perspectives : la projection des métiers", className="h4"),
        html.P(f"{outlook.METHOD} Paramètres de la page « Perspectives » et origine de leurs valeurs par défaut :"),
        html.Div(dash_table.DataTable(id="method-outlook", data=[
            {"Paramètre": p.name, "Libellé": p.label, "Unité": p.unit, "Plage": f"{p.low:g} – {p.high:g}",
             "Valeur par défaut et source": p.source} for p in outlook.PARAMETERS.values()],
            columns=[{"name": c, "id": c} for c in ("Paramètre", "Libellé", "Unité", "Plage",
                                                     "Valeur par défaut et source")], **STYLE),
            className="obs-card"),
        html.P(outlook.BACKTEST_METHOD, className="obs-source"),
        html.H2("Données fictives calibrées", className="h4"),
        html.P("Les données d'établissements (TDBMS) ne sont pas ouvertes et les tableaux de l'enquête Écoles ne "
               "sont pas fournis : le générateur de l'observatoire (etl/illustrative.py, graine fixe, commande "
               "« python -m etl illustrative ») écrit des fichiers dans ces mises en forme, calibrés pour que les "
               "totaux nationaux retrouvent les chiffres publiés (CNSA 2023 : rotation 24,4 %, postes vacants 4,5 % ; "
               "DREES 2023 : 57 300 inscrits, 20 676 diplômés). Ils sont signalés partout comme fictifs ; une "
               "cellule « nd » d'un fichier fictif est une valeur non renseignée (jamais un secret statistique), et "
               "un total qui en omet est marqué « fictif, incomplet »."),
    ])


BREAK_COLUMNS = ("Série", "Année", "Métier ou territoire", "Rupture")


def break_rows() -> list[dict]:
    """Every series break the store holds, named as users see them."""
    frame = queries.breaks()
    if frame.empty:
        return []
    dims = queries.dimensions()
    names = {**dict(zip(dims.territories.territory_id, dims.territories.name)),
             **dict(zip(dims.professions.profession_id, dims.professions.label))}
    titles = {s: queries.source_row(s).get("title", s) for s in frame.series.unique()}
    return [{"Série": titles.get(r.series, r.series), "Année": int(r.period),
             "Métier ou territoire": names.get(r.subject_id, r.subject_id), "Rupture": r.note}
            for r in frame.sort_values(["series", "period", "kind", "subject_id"]).itertuples(index=False)]
