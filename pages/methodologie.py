"""Methodology, generated from the indicator catalogue and the source table (never restated by hand)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, clientside_callback, dash_table, dcc, html

from observatory import catalogue, figures, outlook, queries, secrecy
from observatory.status import label as status_label
from pages._components import ui

dash.register_page(__name__, path="/methodologie", name="Méthodologie", title="Méthodologie – Observatoire", order=8)

AGGREGATION = {"sum": "somme des territoires et métiers inclus",
               "ratio": "rapport des sommes (numérateurs et dénominateurs), jamais moyenne de taux",
               "none": "non agrégé : publié seulement au niveau de la source"}
DIRECTION = {"higher_is_better": "plus haut = mieux", "lower_is_better": "plus bas = mieux", "neutral": "neutre"}
STYLE = {"style_cell": {"fontFamily": "Arial", "fontSize": 13, "textAlign": "left", "whiteSpace": "normal",
                        "height": "auto", "minWidth": "120px"}, "style_table": {"overflowX": "auto"}}


THEME_TITLES = {"recrutement": "Recrutement", "ressources_humaines": "Ressources humaines", "tensions": "Tensions",
                "contexte": "Contexte de l'emploi", "formation": "Formation", "perspectives": "Perspectives"}
SECTIONS = (("definition-unique", "Une définition par indicateur"), ("ruptures", "Séries et ruptures de série"),
            ("secret-statistique", "Secret statistique"), ("sources", "Sources"),
            ("perspectives", "Perspectives : la projection des métiers"),
            ("donnees-fictives", "Données fictives calibrées"))
SCROLL = {"overflowX": "auto", "maxWidth": "100%"}
 # a wide table scrolls inside its own box, never the page


def themes() -> dict[str, list[catalogue.Indicator]]:
    """The catalogue's indicators grouped by theme, in the catalogue's order."""
    grouped: dict[str, list[catalogue.Indicator]] = {}
    for entry in catalogue.INDICATORS:
        grouped.setdefault(entry.theme, []).append(entry)
    return grouped


def toc() -> html.Nav:
    """The table of contents: one link per indicator (its stable anchor `#indicateur-<id>`), grouped by theme in
    columns that the width allows, then one link per section."""
    return html.Nav([
        html.H2("Sommaire", className="h5"),
        html.P(html.A("Indicateurs", href="#indicateurs"), className="mb-1 fw-bold"),
        html.Div([html.Div([
            html.A(THEME_TITLES.get(theme, theme), href=f"#theme-{theme}", className="fw-semibold"),
            html.Ul([html.Li(html.A(entry.label, href=f"#{entry.anchor}")) for entry in entries],
                    className="list-unstyled ms-2 mb-2 small"),
        ], style={"breakInside": "avoid"}) for theme, entries in themes().items()],
            style={"columnWidth": "15rem", "columnGap": "1.5rem"}),
        html.Ul([html.Li(html.A(title, href=f"#{anchor}"), className="list-inline-item")
                 for anchor, title in SECTIONS], className="list-inline mb-0 fw-bold"),
    ], id="method-toc", className="obs-card", **{"aria-label": "Sommaire de la méthodologie"})


def indicator_section(entry: catalogue.Indicator) -> html.Section:
    """One indicator: definition, formula in words and in symbols, aggregation, direction, sources, caveats."""
    rows = [("Identifiant", [html.Code(entry.indicator_id), f" · unité : {entry.unit} · {DIRECTION[entry.direction]}"]),
            ("Définition", entry.definition),
            ("Formule en mots", entry.formula_words), ("Formule en symboles", html.Code(entry.formula)),
            ("Agrégation", AGGREGATION[entry.aggregation]), ("Sources", entry.sources)]
    if entry.indicator_id in catalogue.POPULATION:
        rows.append(("Champ", catalogue.POPULATION[entry.indicator_id]))
    if entry.caveats:
        rows.append(("Précautions", entry.caveats))
    return html.Section([
        html.H4(entry.label, className="h6 fw-bold"),
        html.Dl([part for name, value in rows for part in (
            html.Dt(name, className="col-sm-4 col-xl-3"), html.Dd(value, className="col-sm-8 col-xl-9 mb-1"))],
            className="row mb-0 small"),
    ], id=entry.anchor, className="obs-card w-100", style={"scrollMarginTop": "1rem"})


def table(element_id: str, data: list[dict], columns, **extra) -> html.Div:
    return html.Div(dash_table.DataTable(id=element_id, data=data, columns=[ui.table_column(c) for c in columns],
                                         **STYLE, **extra), className="obs-card", style=SCROLL)


def layout(**_query):
    sources = queries.dimensions(ui.store()).sources
    source_rows = [{"Producteur": r.producer, "Titre": r.title, "Millésime": r.vintage or "",
                    "Licence": r.licence or "", "Données fictives": "oui" if r.is_illustrative else "non",
                    "Adresse": r.url or "", "Note": r.note or ""}
                   for r in sources[sources.scope == "published"].itertuples()]
    statuses = [{"Statut": status_label(code), "Code": code} for code in figures.STATUS_LABELS]
    breaks = break_rows()
    return html.Div([
        html.H1("Méthodologie", className="h2"),
        html.P("Les chiffres réels viennent de fichiers publiés (liste des sources ci-dessous), lus par un "
               "adaptateur par format, validés (chaque ligne écartée l'est avec sa raison), puis agrégés selon les "
               "règles ci-dessous. Les sources marquées « données fictives » ne sont pas publiées : elles sont "
               "générées par l'observatoire (voir la dernière section) et signalées comme fictives partout."),
        toc(),
        html.H2("Indicateurs", id="indicateurs", className="h4"),
        html.P("Chaque graphique renvoie ici par son lien « Définition et formule ». Un taux est toujours le rapport "
               "des sommes de ses numérateurs et dénominateurs, jamais la moyenne de taux."),
        *[part for theme, entries in themes().items() for part in (
            html.H3(THEME_TITLES.get(theme, theme), id=f"theme-{theme}", className="h5 mt-3"),
            dbc.Row([dbc.Col(indicator_section(entry), lg=6, className="d-flex") for entry in entries]))],
        html.H2("Une définition par indicateur", id="definition-unique", className="h4"),
        html.P("Deux sources qui définissent un chiffre différemment ne partagent jamais un identifiant : "
               f"« {catalogue.get('turnover_rate').label} » ({catalogue.get('turnover_rate').sources}) et "
               f"« {catalogue.get('turnover_rate_all_contracts').label} » "
               f"({catalogue.get('turnover_rate_all_contracts').sources}) sont deux indicateurs distincts, qui ne se "
               "comparent pas entre eux.") if "turnover_rate_all_contracts" in catalogue.BY_ID else html.P(""),
        html.H2("Séries et ruptures de série", id="ruptures", className="h4"),
        html.P("Chaque indicateur × métier × territoire forme une série à travers les millésimes d'une source "
               "(par exemple toutes les enquêtes BMO). Quand un chiffre ne se compare pas à la période précédente "
               "(code ou intitulé de métier modifié, métier ajouté ou retiré d'une famille, bassin d'emploi renommé "
               "ou redécoupé, changement de nomenclature), il porte une note de rupture : la courbe s'interrompt, "
               "une ligne verticale tiretée marque la rupture et la légende en donne la raison ; la note figure dans "
               "les tableaux « voir les données » et dans les exports (colonne series_break). Chaque chiffre est "
               "affiché sous l'intitulé de son propre millésime. Ruptures détectées au chargement :"),
        table("method-breaks", breaks, BREAK_COLUMNS, page_size=20, filter_action="native",
              filter_options={"placeholder_text": "Filtrer…", "case": "insensitive"}),
        html.H2("Secret statistique", id="secret-statistique", className="h4"),
        html.P("Une cellule marquée « * » (BMO) ou « nd », « ns », « nc »… (DREES) est secrète : sa valeur est "
               "laissée vide, jamais mise à zéro. Un total qui omet des cellules secrètes est « partiel » : pour un "
               "effectif, c'est un minorant ; pour un taux, il est calculé sur les seules cellules connues.",
               id="secret-statistique-regle"),
        html.P(secrecy.RULE_FR, id="method-secrecy"),
        html.H3("Statuts des chiffres", className="h5"),
        table("method-statuses", statuses, statuses[0]),
        html.P("« Non disponible » (DREES « ND ») : le département n'a pas transmis le chiffre ; ce n'est pas "
               "un secret statistique et jamais un zéro ; un total qui l'omet est « partiel ».", id="method-missing"),
        html.H2("Besoins et ressources : les rapports", id="rapports-besoins", className="h4"),
        html.P("Rapports de deux effectifs du même territoire et de la même année, calculés à la lecture (jamais "
               "stockés) ; pour une région ou la France, rapport des sommes."),
        table("method-need-ratios", [{"Rapport": r.label, "Définition": r.definition, "Unité": r.unit}
                                     for r in catalogue.NEED_RATIOS.values()], ("Rapport", "Définition", "Unité")),
        html.H2("Sources", id="sources", className="h4"),
        table("method-sources", source_rows, source_rows[0]),
        html.H2("Perspectives : la projection des métiers", id="perspectives", className="h4"),
        html.P(f"{outlook.METHOD} Paramètres de la page « Perspectives » et origine de leurs valeurs par défaut :"),
        table("method-outlook", [
            {"Paramètre": p.name, "Libellé": p.label, "Unité": p.unit, "Plage": f"{p.low:g} – {p.high:g}",
             "Valeur par défaut et source": p.source} for p in outlook.PARAMETERS.values()],
            ("Paramètre", "Libellé", "Unité", "Plage", "Valeur par défaut et source")),
        html.P(outlook.BACKTEST_METHOD, className="obs-source"),
        html.H2("Données fictives calibrées", id="donnees-fictives", className="h4"),
        html.P("Les données d'établissements (TDBMS) ne sont pas ouvertes et les tableaux de l'enquête Écoles ne "
               "sont pas fournis : le générateur de l'observatoire (etl/illustrative.py, graine fixe, commande "
               "« python -m etl illustrative ») écrit des fichiers dans ces mises en forme, calibrés pour que les "
               "totaux nationaux retrouvent les chiffres publiés (CNSA 2023 : rotation 24,4 %, postes vacants 4,5 % ; "
               "DREES 2023 : 57 300 inscrits, 20 676 diplômés). Ils sont signalés partout comme fictifs ; une "
               "cellule « nd » d'un fichier fictif est une valeur non renseignée (jamais un secret statistique), et "
               "un total qui en omet est marqué « fictif, incomplet »."),
        dcc.Store(id="method-scrolled"),
    ])


# A link to `/methodologie#indicateur-<id>` loads the page before Dash draws it, so the browser finds no anchor
# to scroll to: once the page is drawn, scroll to the anchor the address names.
clientside_callback(
    """function(id) {
        const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
        if (target) { setTimeout(function() { target.scrollIntoView({block: 'start'}); }, 0); }
        return window.location.hash || null;
    }""",
    Output("method-scrolled", "data"), Input("method-toc", "id"))


BREAK_COLUMNS = ("Série", "Année", "Métier ou territoire", "Rupture")


def break_rows() -> list[dict]:
    """Every series break the store holds, named as users see them."""
    frame = queries.breaks(ui.store())
    if frame.empty:
        return []
    dims = queries.dimensions(ui.store())
    names = {**dict(zip(dims.territories.territory_id, dims.territories.name)),
             **dict(zip(dims.professions.profession_id, dims.professions.label))}
    titles = {s: queries.source_row(ui.store(), s).get("title", s) for s in frame.series.unique()}
    return [{"Série": titles.get(r.series, r.series), "Année": int(r.period),
             "Métier ou territoire": names.get(r.subject_id, r.subject_id), "Rupture": r.note}
            for r in frame.sort_values(["series", "period", "kind", "subject_id"]).itertuples(index=False)]
