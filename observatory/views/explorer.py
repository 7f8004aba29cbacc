"""What an indicator explorer page (recrutement, ressources humaines, formation) shows for a set of filters:
the resolved filters, the trend and comparison charts, their sentences and « voir les données » tables."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
import plotly.graph_objects as go

from observatory import benchmarks, catalogue, figures, queries, sources
from observatory.benchmarks import peer_band
from observatory.formatting import number
from observatory.store import Store
from observatory.urlstate import Filters
from observatory.views.names import esms_labels, labels, population_labels, source_short, table_rows


@dataclass(frozen=True)
class ExplorerPage:
    """An indicator explorer: a trend chart and a comparison chart over one theme's indicators.

    Which indicators it shows comes from the catalogue (`catalogue.PAGES`); which series, sources and
    periods exist comes from the store, and the page opens on the latest period."""

    path: str
    name: str
    intro: str
    default: Filters
    compare: str  # professions | categories | diplomas

    @property
    def indicators(self) -> tuple[str, ...]:
        return catalogue.PAGES[self.path.strip("/")]


RECRUTEMENT = ExplorerPage(
    "/recrutement", "Recrutement",
    "Projets de recrutement déclarés par les employeurs (enquête BMO de France Travail), tous les millésimes "
    "publiés : volumes, part jugée difficile, part saisonnière ; les métiers du social comparés à l'ensemble des "
    "métiers. Les ruptures de série sont signalées sur les courbes.",
    Filters(catalogue.PAGES["recrutement"][0], profession="travail_social"), "professions")


RESSOURCES_HUMAINES = ExplorerPage(
    "/ressources-humaines", "Ressources humaines",
    "Rotation, entrées et sorties, absentéisme et postes vacants du personnel permanent des établissements "
    "médico-sociaux (tableau de bord de la performance ATIH/ANAP), par catégorie d'établissement et territoire, "
    "avec la bande des pairs ; et, à part, les taux de mouvements de main-d'œuvre tous contrats de la DARES.",
    Filters(catalogue.PAGES["ressources-humaines"][0]), "categories")


FORMATION = ExplorerPage(
    "/formation", "Formation",
    "Étudiants inscrits, entrants en première année, diplômés et interruptions dans les formations sociales "
    "(enquête Écoles de la DREES), par diplôme.",
    Filters(catalogue.PAGES["formation"][0], profession="travail_social"), "diplomas")


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
    coverage: str = ""  # « Pas de données BMO pour … ; ce métier est compté dans … » (empty when published)
    counted_in: str | None = None  # the published profession that counts the chosen one, when known


def source_for(store: Store, indicator_id: str, wanted: str | None) -> str | None:
    """The series asked for when the store holds it for the indicator, else the store's preferred one."""
    available = queries.sources_for(store, indicator_id)
    if wanted in available:
        return wanted
    return available[0] if available else None


def resolve(store: Store, page: ExplorerPage, filters: Filters) -> Filters:
    """Replace what the store cannot serve (unknown indicator, source, year) by the page's defaults."""
    indicator = filters.indicator if filters.indicator in page.indicators else page.default.indicator
    source = source_for(store, indicator, filters.source)
    periods = queries.periods_for(store, indicator, source) if source else ()
    period = filters.period if filters.period in periods else (periods[-1] if periods else None)
    dims = queries.dimensions(store)
    profession = filters.profession if filters.profession in dims.profession_key else page.default.profession
    territory = filters.territory if filters.territory in dims.territory_key else "FR"
    breakdown = filters.breakdown if (filters.breakdown or "").startswith("esms:") else None
    # A profession the source does not publish stays chosen (dropdown, URL): `coverage` says so on screen.
    return replace(filters, indicator=indicator, source=source, period=period, profession=profession,
                   territory=territory, breakdown=breakdown)


def counted_in(store: Store, f: Filters) -> str | None:
    """The published profession whose figures include `f.profession` in the series shown: the series' own
    crosswalk (`sources.COUNTED_IN`), else the root when the series publishes only the root (TDBMS: every
    professional of an establishment); None when unknown or when that profession has no figures either."""
    series = queries.source_row(store, f.source).get("series") or f.source
    candidate = sources.COUNTED_IN.get(series, {}).get(f.profession)
    if candidate is None:
        published = set(queries.observations(store, f.indicator, f.source, territories=[f.territory],
                                             period=f.period).profession_id)
        candidate = "ensemble" if published == {"ensemble"} else None
    if candidate is None or queries.observations(store, f.indicator, f.source, professions=[candidate],
                                                 territories=[f.territory]).empty:
        return None
    return candidate


