"""What each page shows for a set of filters: pure functions from Filters to figures, texts and tables.

Dash callbacks only call these; tests call them too, without a browser, and compare with the store.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import text

from observatory import catalogue, figures, queries
from observatory.benchmarks import peer_band
from observatory.config import database_url
from observatory.urlstate import Filters


@dataclass(frozen=True)
class ExplorerPage:
    """An indicator explorer: a trend chart and a comparison chart over one theme's indicators."""

    path: str
    name: str
    intro: str
    indicators: tuple[str, ...]
    default: Filters
    compare: str  # professions | categories | diplomas
    sources: tuple[str, ...] = ()  # preferred sources, in order


RECRUTEMENT = ExplorerPage(
    "/recrutement", "Recrutement",
    "Projets de recrutement déclarés par les employeurs (enquête BMO de France Travail) : volumes, part jugée "
    "difficile, part saisonnière ; les métiers du social comparés à l'ensemble des métiers.",
    ("recruitment_difficulty_share", "recruitment_projects", "recruitment_projects_difficult",
     "recruitment_projects_seasonal"),
    Filters("recruitment_difficulty_share", profession="travail_social"), "professions", ("ft_bmo_2023",))
RESSOURCES_HUMAINES = ExplorerPage(
    "/ressources-humaines", "Ressources humaines",
    "Rotation, entrées et sorties, absentéisme et postes vacants des établissements médico-sociaux (tableau de "
    "bord de la performance ATIH/ANAP), par catégorie d'établissement et territoire, avec la bande des pairs.",
    ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate"),
    Filters("turnover_rate"), "categories", ("tdbms_illustrative", "tdbms_extract", "dares_mmo"))
FORMATION = ExplorerPage(
    "/formation", "Formation",
    "Étudiants inscrits, entrants en première année, diplômés et interruptions dans les formations sociales "
    "(enquête Écoles de la DREES), par diplôme.",
    ("students_enrolled", "first_year_entrants", "graduates", "training_interruptions",
     "training_interruption_rate", "graduates_per_entrant"),
    Filters("students_enrolled", profession="travail_social"), "diplomas",
    ("drees_ecoles_illustrative", "drees_ecoles_extract"))
EXPLORERS = {p.path: p for p in (RECRUTEMENT, RESSOURCES_HUMAINES, FORMATION)}


@dataclass
class View:
    filters: Filters  # as resolved: what the charts show, and what the URL records
    trend: go.Figure
    trend_summary: str
    trend_table: list[dict]
    compare: go.Figure
    compare_summary: str
    compare_table: list[dict]
    illustrative: bool
    periods: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    trend_frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    compare_frame: pd.DataFrame = field(default_factory=pd.DataFrame)


def source_for(page: ExplorerPage, indicator_id: str, wanted: str | None) -> str | None:
    available = queries.sources_for(indicator_id)
    if wanted in available:
        return wanted
    return next((s for s in page.sources if s in available), available[0] if available else None)


def resolve(page: ExplorerPage, filters: Filters) -> Filters:
    """Replace what the store cannot serve (unknown indicator, source, year) by the page's defaults."""
    indicator = filters.indicator if filters.indicator in page.indicators else page.default.indicator
    source = source_for(page, indicator, filters.source)
    periods = queries.periods_for(indicator, source) if source else ()
    period = filters.period if filters.period in periods else (periods[-1] if periods else None)
    dims = queries.dimensions()
    profession = filters.profession if filters.profession in dims.profession_key else page.default.profession
    territory = filters.territory if filters.territory in dims.territory_key else "FR"
    breakdown = filters.breakdown if (filters.breakdown or "").startswith("esms:") else None
    if source and profession != "ensemble" and queries.observations(
            indicator, source, professions=[profession], territories=[territory], breakdown=breakdown).empty:
        profession = "ensemble"  # e.g. TDBMS figures cover all staff of an establishment
    return replace(filters, indicator=indicator, source=source, period=period, profession=profession,
                   territory=territory, breakdown=breakdown)


def source_label(source_id: str) -> str:
    row = queries.source_row(source_id)
    if not row:
        return source_id
    label = f"{row['producer']} – {row['title']}"
    return label if len(label) < 90 else label[:87] + "…"


def labels(kind: str) -> dict[str, str]:
    return _labels(kind, database_url())


