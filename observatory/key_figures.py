"""Headline figures quoted on the home page: published numbers whose source is known (never computed here).

Each one is in `domain-reference.md` with its address; figures computed from the store are cards of their own
(`views.store_key_figures`), with the source and period the store gives."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyFigure:
    value: str
    label: str
    source: str
    year: str
    url: str
    illustrative: bool = False  # every headline figure here is published (real); the home page says so per card


KEY_FIGURES: tuple[KeyFigure, ...] = (
    KeyFigure("71 %", "des établissements et services déclarent des difficultés de recrutement",
              "HCTS, Livre blanc du travail social", "2023",
              "https://www.vie-publique.fr/en-bref/292322-travail-social-une-crise-de-sens-et-dattractivite"),
    KeyFigure("30 000", "postes vacants estimés dans le secteur social et médico-social",
              "HCTS, Livre blanc du travail social (d'après le baromètre Fehap-Nexem)", "2023",
              "https://www.vie-publique.fr/en-bref/292322-travail-social-une-crise-de-sens-et-dattractivite"),
    KeyFigure("24,4 %", "taux de rotation du personnel des établissements médico-sociaux",
              "CNSA, Repères statistiques n°24 (tableau de bord ATIH/ANAP)", "2023",
              "https://cnsa.fr/actualites/les-tensions-des-ressources-humaines-dans-le-secteur-medico-social-en-2023"),
    KeyFigure("4,5 %", "d'ETP vacants au 31 décembre dans les établissements médico-sociaux",
              "CNSA, Repères statistiques n°24 (tableau de bord ATIH/ANAP)", "2023",
              "https://cnsa.fr/actualites/les-tensions-des-ressources-humaines-dans-le-secteur-medico-social-en-2023"),
    KeyFigure("80 %", "des projets de recrutement des professions sociales jugés difficiles par les employeurs",
              "DREES, Les tensions dans les professions du social (d'après l'enquête BMO 2022)", "2022",
              "https://www.drees.solidarites-sante.gouv.fr/communique-de-presse-jeux-de-donnees/jeux-de-donnees/"
              "80-des-employeurs-des-professionnelles-du"),
)