def coverage(store: Store, f: Filters, names: dict[str, str]) -> tuple[str, str | None]:
    """When the source publishes nothing for the chosen profession: the sentence that says so, and the
    profession that counts it (kept out of sight before: the page silently showed the root instead)."""
    if not f.source or f.profession == "ensemble" or not queries.observations(store,
            f.indicator, f.source, professions=[f.profession], territories=[f.territory],
            breakdown=f.breakdown).empty:
        return "", None
    short, chosen = source_short(store, f.source), names.get(f.profession, f.profession)
    where = labels(store, "territory").get(f.territory, f.territory)
    anywhere = not queries.observations(store, f.indicator, f.source, professions=[f.profession]).empty
    head = (f"Pas de données {short} pour « {chosen} » ({where})" if anywhere
            else f"Pas de données {short} pour « {chosen} »")
    counted = None if anywhere else counted_in(store, f)
    if counted is None:
        return head + " : la source ne publie pas ce métier à part.", None
    return f"{head} ; ce métier est compté dans « {names.get(counted, counted)} ».", counted


def explorer_view(store: Store, page: ExplorerPage, filters: Filters) -> View:
    """The trend and comparison charts of an explorer page for `filters`."""
    f = resolve(store, page, filters)
    source = queries.source_row(store, f.source) if f.source else {}
    profession_labels, territory_labels = population_labels(store, f.indicator), labels(store, "territory")
    note, counted = coverage(store, f, profession_labels)
    shown = counted or f.profession  # the line drawn: the profession, or the one that counts it
    subject = f"{profession_labels.get(shown, shown)}, {territory_labels.get(f.territory, f.territory)}"
    if f.breakdown:
        subject += f", {esms_labels(store).get(f.breakdown, f.breakdown)}"
    places = compared_territories(store, f)
    compared = sorted({shown, "ensemble"}) if shown != "ensemble" else ["ensemble"]
    if len(places) > 1:  # « Comparer avec »: one line per territory, the same population
        compared = [shown]
    trend = queries.observations(store, f.indicator, f.source, professions=compared, territories=places,
                                 breakdown=f.breakdown) if f.source else pd.DataFrame(columns=queries.SERIES_COLUMNS)
    if len(places) > 1:
        trend = trend.assign(_order=trend.territory_id.map(places.index)).sort_values(
            ["_order", "period"], kind="stable").drop(columns="_order").reset_index(drop=True)
        where = " / ".join(territory_labels.get(t, t) for t in places)
        if f.breakdown:
            where += f", {esms_labels(store).get(f.breakdown, f.breakdown)}"
        trend_fig = figures.time_series_figure(
            trend, "territory_id", territory_labels,
            figures.chart_title(f.indicator, _span(trend), source,
                                f"{profession_labels.get(shown, shown)}, {where}"))
    else:
        trend_fig = figures.time_series_figure(trend, "profession_id", profession_labels,
                                               figures.chart_title(f.indicator, _span(trend), source,
                                                                   territory_labels.get(f.territory, f.territory)))
    period_source = _period_source(store, f) or source
    vintage_names = vintage_profession_labels(store, f, source, profession_labels)
    compare_frame, compare_fig, compare_labels, bands = _comparison(store, page, f, period_source, vintage_names,
                                                                    territory_labels)
    mine = trend[(trend.profession_id == shown) & (trend.territory_id == f.territory)]
    trend_summary = figures.summary_sentence(f.indicator, subject, mine)
    if note:
        trend_summary = f"{note} {trend_summary}"
    if len(places) > 1:
        trend_summary += " " + _territories_sentence(f.indicator, trend, places, territory_labels)
    compare_summary = figures.comparison_sentence(f.indicator, compare_frame, compare_labels, f.period)
    compare_table = table_rows(store, compare_frame)
    if bands is not None:
        compare_summary += _category_sentence(f, bands, territory_labels)
        compare_table = _category_table(compare_frame, compare_table, bands)
    return View(
        f, trend_fig, trend_summary, table_rows(store, trend),
        compare_fig, compare_summary, compare_table,
        figures.is_illustrative(trend) or figures.is_illustrative(compare_frame),
        queries.periods_for(store, f.indicator, f.source) if f.source else (), queries.sources_for(store, f.indicator),
        trend, compare_frame, note, counted)


