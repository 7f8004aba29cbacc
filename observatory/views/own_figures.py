"""« Mon établissement »: own figures (an upload, or a private upload read back by its token) set against
their published peers, in tables and plain French."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from observatory import benchmarks, catalogue, figures, queries
from observatory.store import Store
from observatory.views.names import labels, source_label


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




def own_figures_view(store: Store, units: pd.DataFrame, establishments: pd.DataFrame, level: str = "departement",
                     messages: list[str] | None = None) -> OwnFiguresView:
    """Own figures (an upload read by `etl.uploads.preview`, or a private upload read back by its token) set
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
                "place": catalogue.place(at, territory_names.get(territory, territory)),
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
