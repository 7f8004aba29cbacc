"""What each page shows for a set of filters: pure functions from Filters to figures, texts and tables.

Dash callbacks only call these; tests call them too, without a browser, and compare with the store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import text

from observatory import benchmarks, catalogue, figures, heatmap, queries, sources
from observatory.benchmarks import peer_band
from observatory.store import Store, cached
from observatory.urlstate import Filters


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


def source_short(store: Store, source_id: str) -> str:
    """A source as a sentence names it: the acronym in its title (« BMO »), else the last one of its producer
    (« TDBMS »), else its producer."""
    row = queries.source_row(store, source_id)
    if not row:
        return source_id
    found = (re.findall(r"\(([A-ZÉ][A-Za-zÉ]+)\)", row.get("title", ""))
             or re.findall(r"\b[A-ZÉ]{3,}\b", row.get("producer", "")))
    return found[-1] if found else row.get("producer", source_id)


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
    if not f.source or f.profession == "ensemble" or not queries.observations(
            store, f.indicator, f.source, professions=[f.profession], territories=[f.territory],
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


def source_label(store: Store, source_id: str) -> str:
    row = queries.source_row(store, source_id)
    if not row:
        return source_id
    label = f"{row['producer']} – {row['title']}"
    label = label if len(label) < 90 else label[:87] + "…"
    return label + (f" ({row['vintage']})" if row.get("vintage") else "")


@cached
def labels(store: Store, kind: str) -> dict[str, str]:
    """Profession (`kind="profession"`) or territory names by id (shared: copy before changing)."""
    dims = queries.dimensions(store)
    if kind == "profession":
        return dict(zip(dims.professions.profession_id, dims.professions.label))
    return dict(zip(dims.territories.territory_id, dims.territories.name))


def esms_labels(store: Store) -> dict[str, str]:
    return dict(_esms_labels(store))


@cached
def _esms_labels(store: Store) -> tuple[tuple[str, str], ...]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT code, label FROM esms_category ORDER BY code")).all()
    return tuple((f"esms:{code}", label) for code, label in rows)


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
    names = {"profession": profession_labels, "territory": territory_labels, "source": source_names(store)}
    trend_summary = figures.summary_sentence(f.indicator, subject, mine)
    if note:
        trend_summary = f"{note} {trend_summary}"
    if len(places) > 1:
        trend_summary += " " + _territories_sentence(f.indicator, trend, places, territory_labels)
    compare_summary = figures.comparison_sentence(f.indicator, compare_frame, compare_labels, f.period)
    compare_table = figures.table_rows(compare_frame, {**names, "profession": vintage_names})
    if bands is not None:
        compare_summary += _category_sentence(f, bands, territory_labels)
        compare_table = _category_table(compare_frame, compare_table, bands)
    return View(
        f, trend_fig, trend_summary, figures.table_rows(trend, names),
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


def population_labels(store: Store, indicator_id: str) -> dict[str, str]:
    """Profession labels, with `ensemble` named for what the indicator covers (TDBMS: permanent staff of
    medico-social establishments, never « all occupations »)."""
    names = labels(store, "profession")
    return {**names, "ensemble": catalogue.root_label(indicator_id, names.get("ensemble", "ensemble"))}


def source_names(store: Store) -> dict[str, str]:
    """Each source as a reader quotes it: producer, title and vintage."""
    rows = queries.dimensions(store).sources
    return {r.source_id: f"{r.producer} – {r.title}" + (f" ({r.vintage})" if r.vintage else "")
            for r in rows.itertuples(index=False)}


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
                     "1er quartile des établissements": figures.number(b.q1, entry.decimals) if enough else "",
                     "Médiane des établissements": (figures.number(b["median"], entry.decimals) if enough else
                                                    f"moins de {benchmarks.MIN_PEERS} : non diffusée"),
                     "3e quartile des établissements": figures.number(b.q3, entry.decimals) if enough else ""})
    return rows


def store_key_figures(store: Store) -> list[dict]:
    """Home cards computed from the store: the share of difficult projects, social work against all
    occupations, for the latest period the store holds (source and vintage from the store)."""
    from observatory.formatting import with_unit

    indicator_id = catalogue.PAGES["recrutement"][0]
    entry = catalogue.get(indicator_id)
    cards = []
    for series in queries.sources_for(store, indicator_id)[:1]:
        periods = queries.periods_for(store, indicator_id, series)
        if not periods:
            continue
        frame = queries.observations(store, indicator_id, series, professions=["travail_social", "ensemble"],
                                     territories=["FR"], period=periods[-1])
        values = {r.profession_id: r for r in frame.itertuples(index=False)}
        if {"travail_social", "ensemble"} <= set(values):
            social, every = values["travail_social"], values["ensemble"]
            cards.append({
                "value": f"{with_unit(social.value, entry.unit, 0)} / {with_unit(every.value, entry.unit, 0)}",
                "label": f"{entry.label.lower()} : métiers du social / tous métiers (France, {periods[-1]}"
                         + (", minorant : cellules secrètes au dénominateur seulement)"
                            if "partial" in (social.status, every.status) else ")"),
                "source": source_names(store).get(every.source_id, every.source_id),
                "url": queries.source_row(store, every.source_id).get("url"),
                "illustrative": bool(queries.source_row(store, every.source_id).get("is_illustrative")),
            })
    return cards


THEMES = {"recrutement": "recrutement", "ressources_humaines": "ressources humaines", "tensions": "tensions",
          "contexte": "contexte de l'emploi", "formation": "formation", "perspectives": "perspectives"}


def source_family(store: Store, source_id: str) -> str:
    """A source named shortly for a sentence: « France Travail BMO », « DARES », « ATIH/ANAP TDBMS »."""
    row = queries.source_row(store, source_id)
    producer = str(row.get("producer", source_id))
    if " – mise en forme " in producer:  # an illustrative file in a published layout: name the layout
        return producer.split(" – mise en forme ", 1)[1]
    producer = re.sub(r"\s*\(.*?\)", "", producer).strip()
    short = source_short(store, source_id)
    return producer if short in producer else f"{producer} {short}"


def real_and_fictitious(store: Store) -> dict[bool, dict[str, list[str]]]:
    """Which themes the store's real and fictitious (is_illustrative) sources feed, from the store and the
    catalogue: {is_illustrative: {theme label: [source names]}}, themes in the catalogue's order."""
    out: dict[bool, dict[str, list[str]]] = {False: {}, True: {}}
    for entry in catalogue.INDICATORS:
        for series in queries.sources_for(store, entry.indicator_id):
            row = queries.source_row(store, series)
            if row.get("scope", "published") != "published":
                continue
            names = out[bool(row.get("is_illustrative"))].setdefault(THEMES.get(entry.theme, entry.theme), [])
            name = source_family(store, series)
            if name not in names:
                names.append(name)
    return out