@lru_cache(maxsize=8)
def _labels(kind: str, url: str) -> dict[str, str]:
    dims = queries.dimensions(url)
    if kind == "profession":
        return dict(zip(dims.professions.profession_id, dims.professions.label))
    return dict(zip(dims.territories.territory_id, dims.territories.name))


def esms_labels() -> dict[str, str]:
    return dict(_esms_labels(database_url()))


@lru_cache(maxsize=4)
def _esms_labels(url: str) -> tuple[tuple[str, str], ...]:
    with queries.get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT code, label FROM esms_category ORDER BY code")).all()
    return tuple((f"esms:{code}", label) for code, label in rows)


def explorer_view(page: ExplorerPage, filters: Filters) -> View:
    """The trend and comparison charts of an explorer page for `filters`."""
    f = resolve(page, filters)
    source = queries.source_row(f.source) if f.source else {}
    profession_labels, territory_labels = labels("profession"), labels("territory")
    subject = f"{profession_labels.get(f.profession, f.profession)}, {territory_labels.get(f.territory, f.territory)}"
    if f.breakdown:
        subject += f", {esms_labels().get(f.breakdown, f.breakdown)}"
    compared = sorted({f.profession, "ensemble"}) if f.profession != "ensemble" else ["ensemble"]
    trend = queries.observations(f.indicator, f.source, professions=compared, territories=[f.territory],
                                 breakdown=f.breakdown) if f.source else pd.DataFrame(columns=queries.SERIES_COLUMNS)
    trend_fig = figures.time_series_figure(trend, "profession_id", profession_labels,
                                           figures.chart_title(f.indicator, _span(trend), source,
                                                               territory_labels.get(f.territory, f.territory)))
    compare_frame, compare_fig, compare_labels = _comparison(page, f, source, profession_labels, territory_labels)
    mine = trend[trend.profession_id == f.profession]
    names = {"profession": profession_labels, "territory": territory_labels}
    return View(
        f, trend_fig, figures.summary_sentence(f.indicator, subject, mine), figures.table_rows(trend, names),
        compare_fig, figures.comparison_sentence(f.indicator, compare_frame, compare_labels, f.period),
        figures.table_rows(compare_frame, names),
        figures.is_illustrative(trend) or figures.is_illustrative(compare_frame),
        queries.periods_for(f.indicator, f.source) if f.source else (), queries.sources_for(f.indicator),
        trend, compare_frame)


def _span(frame: pd.DataFrame) -> str:
    if frame.empty:
        return ""
    first, last = int(frame.period.min()), int(frame.period.max())
    return str(first) if first == last else f"{first}-{last}"


def _comparison(page: ExplorerPage, f: Filters, source: dict, profession_labels: dict, territory_labels: dict):
    where = territory_labels.get(f.territory, f.territory)
    if page.compare == "categories" and (f.source or "").startswith("tdbms"):
        frame = queries.observations(f.indicator, f.source, professions=["ensemble"], territories=[f.territory],
                                     period=f.period, breakdown=queries.ANY_BREAKDOWN) if f.source else \
            pd.DataFrame(columns=queries.SERIES_COLUMNS)
        frame = frame[frame["breakdown"].fillna("").str.startswith("esms:")]
        frame = frame.assign(category=frame["breakdown"])
        title = figures.chart_title(f.indicator, f.period, source, f"{where}, par catégorie d'établissement")
        figure = figures.bar_figure(frame, "category", esms_labels(), title)
        _add_peer_band(figure, f)
        names = esms_labels()
        return frame.drop(columns="category"), figure, {k: names.get(k, k) for k in frame["breakdown"]}
    if page.compare == "diplomas":
        leaves = [p for p in queries.social_professions() if p in _professions_with_data(f)]
        frame = queries.observations(f.indicator, f.source, professions=leaves, territories=[f.territory],
                                     period=f.period)
        frame = frame[frame.profession_id.isin(_leaves())]
        title = figures.chart_title(f.indicator, f.period, source, f"{where}, par formation")
    else:
        nodes = [p for p in [*queries.social_professions(), "ensemble"] if p in _professions_with_data(f)]
        frame = queries.observations(f.indicator, f.source, professions=nodes, territories=[f.territory],
                                     period=f.period)
        if page.compare == "professions":  # BMO: the professions, all social work and all occupations
            frame = frame[frame.profession_id.isin(_leaves() | {"travail_social", "ensemble"})]
        title = figures.chart_title(f.indicator, f.period, source, f"{where}, métiers du social et ensemble")
    figure = figures.bar_figure(frame, "profession_id", profession_labels, title,
                                highlight={"ensemble", "travail_social"})
    return frame, figure, profession_labels


