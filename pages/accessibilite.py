"""« Accessibilité »: the accessibility statement RGAA asks a public website for: its compliance, what is not
accessible yet (`observatory.accessibility`, checked by tests/test_accessibility.py), and how to report a problem."""
from __future__ import annotations

import os

import dash
from dash import html

from observatory.accessibility import MODERATE, NOT_YET
from pages._components import ui

dash.register_page(__name__, path="/accessibilite", name="Accessibilité", title="Accessibilité – Observatoire",
                   order=9)

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
                    "axe-core (règles WCAG 2.0 et 2.1, niveaux A et AA), à 1 280 et 390 pixels de large ; un "
                    "contrôle automatique ne couvre qu'une partie des critères."]),
            html.P("Déjà en place : la langue française déclarée pour tout le document, un lien « Aller au "
                   "contenu », un nom en français pour chaque bouton et champ (y compris les boutons de pagination "
                   "des tableaux et les listes déroulantes), des contrastes d'au moins 4,5:1 pour les liens et "
                   "boutons, et pour chaque graphique une phrase de synthèse et un tableau de ses données."),
        ], className="obs-card"),
        html.Div([
            html.H2("Ce qui n'est pas encore accessible", className="h4"),
            html.Ul([html.Li([html.Code(rule), " : ", words], **{"data-rule": rule})
                     for rule, words in NOT_YET.items()], id="a11y-not-yet") if NOT_YET else
            html.P("Le contrôle automatique ne relève plus de défaut grave ou critique au chargement des pages.",
                   id="a11y-not-yet"),
            html.P("Défauts de gravité modérée :", className="mb-1"),
            html.Ul([html.Li([html.Code(rule), " : ", words], **{"data-rule": rule})
                     for rule, words in MODERATE.items()], id="a11y-moderate"),
            html.P("Les parcours au clavier seul (filtres, téléversement, export, champs des scénarios) n'ont pas "
                   "encore été testés de bout en bout, ni les pages après un changement de filtre."),
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