def real_and_fictitious_sentence(store: Store) -> str:
    """« Chiffres réels : recrutement (France Travail BMO), … ; chiffres fictifs calibrés : ressources humaines
    (ATIH/ANAP TDBMS), … » — the home page's first screen says which figures are which."""
    def part(themes: dict[str, list[str]]) -> str:
        return ", ".join(f"{theme} ({', '.join(names)})" for theme, names in themes.items())

    split = real_and_fictitious(store)
    sentence = f"Chiffres réels : {part(split[False])}" if split[False] else "Aucun chiffre réel dans l'entrepôt"
    if split[True]:
        sentence += (" ; chiffres fictifs calibrés (données illustratives, pas des données réelles) : "
                     + part(split[True]))
    return sentence + "."


def changes_since_last_vintage(store: Store) -> list[dict]:
    """National figures of the home page's indicators (catalogue): the last two periods of the same series.

    For each indicator, the store's preferred series with national figures; nothing here names a source or
    a year, so a newly loaded vintage shows up at once."""
    from observatory.formatting import points, with_unit

    rows = []
    for indicator_id in catalogue.PAGES["accueil"]:
        entry = catalogue.get(indicator_id)
        for series in queries.sources_for(store, indicator_id):
            frame = queries.observations(store, indicator_id, series, professions=["ensemble"], territories=["FR"])
            frame = frame.dropna(subset=["value"]).sort_values("period")
            if len(frame):
                break
        else:
            continue
        last = frame.iloc[-1]
        previous = frame.iloc[-2] if len(frame) > 1 else None
        note = last.series_break if isinstance(last.series_break, str) else ""
        rows.append({
            "Indicateur": entry.label, "Champ": population_labels(store, indicator_id).get("ensemble", "ensemble"),
            "Source": source_names(store).get(last.source_id, last.source_id),
            "Dernière valeur": f"{with_unit(last.value, entry.unit, entry.decimals)} ({int(last.period)})",
            "Période précédente": (f"{with_unit(previous.value, entry.unit, entry.decimals)} ({int(previous.period)})"
                                   if previous is not None else "une seule période publiée"),
            "Évolution": (points(last.value - previous.value, entry.unit, entry.decimals) if previous is not None
                          else "—") + (" (rupture de série)" if note else ""),
            "Statut": figures.STATUS_LABELS.get(last.status, last.status) or "publié",
            "Rupture de série": note,
        })
    return rows


