"""The indicator catalogue, defined once.

The store's `indicator` table, validation, the methodology page and export metadata are all generated from
`INDICATORS`; nothing else restates a label, a unit or an aggregation rule.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    label: str
    theme: str
    unit: str
    definition: str
    formula: str
    aggregation: str  # sum | ratio | none
    direction: str  # higher_is_better | lower_is_better | neutral
    sources: str
    numerator_label: str | None = None
    denominator_label: str | None = None
    caveats: str | None = None
    decimals: int = 1

    def as_row(self) -> dict:
        return asdict(self)

    @property
    def anchor(self) -> str:
        """The id of the indicator's section on « Méthodologie » (stable: linked from every chart)."""
        return f"indicateur-{self.indicator_id}"

    @property
    def formula_words(self) -> str:
        """The formula in words, from the named numerator and denominator (the symbols are `formula`); for a
        count or a published figure, what is counted."""
        if self.numerator_label and self.denominator_label:
            return (f"{self.label} = {self.numerator_label} / {self.denominator_label}"
                    + (" × 100" if self.unit == "%" else ""))
        return f"{self.label} : {self.definition[0].lower()}{self.definition[1:]}"


_TENSION_CLASS = (
    "Classe de 1 (tension très faible) à 5 (tension très forte) ; publiée seulement au niveau où la "
    "source la calcule, jamais agrégée."
)
_MULTI_YEAR = (
    "Moyenne sur trois ans publiée par la DARES (par ex. « 2017-2019 ») : la période retenue est la "
    "dernière année de la fenêtre."
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "recruitment_projects", "Projets de recrutement", "recrutement", "projets",
        "Nombre de projets de recrutement déclarés par les employeurs pour l'année (enquête BMO).",
        "met", "sum", "neutral", "France Travail, enquête Besoins en main-d'œuvre (BMO)",
        caveats="Les cellules sous le seuil de diffusion (« * ») sont secrètes : un total qui en omet "
        "est un minorant (statut « partiel »).", decimals=0,
    ),
    Indicator(
        "recruitment_projects_difficult", "Projets de recrutement jugés difficiles", "recrutement",
        "projets", "Projets de recrutement que l'employeur anticipe comme difficiles.", "xmet", "sum",
        "lower_is_better", "France Travail, enquête BMO", decimals=0,
    ),
    Indicator(
        "recruitment_projects_seasonal", "Projets de recrutement saisonniers", "recrutement", "projets",
        "Projets de recrutement liés à une activité saisonnière.", "smet", "sum", "neutral",
        "France Travail, enquête BMO", decimals=0,
    ),
    Indicator(
        "recruitment_difficulty_share", "Part des projets jugés difficiles", "recrutement", "%",
        "Part des projets de recrutement que les employeurs anticipent comme difficiles.",
        "xmet / met × 100", "ratio", "lower_is_better", "France Travail, enquête BMO",
        numerator_label="projets jugés difficiles (xmet)", denominator_label="projets de recrutement (met)",
        caveats="Agrégé comme rapport des sommes, sur les seules cellules non secrètes.",
    ),
    Indicator(
        "turnover_rate", "Taux de rotation", "ressources_humaines", "%",
        "Taux de rotation du personnel permanent (CDI, titulaires) des établissements et services "
        "médico-sociaux : moyenne des recrutements et des départs de l'année, rapportée à l'effectif réel en "
        "personnes au 31/12 de l'année N-1.",
        "(recrutements + départs) / 2 / effectif au 31/12 de N-1 × 100", "ratio", "lower_is_better",
        "ATIH/ANAP, tableau de bord de la performance dans le secteur médico-social (TDBMS)",
        numerator_label="(recrutements + départs) / 2", denominator_label="personnel permanent au 31/12 de N-1",
        caveats="Champ : personnel permanent des ESMS ; les CDD et l'intérim n'entrent ni au numérateur ni au "
        "dénominateur.",
        decimals=1,
    ),
    Indicator(
        "entry_rate", "Taux d'entrée", "ressources_humaines", "%",
        "Recrutements de personnel permanent (CDI, titulaires) de l'année dans les établissements et services "
        "médico-sociaux, rapportés à l'effectif réel en personnes au 31/12 de l'année N-1.",
        "recrutements / effectif au 31/12 de N-1 × 100", "ratio", "neutral",
        "ATIH/ANAP, tableau de bord de la performance dans le secteur médico-social (TDBMS)",
        numerator_label="recrutements de personnel permanent", denominator_label="personnel permanent au 31/12 de N-1",
        caveats="Champ : personnel permanent des ESMS.",
    ),
    Indicator(
        "exit_rate", "Taux de sortie", "ressources_humaines", "%",
        "Départs de personnel permanent (CDI, titulaires) de l'année dans les établissements et services "
        "médico-sociaux, rapportés à l'effectif réel en personnes au 31/12 de l'année N-1.",
        "départs / effectif au 31/12 de N-1 × 100", "ratio", "lower_is_better",
        "ATIH/ANAP, tableau de bord de la performance dans le secteur médico-social (TDBMS)",
        numerator_label="départs de personnel permanent", denominator_label="personnel permanent au 31/12 de N-1",
        caveats="Champ : personnel permanent des ESMS.",
    ),
    Indicator(
        "turnover_rate_all_contracts", "Taux de rotation (tous contrats, DARES)", "ressources_humaines", "%",
        "Taux de rotation de la main-d'œuvre salariée, tous contrats (CDD compris) : moyenne des taux d'entrée "
        "et de sortie de l'année, rapportés à l'effectif moyen, par famille professionnelle (FAP-87).",
        "(taux d'entrée + taux de sortie) / 2", "ratio", "lower_is_better",
        "DARES, Portrait statistique des métiers – mouvements de main-d'œuvre (tous contrats)",
        numerator_label="(entrées + sorties) / 2", denominator_label="effectif moyen",
        caveats="Chaque CDD compte une entrée et une sortie : les taux sont bien plus élevés que ceux du "
        "personnel permanent (71,65 % pour la FAP V4Z en 2014). Publié sans ses composantes : montré tel que "
        "publié, jamais agrégé.",
        decimals=2,
    ),
    Indicator(
        "entry_rate_all_contracts", "Taux d'entrée (tous contrats, DARES)", "ressources_humaines", "%",
        "Entrées de l'année, tous contrats (CDD compris), rapportées à l'effectif moyen, par famille "
        "professionnelle (FAP-87).",
        "entrées / effectif moyen × 100", "ratio", "neutral",
        "DARES, Portrait statistique des métiers – mouvements de main-d'œuvre (tous contrats)",
        numerator_label="entrées (tous contrats)", denominator_label="effectif moyen",
        caveats="Publié sans ses composantes : montré tel que publié, jamais agrégé.", decimals=2,
    ),
    Indicator(
        "exit_rate_all_contracts", "Taux de sortie (tous contrats, DARES)", "ressources_humaines", "%",
        "Sorties de l'année, tous contrats (fins de CDD comprises), rapportées à l'effectif moyen, par famille "
        "professionnelle (FAP-87).",
        "sorties / effectif moyen × 100", "ratio", "lower_is_better",
        "DARES, Portrait statistique des métiers – mouvements de main-d'œuvre (tous contrats)",
        numerator_label="sorties (tous contrats)", denominator_label="effectif moyen",
        caveats="Publié sans ses composantes : montré tel que publié, jamais agrégé.", decimals=2,
    ),
    Indicator(
        "absenteeism_rate", "Taux d'absentéisme", "ressources_humaines", "%",
        "Jours calendaires d'absence (maladie, maternité/paternité, AT-MP, congés spéciaux ; hors congés "
        "payés et formation) rapportés aux ETP réels × 365.",
        "jours d'absence / (ETP réels × 365) × 100", "ratio", "lower_is_better", "ATIH/ANAP TDBMS",
        numerator_label="jours d'absence", denominator_label="ETP réels × 365",
        caveats="Le dénominateur de 365 jours donne un taux plus bas qu'un dénominateur en jours travaillés.",
    ),
    Indicator(
        "vacancy_rate", "Taux d'ETP vacants au 31/12", "ressources_humaines", "%",
        "ETP budgétés non pourvus au 31/12 (absence de plus de six mois, prestations externes comprises).",
        "(ETP budgétés − ETP réalisés) / ETP budgétés × 100", "ratio", "lower_is_better",
        "ATIH/ANAP TDBMS", numerator_label="ETP vacants", denominator_label="ETP budgétés",
        caveats="Le dénominateur n'est pas publié par Helios ; l'observatoire retient les ETP budgétés.",
    ),
    Indicator(
        "tension_index", "Indicateur de tension (DARES)", "tensions", "indice",
        "Indicateur principal de tension sur le marché du travail, standardisé (0 = moyenne des métiers).",
        "combinaison des difficultés anticipées (BMO), offres / demandeurs et taux d'écoulement",
        "none", "lower_is_better", "DARES – France Travail, Les tensions sur le marché du travail",
        caveats="Indice standardisé, publié au niveau où il est calculé ; il ne s'agrège pas.", decimals=2,
    ),
    Indicator(
        "tension_class", "Classe de tension", "tensions", "classe 1-5",
        "Position du métier sur l'échelle de tension en cinq classes.", "classe publiée", "none",
        "lower_is_better", "DARES ; France Travail (tension par ROME et bassin)", caveats=_TENSION_CLASS,
        decimals=0,
    ),
    Indicator(
        "tension_hiring_intensity_class", "Intensité d'embauches (classe)", "tensions", "classe 1-5",
        "Composante de la tension : offres et projets de recrutement rapportés à l'emploi du métier.",
        "classe publiée", "none", "lower_is_better", "DARES ; France Travail", caveats=_TENSION_CLASS,
        decimals=0,
    ),
    Indicator(
        "tension_labour_shortage_class", "Manque de main-d'œuvre disponible (classe)", "tensions",
        "classe 1-5", "Composante de la tension : demandeurs d'emploi disponibles rapportés à l'emploi.",
        "classe publiée", "none", "lower_is_better", "DARES ; France Travail", caveats=_TENSION_CLASS,
        decimals=0,
    ),
    Indicator(
        "tension_non_sustainable_employment_class", "Non-durabilité de l'emploi (classe)", "tensions",
        "classe 1-5", "Composante de la tension : part des contrats courts dans les embauches.",
        "classe publiée", "none", "lower_is_better", "DARES ; France Travail", caveats=_TENSION_CLASS,
        decimals=0,
    ),
    Indicator(
        "tension_training_link_class", "Lien formation-emploi (classe)", "tensions", "classe 1-5",
        "Composante de la tension : spécificité de la formation exigée par le métier.",
        "classe publiée", "none", "neutral", "DARES ; France Travail", caveats=_TENSION_CLASS, decimals=0,
    ),
    Indicator(
        "tension_working_conditions_class", "Conditions de travail contraignantes (classe)", "tensions",
        "classe 1-5", "Composante de la tension : exposition aux contraintes de travail.",
        "classe publiée", "none", "lower_is_better", "DARES ; France Travail", caveats=_TENSION_CLASS,
        decimals=0,
    ),
    Indicator(
        "tension_geographic_mismatch_class", "Inadéquation géographique (classe)", "tensions",
        "classe 1-5", "Composante de la tension : éloignement entre offres et demandeurs.",
        "classe publiée", "none", "lower_is_better", "DARES ; France Travail", caveats=_TENSION_CLASS,
        decimals=0,
    ),
    Indicator(
        "job_offers", "Offres d'emploi enregistrées", "tensions", "offres",
        "Offres d'emploi enregistrées par France Travail (moyenne trimestrielle publiée).", "oee", "sum",
        "neutral", "France Travail, indicateurs de tension par ROME et bassin d'emploi",
        caveats="Valeurs moyennes, non entières, telles que publiées.", decimals=0,
    ),
    Indicator(
        "jobseekers_abc", "Demandeurs d'emploi (cat. A, B, C)", "tensions", "personnes",
        "Demandeurs d'emploi inscrits en catégories A, B, C sur le métier (moyenne publiée).", "defm_abc",
        "sum", "neutral", "France Travail, indicateurs de tension par ROME et bassin d'emploi", decimals=0,
    ),
    Indicator(
        "employment_average", "Emploi moyen", "contexte", "personnes",
        "Emploi moyen du métier retenu par la DARES pour le calcul des tensions.", "emploi moyen publié",
        "none", "neutral", "DARES, Les tensions sur le marché du travail", decimals=0,
    ),
    Indicator(
        "women_share", "Part des femmes", "contexte", "%", "Part des femmes parmi les personnes en emploi.",
        "femmes / emploi × 100", "none", "neutral", "DARES, Portrait statistique des métiers (Insee, EEC)",
        caveats=_MULTI_YEAR,
    ),
    Indicator(
        "fixed_term_share", "Part des CDD", "contexte", "%",
        "Part des contrats à durée déterminée parmi les personnes en emploi.", "CDD / emploi × 100", "none",
        "lower_is_better", "DARES, Portrait statistique des métiers (Insee, EEC)", caveats=_MULTI_YEAR,
    ),
    Indicator(
        "median_salary", "Salaire médian", "contexte", "€ net / mois",
        "Salaire mensuel net médian des salariés à temps complet.", "médiane publiée", "none",
        "higher_is_better", "DARES, Portrait statistique des métiers (Insee, EEC)", caveats=_MULTI_YEAR,
        decimals=0,
    ),
    Indicator(
        "students_enrolled", "Étudiants inscrits", "formation", "personnes",
        "Étudiants inscrits en formation sociale (toutes années d'études).", "inscrits", "sum", "higher_is_better",
        "DREES, enquête Écoles", decimals=0,
    ),
    Indicator(
        "first_year_entrants", "Entrants en première année", "formation", "personnes",
        "Étudiants entrés en première année de formation.", "entrants", "sum", "higher_is_better",
        "DREES, enquête Écoles", decimals=0,
    ),
    Indicator(
        "graduates", "Diplômés", "formation", "personnes", "Diplômés de l'année (hors VAE et allègements).",
        "diplômés", "sum", "higher_is_better", "DREES, enquête Écoles", decimals=0,
    ),
    Indicator(
        "training_interruptions", "Interruptions définitives de formation", "formation", "personnes",
        "Étudiants ayant interrompu définitivement leur formation dans l'année.", "interruptions définitives",
        "sum", "lower_is_better", "DREES, enquête Écoles", decimals=0,
    ),
    Indicator(
        "training_interruption_rate", "Taux d'interruption définitive", "formation", "%",
        "Interruptions définitives rapportées aux étudiants inscrits.", "interruptions / inscrits × 100",
        "ratio", "lower_is_better", "DREES, enquête Écoles", numerator_label="interruptions définitives",
        denominator_label="étudiants inscrits",
    ),
    Indicator(
        "graduates_per_entrant", "Diplômés par entrant de la cohorte", "formation", "%",
        "Diplômés de l'année rapportés aux entrants en première année de la cohorte correspondante "
        "(N − durée de la formation + 1).", "diplômés N / entrants (N − durée + 1) × 100", "ratio",
        "higher_is_better", "DREES, enquête Écoles", numerator_label="diplômés de l'année",
        denominator_label="entrants en première année de la cohorte",
        caveats="Approximation de la réussite : redoublements, VAE et allègements ne sont pas suivis "
        "individuellement ; la durée retenue par diplôme est une convention de l'observatoire.",
    ),
)

