"""The published sources the adapters read, with producer, licence and address (metadata as code)."""
from __future__ import annotations

LICENCE_OUVERTE = "Licence Ouverte / Open Licence 2.0 (Etalab)"


def bmo(vintage: int) -> dict:
    return {
        "source_id": f"ft_bmo_{vintage}",
        "producer": "France Travail",
        "title": "Enquête Besoins en main-d'œuvre (BMO)",  # the vintage is a column of its own
        "url": "https://www.data.gouv.fr/datasets/561fa564c751df4f2acdbb48",
        "licence": LICENCE_OUVERTE,
        "vintage": str(vintage),
        "is_illustrative": False,
        "scope": "published",
        "adapter": "bmo",
        "series": "ft_bmo",
        "note": "Fichier Base_open_data_BMO ; « * » = secret statistique.",
    }


# Professions a series does not publish on their own, and the published profession whose figures include them
# (series → profession → profession counting it). BMO ≤ 2024 uses FAP-2009 métiers: PCS 434g (EJE), 434e (ME),
# 434f (ETS), 434a (cadres socio-éducatifs) are in V4Z83; 434b (ASS) and 434c (CESF) in V4Z85; 563b (TISF) in
# T2A60; 563a (familles d'accueil) in T2B60 (domain-reference §2.2); aides médico-psychologiques (AES) in V0Z60,
# « Aides-soignants (aides médico-psychologiques, auxiliaires de puériculture…) » as BMO 2017-2018 label it.
COUNTED_IN: dict[str, dict[str, str]] = {
    "ft_bmo": {
        "educateur_jeunes_enfants": "educateur_specialise", "moniteur_educateur": "educateur_specialise",
        "educateur_technique_specialise": "educateur_specialise", "cadre_intervention_sociale": "educateur_specialise",
        "assistant_service_social": "professionnel_action_sociale", "cesf": "professionnel_action_sociale",
        "tisf": "aide_a_domicile", "assistant_familial": "assistant_maternel",
        "accompagnant_educatif_social": "fap2009_V0Z60",
    },
}

DARES_PORTRAIT_URL = "https://github.com/StatDares/PortraitStatMetiers"

STATIC: dict[str, dict] = {
    "dares_mmo": {
        "producer": "DARES",
        "title": "Portrait statistique des métiers – mouvements de main-d'œuvre (taux d'entrée, de sortie, "
        "de rotation) par FAP-87, 2007-2014",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2014",
        "adapter": "dares_mmo",
        "note": "Champ : tous contrats (CDD compris), France métropolitaine.",
    },
    "dares_tensions_2019": {
        "producer": "DARES – France Travail",
        "title": "Les tensions sur le marché du travail, 2019 (indicateur et composantes par FAP)",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE + " (présumée, à vérifier)",
        "vintage": "2019",
        "adapter": "dares_tensions",
        "note": "Mayotte absente ; composantes non publiées au niveau départemental.",
    },
    "dares_portrait_women": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – part des femmes par FAP (moyennes sur trois ans)",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_portrait",
        "note": "Moyennes sur trois ans ; la période retenue est la dernière année de la fenêtre.",
    },
    "dares_portrait_fixed_term": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – part des CDD par FAP (moyennes sur trois ans)",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_portrait",
        "note": "Moyennes sur trois ans ; la période retenue est la dernière année de la fenêtre.",
    },
    "dares_portrait_salary": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – salaire médian par FAP (moyennes sur trois ans)",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_portrait",
        "note": "Moyennes sur trois ans ; la période retenue est la dernière année de la fenêtre.",
    },
    # The inputs of a workforce outlook (adapter dares_outlook): one source per file.
    "dares_portrait_employment": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – personnes en emploi par FAP (domaine, FAP-87, FAP-225), "
        "moyennes sur trois ans 1982-1984 à 2017-2019",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_outlook",
        "note": "Fichier effectifs_3niv.csv, une colonne par FAP, en milliers (stockés en personnes). La DARES "
        "date chaque moyenne sur trois ans de son année centrale (« 2018 » = moyenne 2017-2019) : la période "
        "retenue est la dernière année de la fenêtre (Annee + 1). « NA » (FAP-225 jusqu'à la ligne 2003, T2A "
        "et T2B jusqu'à la ligne 1994) et codes ZZZ, Z, ZZZZZ, T2Z60 (hors nomenclature) : rejetés.",
    },
    "dares_portrait_age": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – personnes en emploi par FAP et tranche d'âge de cinq ans, "
        "moyenne 2017-2019",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_outlook",
        "note": "Fichier age_2017_2019_3niv.csv (latin-1), en milliers (stockés en personnes) ; la fenêtre est "
        "dans le nom de colonne (annee_2017_2019), la période retenue est sa dernière année.",
    },
    "dares_portrait_broad_age": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – personnes en emploi par FAP-87 et grande tranche d'âge, "
        "moyennes sur trois ans 1982-1984 à 2017-2019",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_outlook",
        "note": "Fichier age_agrege_1982_1984_a_2017_2019_restructure.csv (latin-1), en milliers (stockés en "
        "personnes) ; période retenue : dernière année de la fenêtre. 0 publié pour une FAP pas encore définie "
        "(T2A, T2B avant 1992-1994) : rejeté.",
    },
    "dares_portrait_regions": {
        "producer": "DARES (Insee, enquête Emploi)",
        "title": "Portrait statistique des métiers – emploi par FAP-87 et région (carte)",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2019",
        "adapter": "dares_outlook",
        "note": "Fichier input_carte1.csv (latin-1) ; DROM codés 101 à 106 (→ régions 01 à 06). Période non "
        "indiquée dans le fichier ; rangée sous 2019, l'édition du Portrait statistique des métiers. Part de "
        "la région = emp_fap_reg2 / somme de la FAP sur les régions × 100.",
    },
    "dares_portrait_exit_types": {
        "producer": "DARES (mouvements de main-d'œuvre)",
        "title": "Portrait statistique des métiers – répartition des sorties par motif et FAP-87",
        "url": DARES_PORTRAIT_URL,
        "licence": LICENCE_OUVERTE,
        "vintage": "2014",
        "adapter": "dares_outlook",
        "note": "Fichier types_sorties.csv (latin-1, « ; », libellés complétés d'espaces). Le fichier n'indique "
        "pas sa période : rangée sous 2014, dernière année de la série DARES des mouvements de main-d'œuvre "
        "(millésime de la source dares_mmo).",
    },
    "ft_tension_2021": {
        "producer": "France Travail",
        "title": "Indicateurs de tension par code ROME et bassin d'emploi, 2021",
        "url": "https://github.com/StartupsPoleEmploi/mobiville",
        "licence": LICENCE_OUVERTE,
        "vintage": "2021",
        "adapter": "ft_tension",
        "note": "Classes de 1 à 5 ; offres et demandeurs en moyenne.",
    },
    "insee_cog_2020": {
        "producer": "Insee",
        "title": "Code officiel géographique 2020 (régions, départements)",
        "url": "https://www.insee.fr/fr/information/4316069",
        "licence": LICENCE_OUVERTE,
        "vintage": "2020",
        "adapter": "reference",
        "note": None,
    },
}