def families_matrix(store: Store, territory: str = "FR") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Job families (the filières, all social work and all occupations) × indicators, latest year of each.

    Returns the values matrix and the long frame behind it (for the data table)."""
    professions = queries.dimensions(store).professions
    rows = ["ensemble", "travail_social", *professions.loc[professions.parent_id == "travail_social", "profession_id"]]
    names = dict(zip(professions.profession_id, professions.label))
    frames = []
    for indicator_id in catalogue.PAGES["filieres"]:
        series = queries.sources_for(store, indicator_id)
        periods = queries.periods_for(store, indicator_id, series[0]) if series else ()
        if not periods:
            continue
        frames.append(queries.observations(store, indicator_id, series[0], professions=rows, territories=[territory],
                                           period=periods[-1]))
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=queries.SERIES_COLUMNS)
    matrix = long.pivot_table(index="profession_id", columns="indicator_id", values="value", aggfunc="first")
    matrix = matrix.reindex(index=[r for r in rows if r in matrix.index],
                            columns=[i for i in catalogue.PAGES["filieres"] if i in matrix.columns])
    matrix.index = [names[r] for r in matrix.index]
    names = family_column_names(long)
    matrix.columns = [names[c] for c in matrix.columns]
    return matrix, long


def family_column_names(long: pd.DataFrame) -> dict[str, str]:
    """Heat-map column titles: indicator and period, and « fictif » on illustrative columns only."""
    names = {}
    for indicator_id, part in long.groupby("indicator_id"):
        fictive = part["status"].astype(str).str.startswith("illustrative").any()
        names[indicator_id] = (f"{catalogue.get(indicator_id).label} ({int(part.period.max())})"
                               + (" – fictif" if fictive else ""))
    return names


def family_columns(store: Store, matrix: pd.DataFrame, long: pd.DataFrame) -> list[heatmap.Column]:
    """The heat map's columns (`matrix`'s, in order), each with France's figure for all occupations at the
    column's period: what a rate's cells are compared with (`observatory.heatmap`)."""
    ids = {name: indicator_id for indicator_id, name in family_column_names(long).items()}
    periods = long.groupby("indicator_id")["period"].max()
    _matrix, france = families_matrix(store, "FR")
    known = france[(france.profession_id == "ensemble") & france.value.notna()]
    reference = {(r.indicator_id, int(r.period)): float(r.value) for r in known.itertuples(index=False)}
    return [heatmap.Column(name, ids[name], reference.get((ids[name], int(periods[ids[name]]))))
            for name in matrix.columns]


def _peer_series(store: Store) -> str | None:
    """The series establishments are compared with: the store's preferred one for the page's first indicator."""
    series = queries.sources_for(store, catalogue.PAGES["ressources-humaines"][0])
    return series[0] if series else None


def peer_source_label(store: Store) -> str:
    series = _peer_series(store)
    return source_label(store, series) if series else "aucune donnée d'établissement dans l'entrepôt"


def peers_are_illustrative(store: Store) -> bool:
    series = _peer_series(store)
    return bool(series) and bool(queries.source_row(store, series).get("is_illustrative"))


MAX_UPLOAD_BYTES = 2_000_000
# A request carrying the largest upload: base64 (4/3) inside a callback's JSON, plus room for the rest.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 256_000
OWN_INDICATORS = ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate")


@dataclass
class OwnFiguresView:
    bands: pd.DataFrame  # at `level`: label, indicator_id, finess, period, peer_period, value, n, q1, median, q3, rank
    messages: list[str]
    # every level side by side: BAND_COLUMNS + level, territory_id, place, quartile, reading, shown (the narrowest
    # level with enough peers, where the comparison is read)
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)
    names: dict[str, str] = field(default_factory=dict)  # finess → name given in the file (or the FINESS)


NAME_MAX = 200  # characters of an establishment's name shown (a file may give up to 32,767: Excel's limit)


def display_name(name: object, fallback: str) -> str:
    """An establishment's name as the page shows it: trimmed, at most `NAME_MAX` characters (cut with « … »),
    else `fallback` (its FINESS). Text only: whoever renders it as markup must escape it."""
    text = " ".join(name.split()) if isinstance(name, str) else ""
    if len(text) > NAME_MAX:
        text = text[:NAME_MAX - 1].rstrip() + "…"
    return text or fallback


BAND_COLUMNS = ["label", "indicator_id", "finess", "period", "peer_period", "value", "n", "q1", "median", "q3", "rank"]
LEVEL_LABELS = {"departement": "Département", "region": "Région", "nation": "France"}


def own_figures_view(store: Store, units: pd.DataFrame, establishments: pd.DataFrame, level: str = "departement",
                     messages: list[str] | None = None) -> OwnFiguresView:
    """Own figures (an upload read by `etl.private.preview`, or a private upload read back by its token) set
    against their peers: the published establishments of the same ESMS category in the establishment's
    département, région and France (side by side in `levels`; at `level` in `bands`), the establishment
    itself excluded by FINESS. Own figures are never among anyone's peers (they are not in the published
    tables). Below `benchmarks.MIN_PEERS` peers a level has no median: the reading moves to the next level.

    `units`: finess, indicator_id, period, value (…); `establishments`: finess, name, esms_category, territory_id.
    """
    messages = list(messages or [])
    empty = pd.DataFrame(columns=BAND_COLUMNS)
    level_columns = [*BAND_COLUMNS, "level", "territory_id", "place", "quartile", "reading", "shown"]
    if units is None or len(units) == 0:
        return OwnFiguresView(empty, messages, pd.DataFrame(columns=level_columns))
    place = establishments.drop_duplicates("finess", keep="last").set_index("finess")
    territory_names = labels(store, "territory")
    rows = []
    for unit in units.itertuples():
        available = next((p for p in (queries.periods_for(store, unit.indicator_id, series)
                                      for series in queries.sources_for(store, unit.indicator_id)) if p), ())
        peer_period = max([p for p in available if p <= unit.period] or list(available) or [unit.period])
        establishment = place.loc[unit.finess]
        value = None if pd.isna(unit.value) else float(unit.value)
        entry = catalogue.get(unit.indicator_id)
        name = display_name(establishment["name"], unit.finess)
        side_by_side = benchmarks.levels_from_store(store, unit.indicator_id, int(peer_period),
                                                    establishment.esms_category, establishment.territory_id, value,
                                                    exclude_finess=unit.finess)
        shown = benchmarks.first_enough(side_by_side)
        for at, territory, band in side_by_side:
            rows.append({
                "label": f"{name} – {entry.label}", "indicator_id": unit.indicator_id,
                "finess": unit.finess, "period": int(unit.period), "peer_period": int(peer_period),
                "value": band.value, "n": band.n, "q1": band.q1, "median": band.median, "q3": band.q3,
                "rank": band.percentile_rank, "level": at, "territory_id": territory,
                "place": f"{LEVEL_LABELS[at]} : {territory_names.get(territory, territory)}" if at != "nation"
                else "France",
                "quartile": band.quartile, "shown": shown is not None and shown[0] == at,
                "reading": benchmarks.reading(band, at, None if entry.direction not in (
                    "lower_is_better", "higher_is_better") else entry.direction == "lower_is_better",
                    lambda v, e=entry: figures.with_unit(v, e.unit, e.decimals))})
    levels = pd.DataFrame(rows, columns=level_columns)
    bands = levels[levels.level == level][BAND_COLUMNS].reset_index(drop=True)
    if len(levels) and (levels.period != levels.peer_period).any():
        messages.append("Pas de données de pairs pour l'année de votre fichier : comparaison avec la dernière année "
                        "disponible.")
    names = {f: display_name(n, f) for f, n in zip(place.index, place["name"])}
    long_names = sum(isinstance(n, str) and len(" ".join(n.split())) > NAME_MAX for n in place["name"])
    if long_names:
        messages.append(f"{long_names} nom(s) d'établissement de plus de {NAME_MAX} caractères : raccourci(s) à "
                        f"{NAME_MAX} caractères (« … ») à l'affichage.")
    few = levels[(levels.level == "departement") & (levels.n < benchmarks.MIN_PEERS)]
    if len(few):
        used = {}  # finess → the levels its comparisons are really read at (région, France, or none)
        for (finess, _indicator, _period), part in levels.groupby(["finess", "indicator_id", "period"], sort=False):
            if part.n.iloc[0] < benchmarks.MIN_PEERS:  # its département is short of peers (first level)
                at = benchmarks.level_used(list(zip(part.level, part.n)))
                used.setdefault(finess, []).append(benchmarks.THE_LEVEL[at] if at else "aucun niveau")
        where = " ; ".join(f"« {names.get(f, f)} » : {' ou '.join(dict.fromkeys(at))}" for f, at in used.items())
        messages.append(f"Moins de {benchmarks.MIN_PEERS} établissements comparables dans le département pour "
                        f"{few.finess.nunique()} établissement(s) : pas de médiane départementale (elle pourrait "
                        f"révéler les chiffres d'un établissement) ; la comparaison se lit au niveau le plus proche "
                        f"qui en compte au moins {benchmarks.MIN_PEERS} ({where}).")
    return OwnFiguresView(bands, messages, levels, names)


def own_years(view: OwnFiguresView, finess: str) -> list[int]:
    """The years an establishment has figures for in the file, oldest first (the page shows one at a time)."""
    return sorted({int(p) for p in view.levels.loc[view.levels.finess == finess, "period"]})


def own_sentences(view: OwnFiguresView, finess: str, indicator_id: str, year: int) -> list[str]:
    """One establishment, indicator and year in plain French: its value, then one sentence per level
    (département, région, France, each naming its peers), then the level the comparison is read at."""
    rows = view.levels[(view.levels.finess == finess) & (view.levels.indicator_id == indicator_id)
                       & (view.levels.period == year)]
    if rows.empty:
        return []
    entry = catalogue.get(indicator_id)
    first = rows.iloc[0]
    name = view.names.get(finess, finess)
    value = ("non calculable" if first.value is None or pd.isna(first.value) else
             figures.with_unit(first.value, entry.unit, entry.decimals))
    head = f"{entry.label} de « {name} » ({int(first.period)}) : {value}."
    if first.peer_period != first.period:
        head += f" Pairs de {int(first.peer_period)}."
    head += " Face à la médiane des pairs (même catégorie) :"
    return [head, *(f"{r.place} – {r.reading}." for r in rows.itertuples()),
            benchmarks.level_used_sentence(list(zip(rows.level, rows.n)))]


def view_frame(view: View) -> pd.DataFrame:
    """The rows behind a view's charts (trend and comparison), once each."""
    frame = pd.concat([view.trend_frame, view.compare_frame], ignore_index=True)
    return frame.drop_duplicates(subset=["indicator_id", "profession_id", "territory_id", "breakdown", "period",
                                         "source_id"], ignore_index=True)


def filters_dict(filters: Filters) -> dict:
    """Filters as the export metadata lists them."""
    return {k: [v] for k, v in filters.__dict__.items() if v not in (None, "")}