# Shares computed at query time from two stored counts of the same cells (not stored: storing them would cost
# the BMO load its time budget). Same rule as the stored shares: a cell whose numerator is secret counts in the
# denominator only, so the share of a total that misses cells is a lower bound (`partial`).
COMPUTED: dict[str, tuple[str, str]] = {
    "recruitment_seasonal_share": ("recruitment_projects_seasonal", "recruitment_projects"),
}
INDICATORS = INDICATORS + (
    Indicator(
        "recruitment_seasonal_share", "Part des projets saisonniers", "recrutement", "%",
        "Part des projets de recrutement liés à une activité saisonnière.", "smet / met × 100", "ratio", "neutral",
        "France Travail, enquête BMO", numerator_label="projets saisonniers (smet)",
        denominator_label="projets de recrutement (met)",
        caveats="Calculée à la demande à partir des effectifs stockés : une cellule dont smet est secret compte "
        "au dénominateur seulement (minorant, statut « partiel »).",
    ),
)

# The inputs of a workforce outlook (DARES, Portrait statistique des métiers). FAP levels overlap (a domain, its
# FAP-87 families, their FAP-225 families; T2Z is T2A and T2B together): the counts are never summed.
_FAP_LEVELS = "Les niveaux de FAP (domaine, FAP-87, FAP-225) se recouvrent : les effectifs ne sont jamais sommés."
INDICATORS = INDICATORS + (
    Indicator(
        "employment", "Personnes en emploi", "perspectives", "personnes",
        "Nombre de personnes en emploi exerçant le métier (moyenne sur trois ans, enquête Emploi).",
        "emploi publié (milliers) × 1 000", "none", "neutral",
        "DARES, Portrait statistique des métiers (Insee, EEC)",
        caveats="Moyenne sur trois ans que la DARES date de son année centrale (sa ligne « 2018 » est la moyenne "
        "2017-2019) : la période retenue est la dernière année de la fenêtre (2019), comme pour les autres "
        "moyennes sur trois ans. " + _FAP_LEVELS, decimals=0,
    ),
    Indicator(
        "employment_by_age", "Personnes en emploi par tranche d'âge", "perspectives", "personnes",
        "Personnes en emploi exerçant le métier, par tranche d'âge de cinq ans (15-24 ans, puis 25-29 … "
        "55-59 ans, 60 ans ou plus).",
        "emploi publié (milliers) × 1 000, par tranche d'âge", "none", "neutral",
        "DARES, Portrait statistique des métiers (Insee, EEC)",
        caveats=_MULTI_YEAR + " Une tranche à 0 est publiée telle quelle (aucun enquêté). " + _FAP_LEVELS,
        decimals=0,
    ),
    Indicator(
        "employment_by_broad_age", "Personnes en emploi par grande tranche d'âge", "perspectives", "personnes",
        "Personnes en emploi exerçant le métier, en trois grandes tranches d'âge (moins de 30 ans, 30 à 49 ans, "
        "50 ans ou plus), pour chaque fenêtre de trois ans depuis 1982-1984.",
        "emploi publié (milliers) × 1 000, par grande tranche d'âge", "none", "neutral",
        "DARES, Portrait statistique des métiers (Insee, EEC)",
        caveats=_MULTI_YEAR + " Les fenêtres où la DARES publie 0 pour une FAP pas encore définie (T2A et T2B "
        "avant 1992-1994) sont rejetées, pas stockées. " + _FAP_LEVELS, decimals=0,
    ),
    Indicator(
        "employment_region_share", "Répartition régionale de l'emploi", "perspectives", "%",
        "Part de la région dans l'emploi national du métier (DROM compris).",
        "emploi du métier dans la région / emploi du métier dans l'ensemble des régions × 100", "none",
        "neutral", "DARES, Portrait statistique des métiers (Insee, EEC)",
        numerator_label="emploi du métier dans la région", denominator_label="emploi du métier, toutes régions",
        caveats="Période non indiquée dans le fichier ; rangée sous 2019, l'édition du Portrait statistique des "
        "métiers. Jamais agrégée : chaque part a pour dénominateur l'emploi national du métier, qu'on ne somme "
        "pas d'une région à l'autre. Mayotte n'est publiée que pour 40 familles professionnelles.",
    ),
    Indicator(
        "exit_type_share", "Part des sorties par motif", "perspectives", "%",
        "Répartition des sorties d'emploi salarié du métier par motif (fin de CDD, démission, licenciement, "
        "rupture conventionnelle, fin de période d'essai, départ en retraite, autre).",
        "sorties du motif / ensemble des sorties × 100 (part publiée)", "none", "neutral",
        "DARES, Portrait statistique des métiers (mouvements de main-d'œuvre)",
        caveats="Le fichier n'indique pas sa période : rangée sous 2014, dernière année de la série DARES des "
        "mouvements de main-d'œuvre (source dares_mmo). Parts publiées arrondies : celles d'un métier somment "
        "à 100 à 0,02 point près.",
    ),
)