ILLUSTRATIVE_NOTE = (
    "Données fictives calibrées : générées par etl/illustrative.py (graine fixe, `python -m etl illustrative`) "
    "dans la mise en "
    "forme du fichier publié, calibrées sur les chiffres nationaux publiés (CNSA 2023, DREES 2023)."
)

STATIC.update({
    "drees_aide_sociale": {
        "producer": "DREES",
        "title": "Les bénéficiaires de l'aide sociale départementale – séries longues (enquête Aide sociale)",
        "url": "https://data.drees.solidarites-sante.gouv.fr/explore/dataset/"
        "375_les-beneficiaires-de-l-aide-sociale-departementale/information/",
        "licence": LICENCE_OUVERTE,
        "vintage": None,  # the latest year the file holds (etl/adapters/drees_aide_sociale.py)
        "adapter": "drees_aide_sociale",
        "note": "APA : bénéficiaires payés au titre de décembre ; PCH et ASE : au 31 décembre. Total France "
        "estimé par la DREES (champ : France hors Mayotte). « ND » : non disponible.",
    },
    "drees_personnel": {
        "producer": "DREES",
        "title": "Le personnel départemental de l'action sociale et médico-sociale (enquête Aide sociale)",
        "url": "https://data.drees.solidarites-sante.gouv.fr/explore/dataset/"
        "le-personnel-departemental-de-l-action-sociale-et-medico-sociale/information/",
        "licence": LICENCE_OUVERTE,
        "vintage": None,  # the latest year the file holds (etl/adapters/drees_personnel.py)
        "adapter": "drees_personnel",
        "note": "Effectifs et ETP au 31 décembre, personnels des conseils départementaux. « ND » : non disponible. "
        "Rhône : 69D (nouveau Rhône) et 69M (Métropole de Lyon) depuis 2015.",
    },
    "drees_apa_gir": {
        "producer": "DREES",
        "title": "APA – données détaillées par GIR, âge et sexe (part des bénéficiaires dans la population)",
        "url": "https://data.drees.solidarites-sante.gouv.fr/explore/dataset/"
        "apa-donnees-detaillees-par-gir-age-et-sexe/information/",
        "licence": LICENCE_OUVERTE,
        "vintage": None,  # the year the sheet's title names (etl/adapters/drees_apa_gir.py)
        "adapter": "drees_apa_gir",
        "note": "Part des bénéficiaires de l'APA (domicile, établissement) dans la population de chaque tranche "
        "d'âge, fin décembre ; France hors Mayotte ; population : estimations provisoires de l'Insee.",
    },
    "insee_estim_pop": {
        "producer": "Insee",
        "title": "Estimation de population au 1er janvier, par département, sexe et âge quinquennal",
        "url": "https://www.insee.fr/fr/statistiques/1893198",
        "licence": LICENCE_OUVERTE,
        "vintage": None,  # the file's latest year sheet (etl/adapters/insee_population.py)
        "adapter": "insee_population",
        "note": "Les années que la feuille dit « provisoires » ont le statut provisoire.",
    },
    "drees_ecoles_extract": {
        "producer": "DREES",
        "title": "Enquête Écoles – formations aux professions sociales (tableaux publiés)",
        "url": "https://drees.solidarites-sante.gouv.fr/sources-outils-et-enquetes/"
        "lenquete-annuelle-sur-les-ecoles-de-formation-aux-professions-sociales",
        "licence": LICENCE_OUVERTE + " (présumée, à vérifier sur data.drees)",
        "vintage": None,
        "adapter": "drees_ecoles",
        "note": "Diplômés hors VAE et allègements.",
    },
    "tdbms_extract": {
        "producer": "ATIH / ANAP (extrait ARS DIAMANT)",
        "title": "Tableau de bord de la performance dans le secteur médico-social – extrait établissements",
        "url": "https://www.atih.sante.fr/",
        "licence": "Diffusion restreinte au niveau établissement (ARS) ; seuls les agrégats sont publiables",
        "vintage": None,
        "adapter": "tdbms",
        "note": "Personnel permanent (CDI, titulaires).",
    },
    "tdbms_illustrative": {
        "producer": "Observatoire (illustratif) – mise en forme ATIH/ANAP TDBMS",
        "title": "Tableau de bord de la performance dans le secteur médico-social – extraits établissements "
        "ILLUSTRATIFS 2017-2023",
        "url": "https://cnsa.fr/actualites/les-tensions-des-ressources-humaines-dans-le-secteur-medico-social-en-2023",
        "licence": "Données fictives (pas de licence de source) ; calibrage : CNSA, Repères statistiques n°24",
        "vintage": "2023",
        "adapter": "tdbms",
        "is_illustrative": True,
        "note": ILLUSTRATIVE_NOTE,
    },
    "drees_ecoles_illustrative": {
        "producer": "Observatoire (illustratif) – mise en forme DREES enquête Écoles",
        "title": "Formations aux professions sociales : inscrits, entrants, diplômés, interruptions – "
        "ILLUSTRATIF 2017-2024",
        "url": "https://drees.solidarites-sante.gouv.fr/sources-outils-et-enquetes/"
        "lenquete-annuelle-sur-les-ecoles-de-formation-aux-professions-sociales",
        "licence": "Données fictives (pas de licence de source) ; calibrage : DREES 2023-2024",
        "vintage": "2024",
        "adapter": "drees_ecoles",
        "is_illustrative": True,
        "note": ILLUSTRATIVE_NOTE,
    },
})