def vintage_profession_labels(store: Store, f: Filters, source: dict, names: dict[str, str]) -> dict[str, str]:
    """Names for the comparison of one period: the observatory's own label for its social professions and roots
    (one name in dropdown, charts and tables: « Éducateurs spécialisés », never the file's « Educateurs
    spécialisés » beside it); an occupation the file itself defines keeps the name its vintage gave it."""
    if not f.source or not f.period:
        return names
    professions = queries.dimensions(store).professions
    named_by_file = set(professions.loc[professions.parent_id == "autres_metiers", "profession_id"])
    vintage = queries.vintage_labels(store, source.get("series") or f.source, f.period)
    return {**names, **{p: label for p, label in vintage.items() if p in named_by_file}}


def _period_source(store: Store, f: Filters) -> dict:
    """The source (vintage) of the figures shown for one period: the comparison chart quotes it."""
    if not f.source or f.period is None:
        return {}
    frame = queries.observations(store, f.indicator, f.source, territories=[f.territory], period=f.period,
                                 breakdown=f.breakdown)
    return queries.source_row(store, frame.source_id.iloc[0]) if len(frame) else {}


def _span(frame: pd.DataFrame) -> str:
    if frame.empty:
        return ""
    first, last = int(frame.period.min()), int(frame.period.max())
    return str(first) if first == last else f"{first}-{last}"


def _comparison(store: Store, page: ExplorerPage, f: Filters, source: dict, profession_labels: dict,
                territory_labels: dict):
    where = territory_labels.get(f.territory, f.territory)
    by_category = queries.observations(store, f.indicator, f.source, professions=["ensemble"],
                                       territories=[f.territory], period=f.period, breakdown=queries.ANY_BREAKDOWN) \
        if f.source and page.compare == "categories" else pd.DataFrame(columns=queries.SERIES_COLUMNS)
    by_category = by_category[by_category["breakdown"].fillna("").str.startswith("esms:")]
    if len(by_category):  # figures published by category of establishment (TDBMS), with the peer bands
        names = esms_labels(store)
        frame = by_category.sort_values("value", ascending=False, na_position="last", kind="stable")
        bands = _category_bands(store, f, frame, names)  # small categories come secret from the store (secrecy.py)
        entry = catalogue.get(f.indicator)
        title = (figures.chart_title(f.indicator, f.period, source, f"{where}, par catégorie d'établissement")
                 + f"<br><sup>Barres : {where} ; trait et bande : médiane et quartiles des établissements de la "
                   f"catégorie (pas sous {benchmarks.MIN_PEERS} établissements)</sup>")
        figure = figures.band_figure(bands, title, entry.unit, entry.decimals, value_name=where, value_as="bar",
                                     highlight={f.breakdown} if f.breakdown else None, label_width=26)
        figure.update_layout(margin={"t": 110})
        figures._mark_illustrative(figure, frame)
        return frame.reset_index(drop=True), figure, {k: names.get(k, k) for k in frame["breakdown"]}, bands
    if page.compare == "diplomas":
        present = _professions_with_data(store, f)
        leaves = [p for p in queries.social_professions(store) if p in present]
        frame = queries.observations(store, f.indicator, f.source, professions=leaves, territories=[f.territory],
                                     period=f.period)
        frame = frame[frame.profession_id.isin(_leaves(store))]
        title = figures.chart_title(f.indicator, f.period, source, f"{where}, par formation")
    else:
        present = _professions_with_data(store, f)
        nodes = [p for p in [*queries.social_professions(store), "ensemble"] if p in present]
        frame = queries.observations(store, f.indicator, f.source, professions=nodes, territories=[f.territory],
                                     period=f.period)
        if page.compare == "professions":  # BMO: the professions, all social work and all occupations
            frame = frame[frame.profession_id.isin(_leaves(store) | {"travail_social", "ensemble"})]
        title = figures.chart_title(f.indicator, f.period, source, f"{where}, métiers du social et ensemble")
    figure = figures.bar_figure(frame, "profession_id", profession_labels, title,
                                highlight={"ensemble", "travail_social"})
    return frame, figure, profession_labels, None


def _leaves(store: Store) -> set[str]:
    professions = queries.dimensions(store).professions
    return set(professions.loc[professions.level == "profession", "profession_id"])


def _professions_with_data(store: Store, f: Filters) -> set[str]:
    frame = queries.observations(store, f.indicator, f.source, territories=[f.territory], period=f.period,
                                 breakdown=f.breakdown)
    return set(frame.profession_id)


def compared_territories(store: Store, f: Filters) -> list[str]:
    """The territory shown, then its région and France when « Comparer avec » asks for them (and they differ)."""
    places = [f.territory]
    if "region" in f.compare and f.territory.startswith("DEP-"):
        parent = queries.dimensions(store).territories.set_index("territory_id").parent_id.get(f.territory)
        if parent:
            places.append(parent)
    if "france" in f.compare and f.territory != "FR":
        places.append("FR")
    return places