# Sub-populations a figure may describe, besides the whole population ('') and a category of establishment
# (`esms:<code>`): breakdown code → French label. The dares_outlook adapter writes them; the URL codec accepts them.
BREAKDOWNS: dict[str, str] = {
    "age:15-24": "15 à 24 ans", "age:25-29": "25 à 29 ans", "age:30-34": "30 à 34 ans",
    "age:35-39": "35 à 39 ans", "age:40-44": "40 à 44 ans", "age:45-49": "45 à 49 ans",
    "age:50-54": "50 à 54 ans", "age:55-59": "55 à 59 ans", "age:60+": "60 ans ou plus",
    "age:<30": "moins de 30 ans", "age:30-49": "30 à 49 ans", "age:50+": "50 ans ou plus",
    "sortie:fin_cdd": "fins de CDD", "sortie:demission": "démissions", "sortie:licenciement": "licenciements",
    "sortie:rupture_conventionnelle": "ruptures conventionnelles",
    "sortie:fin_periode_essai": "fins de période d'essai", "sortie:retraite": "départs en retraite",
    "sortie:autre": "autres sorties",
}

# Which indicators each page shows, in order (the first one opens the page). Sources, periods and vintages are
# never named here: the store says which exist, and every page opens on the latest period.
PAGES: dict[str, tuple[str, ...]] = {
    "recrutement": ("recruitment_difficulty_share", "recruitment_projects", "recruitment_projects_difficult",
                    "recruitment_projects_seasonal", "recruitment_seasonal_share"),
    "ressources-humaines": ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate",
                            "turnover_rate_all_contracts", "entry_rate_all_contracts", "exit_rate_all_contracts"),
    "formation": ("students_enrolled", "first_year_entrants", "graduates", "training_interruptions",
                  "training_interruption_rate", "graduates_per_entrant"),
    "filieres": ("recruitment_difficulty_share", "recruitment_projects", "job_offers", "jobseekers_abc",
                 "students_enrolled", "training_interruption_rate", "graduates_per_entrant"),
    "territoires": ("recruitment_difficulty_share", "recruitment_projects", "turnover_rate", "vacancy_rate",
                    "absenteeism_rate", "students_enrolled", "graduates", "job_offers"),
    # a territory's profile against its région and France (social work and all occupations where published)
    "territoires-profil": ("turnover_rate", "vacancy_rate", "absenteeism_rate", "recruitment_difficulty_share"),
    # the home page's « ce qui a changé »: national series, last two periods of the same series
    "accueil": ("recruitment_difficulty_share", "recruitment_projects", "turnover_rate", "vacancy_rate",
                "absenteeism_rate", "students_enrolled", "graduates", "turnover_rate_all_contracts"),
}