def _leaves() -> set[str]:
    professions = queries.dimensions().professions
    return set(professions.loc[professions.level == "profession", "profession_id"])


def _professions_with_data(f: Filters) -> set[str]:
    frame = queries.observations(f.indicator, f.source, territories=[f.territory], period=f.period,
                                 breakdown=f.breakdown)
    return set(frame.profession_id)


def _add_peer_band(figure: go.Figure, f: Filters) -> None:
    """Median and quartiles of the establishments of each category within the territory (the peer band)."""
    if not (f.source or "").startswith("tdbms") or f.period is None:
        return
    values = queries.establishment_values(f.indicator, f.period)
    if f.territory.startswith("DEP-"):
        values = values[values.territory_id == f.territory]
    elif f.territory.startswith("REG-"):
        values = values[values.region_id == f.territory]
    labels = esms_labels()
    bands = []
    for code, part in values.groupby("esms_category"):
        band = peer_band(part["value"].tolist())
        if band.n:
            bands.append((labels.get(f"esms:{code}", code), band))
    if bands:
        figure.add_scatter(y=[b[0] for b in bands], x=[b[1].median for b in bands], mode="markers",
                           name="médiane des établissements",
                           marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#1f3b73"}},
                           error_x={"type": "data", "symmetric": False,
                                    "array": [b[1].q3 - b[1].median for b in bands],
                                    "arrayminus": [b[1].median - b[1].q1 for b in bands], "color": "#1f3b73"},
                           hovertemplate="%{y} : médiane %{x:.1f} (quartiles en barres d'erreur)<extra></extra>")
        figure.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.1})


def changes_since_last_vintage() -> list[dict]:
    """National figures of the tracked series: latest period, the one before, and the change."""
    from observatory.formatting import points, with_unit
    from observatory.key_figures import TRACKED

    rows = []
    for indicator_id, source_id in TRACKED:
        entry = catalogue.get(indicator_id)
        frame = queries.observations(indicator_id, source_id, professions=["ensemble"], territories=["FR"])
        frame = frame.dropna(subset=["value"]).sort_values("period")
        if frame.empty:
            continue
        last = frame.iloc[-1]
        previous = frame.iloc[-2] if len(frame) > 1 else None
        rows.append({
            "Indicateur": entry.label, "Source": source_label(source_id),
            "Dernière valeur": f"{with_unit(last.value, entry.unit, entry.decimals)} ({int(last.period)})",
            "Millésime précédent": (f"{with_unit(previous.value, entry.unit, entry.decimals)} ({int(previous.period)})"
                                    if previous is not None else "un seul millésime"),
            "Évolution": points(last.value - previous.value, entry.unit, entry.decimals) if previous is not None
            else "—",
            "Statut": figures.STATUS_LABELS.get(last.status, last.status) or "publié",
        })
    return rows


FAMILY_INDICATORS = (  # (indicator, source): figures published or rolled up by profession
    ("recruitment_difficulty_share", "ft_bmo_2023"), ("recruitment_projects", "ft_bmo_2023"),
    ("job_offers", "ft_tension_2021"), ("jobseekers_abc", "ft_tension_2021"),
    ("students_enrolled", "drees_ecoles_illustrative"), ("training_interruption_rate", "drees_ecoles_illustrative"),
    ("graduates_per_entrant", "drees_ecoles_illustrative"),
)