def _territories_sentence(indicator_id: str, trend: pd.DataFrame, places: list[str], names: dict) -> str:
    """« En 2023 : Rhône 45,1 %, Auvergne-Rhône-Alpes 42,0 %, France 40,3 %. » (each territory's latest year)."""
    entry = catalogue.get(indicator_id)
    parts = []
    for place in places:
        known = trend[(trend.territory_id == place)].dropna(subset=["value"]).sort_values("period")
        if len(known):
            last = known.iloc[-1]
            parts.append(f"{names.get(place, place)} {figures.with_unit(last.value, entry.unit, entry.decimals)} "
                         f"({int(last.period)})")
        else:
            parts.append(f"{names.get(place, place)} : aucune valeur")
    return "Comparaison : " + ", ".join(parts) + "."


def _category_bands(store: Store, f: Filters, frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """For each category row of `frame`: the territory's figure and the median and quartiles of the
    establishments of that category within the territory (none under `benchmarks.MIN_PEERS`)."""
    values = queries.establishment_values(store, f.indicator, f.period) if f.period is not None else pd.DataFrame(
        columns=["value", "esms_category", "territory_id", "region_id"])
    if f.territory.startswith("DEP-"):
        values = values[values.territory_id == f.territory]
    elif f.territory.startswith("REG-"):
        values = values[values.region_id == f.territory]
    by_code = {code: part["value"].to_numpy(float) for code, part in values.groupby("esms_category")}
    rows = []
    for key, value, status in zip(frame["breakdown"], frame["value"], frame["status"]):
        band = peer_band(by_code.get(key.removeprefix("esms:"), []), None if pd.isna(value) else float(value))
        rows.append({"key": key, "label": names.get(key, key), "value": band.value, "status": status, "n": band.n,
                     "q1": band.q1, "median": band.median, "q3": band.q3})
    return pd.DataFrame(rows, columns=["key", "label", "value", "status", "n", "q1", "median", "q3"])


def _category_sentence(f: Filters, bands: pd.DataFrame, territory_labels: dict) -> str:
    """The selected category against its establishments' median (or why there is none)."""
    if not f.breakdown or f.breakdown not in set(bands.key):
        return ""
    row = bands.set_index("key").loc[f.breakdown]
    entry = catalogue.get(f.indicator)
    where = territory_labels.get(f.territory, f.territory)
    fmt = lambda v: figures.with_unit(v, entry.unit, entry.decimals)  # noqa: E731
    if row.n < benchmarks.MIN_PEERS:
        return (f" « {row.label} » ({where}) : {row.n} établissement(s) de la catégorie, moins de "
                f"{benchmarks.MIN_PEERS} : ni valeur ni médiane diffusées (elles révéleraient leurs chiffres).")
    if row.status == "secret":  # complementary secrecy: it would be recomputed from the published totals
        return (f" « {row.label} » ({where}) : valeur secrète (secret secondaire : elle se déduirait des totaux "
                f"publiés) ; médiane des {row.n} établissements de la catégorie {fmt(row['median'])} "
                f"(quartiles {fmt(row.q1)} et {fmt(row.q3)}).")
    return (f" « {row.label} » ({where}) : {fmt(row.value)} ; médiane des {row.n} établissements de la catégorie "
            f"{fmt(row['median'])} (quartiles {fmt(row.q1)} et {fmt(row.q3)}).")


def _category_table(frame: pd.DataFrame, table: list[dict], bands: pd.DataFrame) -> list[dict]:
    """« Voir les données » of the category chart: the category first, then the establishments' band."""
    entry = catalogue.get(frame["indicator_id"].iloc[0])
    band = bands.set_index("key")
    rows = []
    for key, row in zip(frame["breakdown"], table):
        b = band.loc[key]
        enough = b.n >= benchmarks.MIN_PEERS
        rows.append({"Catégorie d'établissement": b.label, **row, "Établissements": int(b.n),
                     "1er quartile des établissements": number(b.q1, entry.decimals) if enough else "",
                     "Médiane des établissements": (number(b["median"], entry.decimals) if enough else
                                                    f"moins de {benchmarks.MIN_PEERS} : non diffusée"),
                     "3e quartile des établissements": number(b.q3, entry.decimals) if enough else ""})
    return rows


def view_frame(view: View) -> pd.DataFrame:
    """The rows behind a view's charts (trend and comparison), once each."""
    frame = pd.concat([view.trend_frame, view.compare_frame], ignore_index=True)
    return frame.drop_duplicates(subset=["indicator_id", "profession_id", "territory_id", "breakdown", "period",
                                         "source_id"], ignore_index=True)