# Heat maps (/filieres) colour a rate or share by its gap to France's figure (all occupations, same period); a gap
# smaller than the indicator's neutral band, in its unit (points for a %), is shown « proche de la France »: about
# the rounding of the published rates, too small to call better or worse. Counts are never coloured.
DEFAULT_NEUTRAL_BAND = 1.0
NEUTRAL_BAND: dict[str, float] = {
    "recruitment_difficulty_share": 1.0, "training_interruption_rate": 1.0, "graduates_per_entrant": 1.0,
}

# The population a figure's `ensemble` stands for, when it is not « all occupations »: TDBMS figures cover the
# permanent staff of medico-social establishments, never every occupation.
ESMS_STAFF = "Personnel permanent des ESMS"
POPULATION: dict[str, str] = {
    indicator_id: ESMS_STAFF
    for indicator_id in ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate")
}

BY_ID: dict[str, Indicator] = {i.indicator_id: i for i in INDICATORS}


def root_label(indicator_id: str, default: str) -> str:
    """What the root profession (`ensemble`) is called for an indicator: its population when the catalogue names
    one, else `default` (the store's label). Dropdowns, chart titles, tables and exports all read it here."""
    return POPULATION.get(indicator_id, default)


def methodology_href(indicator_id: str) -> str:
    """The link to an indicator's definition and formula on « Méthodologie »."""
    return f"/methodologie#{get(indicator_id).anchor}"


def get(indicator_id: str) -> Indicator:
    """The catalogue entry, or a KeyError naming the unknown id."""
    try:
        return BY_ID[indicator_id]
    except KeyError:
        raise KeyError(f"unknown indicator {indicator_id!r}") from None