def static(source_id: str) -> dict:
    """A fixed source's row for the `source` table."""
    return {"source_id": source_id, "is_illustrative": False, "scope": "published", "series": source_id,
            **STATIC[source_id]}


PROJECTION_SCENARIOS = {  # Insee « Projections de population 2021-2070 »: scenario → French name
    "central": "scénario central", "fec_haute": "fécondité haute", "fec_basse": "fécondité basse",
    "ev_haute": "espérance de vie haute", "ev_basse": "espérance de vie basse",
    "mig_haute": "migrations hautes", "mig_basse": "migrations basses",
}


def projection_source(scenario: str) -> dict:
    """The source row of one scenario of Insee's national projections (each scenario its own series)."""
    source_id = f"insee_proj_2021_{scenario}"
    return {"source_id": source_id, "is_illustrative": False, "scope": "published", "series": source_id,
            "producer": "Insee", "title": "Projections de population 2021-2070, France – "
            + PROJECTION_SCENARIOS.get(scenario, scenario.replace("_", " ")),
            "url": "https://www.insee.fr/fr/statistiques/5894093", "licence": LICENCE_OUVERTE, "vintage": "2021",
            "adapter": "insee_projections",
            "note": "Population au 1er janvier par âge ; 2021 : estimation (base de la projection) ; projection "
            "jusqu'en 2070, l'horizon publié par l'Insee."}