def families_matrix(territory: str = "FR") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Job families (the filières, all social work and all occupations) × indicators, latest year of each.

    Returns the values matrix and the long frame behind it (for the data table)."""
    professions = queries.dimensions().professions
    rows = ["ensemble", "travail_social", *professions.loc[professions.parent_id == "travail_social", "profession_id"]]
    names = dict(zip(professions.profession_id, professions.label))
    frames = []
    for indicator_id, source_id in FAMILY_INDICATORS:
        periods = queries.periods_for(indicator_id, source_id)
        if not periods:
            continue
        frames.append(queries.observations(indicator_id, source_id, professions=rows, territories=[territory],
                                           period=periods[-1]))
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=queries.SERIES_COLUMNS)
    matrix = long.pivot_table(index="profession_id", columns="indicator_id", values="value", aggfunc="first")
    matrix = matrix.reindex(index=[r for r in rows if r in matrix.index],
                            columns=[i for i, _ in FAMILY_INDICATORS if i in matrix.columns])
    matrix.index = [names[r] for r in matrix.index]
    matrix.columns = [f"{catalogue.get(c).label} ({int(long[long.indicator_id == c].period.max())})"
                      for c in matrix.columns]
    return matrix, long


MAX_UPLOAD_BYTES = 2_000_000
OWN_INDICATORS = ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate")


@dataclass
class OwnFiguresView:
    bands: pd.DataFrame  # label, indicator_id, finess, period, peer_period, value, n, q1, median, q3, rank
    messages: list[str]


def own_figures_view(content: bytes, file_name: str, level: str = "departement") -> OwnFiguresView:
    """An uploaded TDBMS extract or template, read (never stored) and set against its peers in the store."""
    import tempfile
    from pathlib import Path

    from etl.adapters import tdbms
    from etl.errors import LoadError
    from etl.reference import Reference
    from observatory.benchmarks import figures_from_store
    from observatory.store import get_engine

    empty = pd.DataFrame(columns=["label", "indicator_id", "finess", "period", "peer_period", "value", "n", "q1",
                                  "median", "q3", "rank"])
    if len(content) > MAX_UPLOAD_BYTES:
        return OwnFiguresView(empty, [f"Fichier trop volumineux ({len(content) / 1e6:.1f} Mo) : 2 Mo au plus."])
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return OwnFiguresView(empty, ["Format non accepté : un extrait TDBMS (.csv) ou le modèle (.xlsx)."])
    engine = get_engine()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            with engine.connect() as conn:
                parsed = tdbms.parse(path, Reference.from_store(conn))
        except LoadError as error:
            return OwnFiguresView(empty, [f"Fichier illisible : {error.problem}"
                                          + (f" (attendu : {error.expected})" if error.expected else "")])
    messages = [f"{parsed.rows_loaded} ligne(s) lue(s), {parsed.rows_read - parsed.rows_loaded} écartée(s)."]
    messages += [f"Ligne {r.row_number}, colonne « {r.column_name} » : {r.reason}."
                 for r in parsed.rejections.head(5).itertuples()]
    names = dict(zip(parsed.establishments.finess, parsed.establishments.name))
    place = parsed.establishments.set_index("finess")
    rows = []
    for unit in parsed.units.itertuples():
        available = queries.periods_for(unit.indicator_id, "tdbms_illustrative") or queries.periods_for(
            unit.indicator_id, "tdbms_extract")
        peer_period = max([p for p in available if p <= unit.period] or list(available) or [unit.period])
        establishment = place.loc[unit.finess]
        band = figures_from_store(engine, unit.indicator_id, int(peer_period), establishment.esms_category,
                                  establishment.territory_id, None if pd.isna(unit.value) else float(unit.value),
                                  level, exclude_finess=unit.finess)
        rows.append({"label": f"{names.get(unit.finess) or unit.finess} – {catalogue.get(unit.indicator_id).label}",
                     "indicator_id": unit.indicator_id, "finess": unit.finess, "period": int(unit.period),
                     "peer_period": int(peer_period), "value": band.value, "n": band.n, "q1": band.q1,
                     "median": band.median, "q3": band.q3, "rank": band.percentile_rank})
    bands = pd.DataFrame(rows, columns=empty.columns)
    if len(bands) and (bands.period != bands.peer_period).any():
        messages.append("Pas de données de pairs pour l'année de votre fichier : comparaison avec la dernière année "
                        "disponible.")
    if len(bands) and (bands.n < 5).any():
        messages.append("Moins de 5 établissements comparables pour certains indicateurs : élargissez le niveau "
                        "de comparaison (région ou France).")
    return OwnFiguresView(bands, messages)


def view_frame(view: View) -> pd.DataFrame:
    """The rows behind a view's charts (trend and comparison), once each."""
    frame = pd.concat([view.trend_frame, view.compare_frame], ignore_index=True)
    return frame.drop_duplicates(subset=["indicator_id", "profession_id", "territory_id", "breakdown", "period",
                                         "source_id"], ignore_index=True)


def filters_dict(filters: Filters) -> dict:
    """Filters as the export metadata lists them."""
    return {k: [v] for k, v in filters.__dict__.items() if v not in (None, "")}
