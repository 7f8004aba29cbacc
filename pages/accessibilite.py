"""« Accessibilité »: the accessibility statement RGAA asks a public website for: its compliance, what is not
accessible yet (`observatory.accessibility`, checked by tests/test_accessibility.py), and how to report a problem."""
from __future__ import annotations

import os

import dash
from dash import html

from observatory.accessibility import MODERATE, NOT_YET, OTHER
from pages._components import ui

dash.register_page(__name__, path="/accessibilite", name="Accessibilité", title="Accessibilité – Observatoire",
                   order=9)


def _rules(named: dict[str, str], element_id: str, none: str):
    """The list of what is left (its key in `data-rule`, checked by the test), or the sentence saying nothing is."""
    if not named:
        return html.P(none, id=element_id)
    return html.Ul([html.Li([html.Code(rule), " : ", words], **{"data-rule": rule}) for rule, words in named.items()],
                   id=element_id)


def layout(**_query):
    contact = os.environ.get("OBSERVATORY_CONTACT", "").strip()
    return html.Div([
        ui.page_header("Accessibilité", "Déclaration d'accessibilité de l'observatoire, au sens du référentiel "
                       "général d'amélioration de l'accessibilité (RGAA 4.1, qui reprend les critères WCAG 2.1 "
                       "niveau AA)."),
        html.Div([
            html.H2("État de conformité", className="h4"),
            html.P(["Ce site est ", html.Strong("non conforme", id="a11y-status"), " au RGAA : aucun audit complet "
                    "n'a encore été mené. Ses pages sont vérifiées automatiquement à chaque modification par "
                    "axe-core (règles WCAG 2.0 et 2.1, niveaux A et AA, et ses bonnes pratiques), à 1 280 et "
                    "390 pixels de large, à l'ouverture et après un changement de filtre ; un "
                    "contrôle automatique ne couvre qu'une partie des critères."]),
            html.P("Déjà en place : la langue française déclarée pour tout le document, un lien « Aller au "
                   "contenu », un nom en français pour chaque bouton et champ (y compris les boutons de pagination "
                   "des tableaux, les listes déroulantes et leur champ « Rechercher »), un contour de focus "
                   "visible sur chaque élément atteint au clavier, des contrastes d'au moins 4,5:1 pour les textes "
                   "et de 3:1 pour les traits et marques des graphiques, et pour chaque graphique une phrase de "
                   "synthèse et un tableau de ses données."),
            html.P("Les parcours des trois publics de l'observatoire sont testés au clavier seul, sur écran de "
                   "bureau et de téléphone : une direction des ressources humaines téléverse ses chiffres et les "
                   "compare à ses pairs ; un décideur compare des territoires et modifie un scénario de "
                   "projection ; un analyste filtre un tableau et l'exporte."),
        ], className="obs-card"),
        html.Div([
            html.H2("Ce qui n'est pas encore accessible", className="h4"),
            _rules(NOT_YET, "a11y-not-yet", "Le contrôle automatique ne relève aucun défaut grave ou critique, "
                   "à l'ouverture des pages comme après un changement de filtre."),
            _rules(MODERATE, "a11y-moderate", "Le contrôle automatique ne relève aucun défaut de gravité modérée."),
            html.P("Limites connues, hors du contrôle automatique :", className="mb-1"),
            _rules(OTHER, "a11y-other", ""),
        ], className="obs-card"),
        html.Div([
            html.H2("Signaler un problème", className="h4"),
            html.P(["Si vous ne pouvez pas accéder à un contenu ou à un service, écrivez à ",
                    html.A(contact, href=f"mailto:{contact}") if contact else
                    "l'exploitant de ce site (son adresse de contact est indiquée par l'organisme qui le publie)",
                    " : une réponse ou une alternative accessible vous sera proposée."], id="a11y-contact"),
            html.P(["Si vous n'obtenez pas de réponse satisfaisante, vous pouvez saisir le Défenseur des droits ",
                    html.A("(formulaire en ligne)", href="https://formulaire.defenseurdesdroits.fr/"),
                    " ou lui écrire : Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07."]),
        ], className="obs-card"),
    ])
