"""Illustrative data: raw files in the TDBMS and DREES « Écoles » layouts, calibrated on published figures.

Deterministic (fixed seed, fixed file metadata): regenerating gives byte-identical files. Everything here
is synthetic; the loader files it under sources flagged `is_illustrative` with status `illustrative`,
and the screens label it « données fictives calibrées ».

Calibration (domain reference §4-§5): TDBMS national turnover 19.4 % (2018) → 24.8 % (2022) → 24.4 %
(2023); vacancy 2.1 % (2017) → 4.5 % (2023) with a step in 2021; absenteeism 11.5 % (2019), 13 % (2020),
back to about 11.5 % (2023); category, Île-de-France and Guyane patterns. Training: about 57,300 students
enrolled and 20,676 graduates in 2023, diploma shares ES 26 %, AES 17 %, ASS 12 %.

    python -m etl illustrative        # rewrites data/illustrative/ and data/templates/
    python -m etl illustrative --establishments 30000 --output /tmp/big   # a larger set elsewhere (benches)
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from observatory.config import DATA_DIR, REFERENCE_DIR

OUT = DATA_DIR / "illustrative"
SEED = 20231231
TDBMS_YEARS = range(2017, 2024)
ECOLES_YEARS = range(2017, 2025)
FIXED_TIME = datetime(2024, 12, 31, 12, 0, 0)

# National targets (ratio of sums over every establishment).
TURNOVER = {2017: 19.0, 2018: 19.4, 2019: 20.4, 2020: 20.0, 2021: 22.5, 2022: 24.8, 2023: 24.4}
VACANCY = {2017: 2.1, 2018: 2.3, 2019: 2.5, 2020: 2.7, 2021: 3.6, 2022: 4.2, 2023: 4.5}
ABSENTEEISM = {2017: 10.8, 2018: 11.1, 2019: 11.5, 2020: 13.0, 2021: 12.4, 2022: 12.0, 2023: 11.5}
# Shape by ESMS profile (2023 levels): turnover, vacancy, absenteeism, persons per establishment, weight.
PROFILES = {
    "ehpad": (25.5, 4.1, 11.4, 62, 0.42),
    "ph_adultes": (35.0, 4.5, 11.8, 55, 0.13),
    "esat": (20.0, 2.3, 8.5, 30, 0.07),
    "ph_enfants": (22.0, 4.0, 11.8, 48, 0.12),
    "ssiad": (20.0, 5.0, 9.7, 24, 0.12),
    "ph_services": (15.0, 5.0, 9.4, 16, 0.14),
}
ABSENCE_REASONS = {
    "maladie ordinaire / de courte durée": 0.45, "maladie de moyenne durée": 0.15,
    "maladie de longue durée": 0.15, "maternité / paternité": 0.08,
    "accident du travail / maladie professionnelle": 0.12, "congés spéciaux dont sans solde": 0.05,
}
TDBMS_HEADER = [
    "Année", "N° FINESS ET", "Raison sociale ET", "Catégorie ESMS", "Département",
    "Nombre de recrutements sur l'année (CDI et titulaires)", "Nombre de départs sur l'année (CDI et titulaires)",
    "Effectif réel en personnes au 31/12 de l'année N-1", "Nombre d'ETP réels au 31/12",
    *[f"Nombre de jours d'absence pour {reason}" for reason in ABSENCE_REASONS],
    "Nombre d'ETP budgétés au 31/12", "Nombre d'ETP réalisés au 31/12",
]

# Training (DREES « Écoles »): diploma shares of students enrolled, total enrolled and graduates.
DIPLOMA_SHARES = {
    "DEES": 26.3, "DEAES": 17.2, "DEASS": 11.9, "DEME": 10.0, "DEEJE": 9.0, "DECESF": 4.5, "CAFERUIS": 4.5,
    "CNC_MJPM_DPF": 3.5, "DEETS": 3.0, "DEAF": 3.0, "DETISF": 2.5, "CAFDES": 2.2, "DEIS": 1.2, "DEMF": 1.2,
}
ENROLLED = {2017: 61500, 2018: 60800, 2019: 59900, 2020: 59200, 2021: 58500, 2022: 58100, 2023: 57300,
            2024: 57200}
GRADUATES = {2017: 21900, 2018: 21600, 2019: 21400, 2020: 24800, 2021: 20300, 2022: 21300, 2023: 20676,
             2024: 20500}
ENTRANT_SHARE = {1: 0.8, 2: 0.52, 3: 0.36}  # first-year entrants / enrolled, by course length
INTERRUPTION = {2021: 8.0}  # definitive interruptions per 100 enrolled (7 otherwise)
MIN_ESTABLISHMENTS = 200  # room for every département and every ESMS category


def _reference() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    deps = pd.read_csv(REFERENCE_DIR / "insee_cog2020_departement.csv", dtype=str)
    population = pd.read_csv(REFERENCE_DIR / "insee_populations_legales_departements.csv", sep=";", dtype=str)
    deps = deps.merge(population[["DEP", "PTOT"]], left_on="dep", right_on="DEP", how="left")
    deps["population"] = pd.to_numeric(deps["PTOT"]).fillna(300_000)  # Mayotte is absent from the file
    esms = pd.read_csv(REFERENCE_DIR / "esms_categories.csv", dtype=str)
    regions = deps.groupby("reg", as_index=False)["population"].sum()
    diplomas = pd.read_csv(REFERENCE_DIR / "diplomas.csv", dtype={"code": str})
    return deps, esms, regions, diplomas


def per_departement(deps: pd.DataFrame, total: int | None) -> list[int]:
    """Establishments per département: by default one per 56,000 inhabitants, at least 4 (1,256 in all);
    `total`: exactly that many, by population (largest remainders), at least 1 each."""
    if total is None:
        return [max(4, int(round(population / 56_000))) for population in deps.population]
    if total < MIN_ESTABLISHMENTS:
        raise ValueError(f"at least {MIN_ESTABLISHMENTS} establishments (every département and ESMS category)")
    share = deps.population.to_numpy(float) / deps.population.sum() * (total - len(deps))
    counts = 1 + np.floor(share).astype(int)
    remainders = share - np.floor(share)
    for i in np.argsort(-remainders, kind="stable")[:total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def establishments(rng: np.random.Generator, deps: pd.DataFrame, esms: pd.DataFrame,
                   total: int | None = None) -> pd.DataFrame:
    """About 1,200 establishments, by département population, every département at least 4 (or `total`)."""
    rows = []
    profile_weights = np.array([PROFILES[p][4] for p in PROFILES])
    for dep, count in zip(deps.itertuples(), per_departement(deps, total)):
        for i in range(count):
            profile = list(PROFILES)[rng.choice(len(PROFILES), p=profile_weights / profile_weights.sum())]
            codes = esms.loc[esms.profile == profile, "code"].tolist()
            code = codes[rng.integers(len(codes))]
            prefix = dep.dep if len(dep.dep) == 3 else dep.dep + "0"
            finess = f"{prefix}{i + 1:06d}"[:9].ljust(9, "0")
            rows.append({"finess": finess, "dep": dep.dep, "reg": dep.reg, "category": code, "profile": profile,
                         "kind": esms.loc[esms.code == code, "kind"].iloc[0],
                         "name": f"Établissement fictif {finess}",
                         "size": max(3, rng.normal(PROFILES[profile][3], PROFILES[profile][3] * 0.35))})
    # Every one of the 20 categories at least once.
    frame = pd.DataFrame(rows)
    missing = [c for c in esms.code if c not in set(frame.category)]
    for k, code in enumerate(missing):
        frame.loc[k * 7, "category"] = code
        frame.loc[k * 7, "profile"] = esms.loc[esms.code == code, "profile"].iloc[0]
        frame.loc[k * 7, "kind"] = esms.loc[esms.code == code, "kind"].iloc[0]
    return frame


def tdbms_year(rng: np.random.Generator, units: pd.DataFrame, year: int) -> pd.DataFrame:
    """One year of raw TDBMS inputs, rescaled so that the national ratios of sums hit the targets."""
    n = len(units)
    turnover_shape = np.array([PROFILES[p][0] for p in units.profile]) * rng.lognormal(0, 0.25, n)
    vacancy_shape = np.array([PROFILES[p][1] for p in units.profile]) * rng.lognormal(0, 0.35, n)
    idf = (units.reg == "11").to_numpy()
    vacancy_shape *= np.where(idf, np.where(units.kind == "service", 2.6, 1.6), 1.0)
    absence_shape = np.array([PROFILES[p][2] for p in units.profile]) * rng.lognormal(0, 0.2, n)
    headcount = np.round(units["size"].to_numpy() * (1 + 0.01 * (year - 2017)) * rng.lognormal(0, 0.05, n))
    etp_real = np.round(headcount * rng.uniform(0.78, 0.92, n), 1)

    turnover = turnover_shape * TURNOVER[year] / (turnover_shape * headcount).sum() * headcount.sum()
    split = rng.uniform(-0.12, 0.12, n)
    recruitments = np.round(turnover / 100 * headcount * (1 + split))
    departures = np.round(turnover / 100 * headcount * (1 - split))
    absence = absence_shape * ABSENTEEISM[year] / (absence_shape * etp_real).sum() * etp_real.sum()
    days = absence / 100 * etp_real * 365
    guyane = (units.dep == "973").to_numpy()
    vacancy = np.where(guyane, 22.0, vacancy_shape)
    budget = np.round(etp_real / np.clip(1 - vacancy / 100, 0.5, 1), 1)
    # Rescale the non-Guyane vacancy so that the national ratio of sums is the target.
    wanted = VACANCY[year] / 100 * budget.sum()
    guyane_vacant = (budget * vacancy / 100)[guyane].sum()
    other = (budget * vacancy / 100)[~guyane].sum()
    vacancy = np.where(guyane, vacancy, vacancy * (wanted - guyane_vacant) / other)
    done = np.round(budget * (1 - vacancy / 100), 1)
    frame = pd.DataFrame({
        "Année": year, "N° FINESS ET": units.finess, "Raison sociale ET": units.name,
        "Catégorie ESMS": units.category, "Département": units.dep,
        TDBMS_HEADER[5]: recruitments.astype(int), TDBMS_HEADER[6]: departures.astype(int),
        TDBMS_HEADER[7]: headcount.astype(int), TDBMS_HEADER[8]: etp_real,
    })
    for reason, share in ABSENCE_REASONS.items():
        frame[f"Nombre de jours d'absence pour {reason}"] = np.round(days * share).astype(int)
    frame[TDBMS_HEADER[-2]] = budget
    frame[TDBMS_HEADER[-1]] = done
    return frame[TDBMS_HEADER]


def write_tdbms(frame: pd.DataFrame, path: Path, *, old_layout: bool) -> None:
    """Older vintages: latin-1, decimal commas, FINESS without its leading zero; newer: UTF-8, points."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TDBMS_HEADER)
    for row in frame.itertuples(index=False):
        cells = []
        for name, value in zip(TDBMS_HEADER, row):
            if name == "N° FINESS ET" and old_layout and value.isdigit():
                value = str(int(value))
            if isinstance(value, float):
                value = f"{value:.1f}".replace(".", ",") if old_layout else f"{value:.1f}"
            cells.append(value)
        writer.writerow(cells)
    path.write_bytes(out.getvalue().encode("latin-1" if old_layout else "utf-8"))


def ecoles_tables(rng: np.random.Generator, regions: pd.DataFrame,
                  diplomas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Enrolled, first-year entrants, graduates and interruptions by diploma × région × year."""
    duration = dict(zip(diplomas.code, diplomas.duration_years))
    weights = regions.set_index("reg")["population"]
    noise = pd.DataFrame(rng.lognormal(0, 0.12, (len(DIPLOMA_SHARES), len(weights))),
                         index=list(DIPLOMA_SHARES), columns=weights.index)
    tables = {k: [] for k in ("inscrits", "entrants", "diplomes", "interruptions")}
    entrants_by_year = {}
    for year in ECOLES_YEARS:
        trend = {d: 1 + 0.01 * (year - 2023) * (-1 if d == "DEAES" else 0.5) for d in DIPLOMA_SHARES}
        enrolled = {d: ENROLLED[year] * DIPLOMA_SHARES[d] / 100 * trend[d] for d in DIPLOMA_SHARES}
        scale = ENROLLED[year] / sum(enrolled.values())
        entrants_by_year[year] = {}
        for diploma, total in enrolled.items():
            split = weights * noise.loc[diploma]
            split = split / split.sum() * total * scale
            entrants = split * ENTRANT_SHARE[duration[diploma]] * rng.uniform(0.95, 1.05)
            entrants_by_year[year][diploma] = entrants
            interruptions = split * INTERRUPTION.get(year, 7.0) / 100
            tables["inscrits"].append((year, diploma, split))
            tables["entrants"].append((year, diploma, entrants))
            tables["interruptions"].append((year, diploma, interruptions))
    for year in ECOLES_YEARS:
        raw = {}
        for diploma in DIPLOMA_SHARES:
            cohort = year - duration[diploma] + 1
            base = entrants_by_year.get(cohort, entrants_by_year[min(ECOLES_YEARS)])[diploma]
            raw[diploma] = base * 0.8
        scale = GRADUATES[year] / sum(v.sum() for v in raw.values())
        for diploma, values in raw.items():
            tables["diplomes"].append((year, diploma, values * scale))
    frames = {}
    for name, rows in tables.items():
        records = [{"year": y, "diploma": d, "reg": r, "value": int(round(v))}
                   for y, d, series in rows for r, v in series.items()]
        frames[name] = pd.DataFrame(records)
    return frames


TITLES = {
    "inscrits": "Tableau 1 – Étudiants inscrits en formation aux professions sociales, par diplôme et région",
    "entrants": "Tableau 2 – Étudiants entrés en première année, par diplôme et région",
    "diplomes": "Tableau 3 – Diplômés (hors VAE et allègements), par diplôme et région",
    "interruptions": "Tableau 4 – Interruptions définitives de formation, par diplôme et région",
}


def write_ecoles(frames: dict[str, pd.DataFrame], diplomas: pd.DataFrame, path: Path) -> None:
    """DREES layout: metadata rows, two header rows (a group row, then codes and years), nd cells, notes."""
    labels = dict(zip(diplomas.code, diplomas.label))
    region_names = pd.read_csv(REFERENCE_DIR / "insee_cog2020_region.csv", dtype=str).set_index("reg")["libelle"]
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "Sommaire"
    summary.append(["Formations aux professions sociales – DONNÉES FICTIVES CALIBRÉES (illustratives)"])
    for i, title in enumerate(TITLES.values(), start=1):
        summary.append([f"T{i}", title])
    years = list(ECOLES_YEARS)
    for i, (name, frame) in enumerate(frames.items(), start=1):
        sheet = book.create_sheet(f"T{i}")
        sheet.append([TITLES[name]])
        sheet.append(["Retour au sommaire"])
        sheet.append([])
        sheet.append(["Diplôme", None, "Région", None, "Effectifs"] + [None] * (len(years) - 1))
        sheet.append(["Code", "Libellé", "Code", "Libellé"]
                     + [f"{y} (p)" if y == max(years) else str(y) for y in years])
        wide = frame.pivot_table(index=["diploma", "reg"], columns="year", values="value", aggfunc="sum")
        for (diploma, reg), values in wide.iterrows():
            cells = [int(values[y]) if values[y] >= 5 else "nd" for y in years]  # secret below 5
            sheet.append([diploma, labels[diploma], reg, region_names[reg], *cells])
        sheet.append([])
        sheet.append(["Source : DREES, enquête Écoles – DONNÉES FICTIVES CALIBRÉES produites par l'observatoire."])
        sheet.append(["Champ : France entière (hors Mayotte pour les diplômes non dispensés). nd : non diffusable."])
        sheet.append(["Note : (p) provisoire."])
    book.properties.creator = "observatoire"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite an XLSX with fixed member dates so that the same content gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>2024-12-31T12:00:00Z\g<2>", content)
            target.writestr(info, content)
    return out.getvalue()


TEMPLATE_HELP = [
    ("Année", "Année des mouvements (les effectifs sont ceux du 31/12 de l'année précédente)."),
    ("N° FINESS ET", "Numéro FINESS de l'établissement (9 caractères ; les zéros initiaux peuvent manquer)."),
    ("Raison sociale ET", "Nom de l'établissement (facultatif)."),
    ("Catégorie ESMS", "Code de catégorie FINESS parmi les 20 du tableau de bord : voir la feuille « Catégories »."),
    ("Département", "Code INSEE du département (01, 2A, 974…)."),
    ("Recrutements, départs", "Personnel permanent (CDI et titulaires) recruté et parti dans l'année."),
    ("Effectif réel en personnes", "Personnel permanent au 31/12 de l'année N-1, en personnes physiques."),
    ("Jours d'absence", "Jours calendaires par motif (hors congés payés et formation)."),
    ("ETP budgétés / réalisés", "Au 31/12 ; les ETP vacants sont la différence."),
]


CATEGORY_COLUMN = TDBMS_HEADER.index("Catégorie ESMS") + 1
TEMPLATE_ROWS = 1000  # rows of « Données » whose category is picked from the list


def _category_list(data, count: int) -> None:
    """The category column as a drop-down list of every ESMS code (a range of the « Catégories » sheet: the
    codes joined would pass Excel's 255-character limit on a literal list), so a typo cannot be entered."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    column = get_column_letter(CATEGORY_COLUMN)
    check = DataValidation(type="list", formula1=f"'Catégories'!$A$2:$A${count + 1}", allow_blank=True,
                           showDropDown=False, showErrorMessage=True, errorTitle="Catégorie ESMS",
                           error="Choisissez un code de la liste (feuille « Catégories »).",
                           promptTitle="Catégorie ESMS", prompt="Code FINESS de la catégorie : voir « Catégories ».")
    check.showInputMessage = True
    check.add(f"{column}2:{column}{TEMPLATE_ROWS + 1}")
    data.add_data_validation(check)


def write_template(path: Path, example: pd.DataFrame | None = None) -> None:
    """The XLSX an HR director fills in: the TDBMS columns on a « Données » sheet, help on « Aide »."""
    book = openpyxl.Workbook()
    data = book.active
    data.title = "Données"
    data.append(TDBMS_HEADER)
    for row in ([] if example is None else example.itertuples(index=False)):
        data.append([v.item() if hasattr(v, "item") else v for v in row])
    for column in data.columns:
        data.column_dimensions[column[0].column_letter].width = 22
    help_sheet = book.create_sheet("Aide")
    help_sheet.append(["Colonne", "Ce qu'elle contient"])
    for name, text in TEMPLATE_HELP:
        help_sheet.append([name, text])
    help_sheet.append([])
    help_sheet.append(["Déposer le fichier sur la page « Mon établissement » de l'observatoire (rien n'est conservé "
                       "sans votre demande ; un lien privé permet d'y revenir et de supprimer vos données)."])
    help_sheet.append(["En ligne de commande : python -m etl load FICHIER.xlsx --source tdbms (périmètre privé)."])
    categories = book.create_sheet("Catégories")
    categories.append(["Code", "Catégorie d'établissement ou de service (ESMS)"])
    esms = pd.read_csv(REFERENCE_DIR / "esms_categories.csv", dtype=str)
    for code, label in zip(esms.iloc[:, 0], esms.iloc[:, 1]):
        categories.append([code, label])
    categories.column_dimensions["A"].width = 8
    categories.column_dimensions["B"].width = 80
    _category_list(data, len(esms))
    book.properties.creator = "observatoire"
    book.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def generate(out: Path = OUT, templates: Path | None = None, establishments_count: int | None = None) -> list[Path]:
    """Write every illustrative file under `out` and the XLSX templates (`data/templates/` by default,
    `out/templates` when writing elsewhere); returns their paths. `establishments_count`: that many
    establishments instead of the bundled 1,256 (same layouts, deterministic for a given count: a scale bench)."""
    rng = np.random.default_rng(SEED)
    deps, esms, regions, diplomas = _reference()
    (out / "tdbms").mkdir(parents=True, exist_ok=True)
    units = establishments(rng, deps, esms, establishments_count)
    written = []
    for year in TDBMS_YEARS:
        path = out / "tdbms" / f"ANN_MS_TDP_ET_{year}.csv"
        write_tdbms(tdbms_year(rng, units, year), path, old_layout=year <= 2019)
        written.append(path)
    path = out / "drees_ecoles" / "formations_sociales_2017_2024.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_ecoles(ecoles_tables(rng, regions, diplomas), diplomas, path)
    written.append(path)
    templates = templates or (DATA_DIR / "templates" if out == OUT else out / "templates")
    templates.mkdir(parents=True, exist_ok=True)
    write_template(templates / "modele_tdbms_etablissement.xlsx")
    mine = units.iloc[:3].assign(  # FINESS numbers of their own, so that loading the example adds them
        finess=[f"{u.finess[:3]}99900{i}" for i, u in enumerate(units.iloc[:3].itertuples(), start=1)],
        name=["Mon établissement 1 (exemple)", "Mon établissement 2 (exemple)", "Mon établissement 3 (exemple)"])
    example = tdbms_year(np.random.default_rng(SEED + 1), mine, 2023)
    write_template(templates / "exemple_mon_etablissement.xlsx", example)
    written += [templates / "modele_tdbms_etablissement.xlsx", templates / "exemple_mon_etablissement.xlsx"]
    return written
