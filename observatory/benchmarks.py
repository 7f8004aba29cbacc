"""Peer benchmarks: an establishment (or figures a user brings) against similar establishments.

ANAP's « photo de classe »: the median and quartiles of the establishments of the same ESMS category in
the same département, région or the nation, and the establishment's percentile rank among them. Peers
are published establishment figures only (never another user's private figures), and never include
the establishment itself. For a territory: its value against its parent région and the nation.

The statistics are pure functions; the two `*_from_store` functions fetch what they need with bound
parameters and hand it to them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import text

from observatory import catalogue, queries
from observatory.store import Store, cached

LEVELS = ("departement", "region", "nation")
MIN_PEERS = 5  # fewer peers: no median nor quartiles (they say little, and could disclose an establishment)
LEVEL_NAMES = {level: catalogue.TERRITORY_LEVELS[level].of for level in LEVELS}
THE_LEVEL = {level: catalogue.TERRITORY_LEVELS[level].the for level in LEVELS}


@dataclass(frozen=True)
class PeerBand:
    """Where a value stands among its peers (values in the indicator's unit)."""

    n: int
    q1: float | None
    median: float | None
    q3: float | None
    value: float | None = None
    percentile_rank: float | None = None  # 0-100: share of peers below the value, ties counted half

    @property
    def enough_peers(self) -> bool:
        """Fewer than `MIN_PEERS` peers: no median, no quartiles, no rank (screens say so and widen the level)."""
        return self.n >= MIN_PEERS

    @property
    def quartile(self) -> int | None:
        """1-4: the quarter of the peers' distribution the value falls in (None without value or median)."""
        if self.value is None or self.median is None or np.isnan(self.value):
            return None
        return 1 if self.value < self.q1 else 2 if self.value < self.median else 3 if self.value < self.q3 else 4


def peer_band(peers: list[float] | np.ndarray, value: float | None = None, min_peers: int = MIN_PEERS) -> PeerBand:
    """Median, quartiles (linear interpolation, as spreadsheets compute them) and the value's rank.

    With fewer than `min_peers` peers only their number is given: a median of 1 to 4 establishments says
    little and could disclose one of them (a median of one peer *is* that peer's figure)."""
    data = np.asarray(peers, dtype=float)  # None becomes NaN: missing figures are dropped below
    data = data[~np.isnan(data)]
    if data.size == 0 or data.size < min_peers:
        return PeerBand(int(data.size), None, None, None, value, None)
    q1, median, q3 = (float(x) for x in np.percentile(data, [25, 50, 75]))
    rank = None
    if value is not None and not np.isnan(value):
        rank = float(100.0 * ((data < value).sum() + 0.5 * (data == value).sum()) / data.size)
    return PeerBand(int(data.size), q1, median, q3, value, rank)


@cached
def _groups(store: Store, indicator_id: str, period: int) -> dict:
    """The published figures of one indicator and year, split once by category, by (category, département)
    and by (category, région): {key: (finess array, value array)}. Without it every peer band scanned every
    establishment: comparing M of one's own establishments cost M × N (3,000 bands: 19 s at 30,000
    establishments)."""
    values = queries.establishment_values(store, indicator_id, period)
    groups = {}
    for columns in (["esms_category"], ["esms_category", "territory_id"], ["esms_category", "region_id"]):
        for name, part in values.groupby(columns, sort=False):
            groups[name if len(columns) > 1 else name[0]] = (part["finess"].to_numpy(object),
                                                             part["value"].to_numpy(float))
    return groups


def _peer_values(store: Store, indicator_id: str, period: int, esms_category: str, departement_id: str,
                 level: str, exclude_finess: str | None) -> np.ndarray:
    """Published figures of the same category at `level`, from the query layer's establishment figures."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    groups = _groups(store, indicator_id, int(period))
    if level == "departement":
        key = (esms_category, departement_id)
    elif level == "region":
        territories = queries.dimensions(store).territories
        parent = territories.loc[territories.territory_id == departement_id, "parent_id"]
        key = (esms_category, parent.iloc[0] if len(parent) else None)
    else:
        key = esms_category
    finess, values = groups.get(key, (np.empty(0, dtype=object), np.empty(0)))
    return values[finess != exclude_finess] if exclude_finess else values


def figures_from_store(store: Store, indicator_id: str, period: int, esms_category: str, departement_id: str,
                       value: float | None, level: str = "departement",
                       exclude_finess: str | None = None) -> PeerBand:
    """A value (a user's own figure, possibly never stored) against its peers in the store."""
    peers = _peer_values(store, indicator_id, period, esms_category, departement_id, level, exclude_finess)
    return peer_band(peers, value)


def establishment_from_store(store: Store, finess: str, indicator_id: str, period: int,
                             level: str = "departement") -> PeerBand:
    """A stored establishment against the establishments of its category at `level`."""
    with store.engine.connect() as conn:
        row = conn.execute(text("""
            SELECT e.esms_category, e.territory_id, o.value FROM establishment e
            LEFT JOIN establishment_observation o ON o.finess = e.finess AND o.indicator_id = :indicator
                 AND o.period = :period
            WHERE e.finess = :finess"""), {"finess": finess, "indicator": indicator_id, "period": period}).first()
    if row is None:
        raise KeyError(f"unknown establishment {finess!r}")
    return figures_from_store(store, indicator_id, period, row.esms_category, row.territory_id, row.value, level,
                              exclude_finess=finess)


def levels_from_store(store: Store, indicator_id: str, period: int, esms_category: str, departement_id: str,
                      value: float | None, exclude_finess: str | None = None) -> list[tuple[str, str | None, PeerBand]]:
    """The same value against its category's peers in its département, its région and France, side by side:
    [(level, territory_id, band)]."""
    parent = queries.dimensions(store).territories.set_index("territory_id").parent_id.get(departement_id)
    where = {"departement": departement_id, "region": parent, "nation": "FR"}
    return [(level, where[level], figures_from_store(store, indicator_id, period, esms_category, departement_id,
                                                     value, level, exclude_finess)) for level in LEVELS]


def first_enough(levels: list[tuple[str, str | None, PeerBand]]) -> tuple[str, str | None, PeerBand] | None:
    """The narrowest level with enough peers (the comparison widens to the région, then France, by itself)."""
    return next((item for item in levels if item[2].enough_peers), None)


def level_used(counts: list[tuple[str, int]]) -> str | None:
    """The level a comparison is read at: the narrowest of [(level, peers)] with at least `MIN_PEERS` peers."""
    return next((level for level, n in counts if n >= MIN_PEERS), None)


def level_used_sentence(counts: list[tuple[str, int]]) -> str:
    """Which level the comparison is read at, and why, in French: names the level really used (an IME in the
    Gironde with 1 peer there and 2 in its région is read among the peers of France, not « the région »)."""
    used = level_used(counts)
    if used is None:
        return (f"Moins de {MIN_PEERS} pairs à chaque niveau : aucune médiane ni aucun quartile ne peuvent être "
                "montrés.")
    levels = [level for level, _ in counts]
    narrower = [THE_LEVEL[level] for level in levels[:levels.index(used)]]
    n = dict(counts)[used]
    if not narrower:
        return f"La comparaison se lit parmi les {n} pairs {LEVEL_NAMES[used]}, le niveau le plus proche."
    head = (f"{narrower[0].capitalize()} ne compte pas {MIN_PEERS} pairs" if len(narrower) == 1 else
            f"Ni {' ni '.join(narrower)} ne comptent {MIN_PEERS} pairs")
    return f"{head} : la comparaison se lit parmi les {n} pairs {LEVEL_NAMES[used]}."


def reading(band: PeerBand, level: str, lower_is_better: bool | None = None, fmt=None) -> str:
    """The band in plain French: « au-dessus de la médiane de ses pairs du département (15,1 %) : 3e quartile ».

    `lower_is_better`: adds whether that is favourable (None: the indicator has no better side); `fmt` writes
    a value with its unit."""
    fmt = fmt or (lambda v: f"{v:.1f}".replace(".", ","))
    where = LEVEL_NAMES.get(level, level)
    if not band.enough_peers:
        return (f"{band.n if band.n else 'aucun'} établissement{'s' if band.n > 1 else ''} comparable"
                f"{'s' if band.n > 1 else ''} {where} : moins de {MIN_PEERS}, pas de médiane (elle pourrait "
                "révéler les chiffres d'un établissement)")
    if band.quartile is None:
        return f"médiane de ses {band.n} pairs {where} : {fmt(band.median)}"
    side = ("au niveau de" if band.value == band.median else
            "au-dessus de" if band.value > band.median else "en dessous de")
    sentence = (f"{side} la médiane de ses {band.n} pairs {where} ({fmt(band.median)}) : "
                f"{band.quartile}{'er' if band.quartile == 1 else 'e'} quartile")
    if lower_is_better is not None and band.value != band.median:
        better = (band.value < band.median) == lower_is_better
        sentence += (", plus favorable que la moitié de ses pairs" if better else
                     ", moins favorable que la moitié de ses pairs")
    return sentence


@dataclass(frozen=True)
class TerritoryPosition:
    territory_id: str
    value: float | None
    parent_id: str | None
    parent_value: float | None
    nation_value: float | None

    @property
    def gap_to_parent(self) -> float | None:
        """Difference in the indicator's unit (points for a rate)."""
        return None if self.value is None or self.parent_value is None else self.value - self.parent_value

    @property
    def gap_to_nation(self) -> float | None:
        return None if self.value is None or self.nation_value is None else self.value - self.nation_value


def territory_position(store: Store, indicator_id: str, territory_id: str, period: int, source_id: str,
                       profession_id: str = "ensemble", breakdown: str | None = None) -> TerritoryPosition:
    """A territory's figure next to its parent's and the nation's (same source, profession, breakdown)."""
    parent = queries.dimensions(store).territories.set_index("territory_id").parent_id.get(territory_id)
    frame = queries.observations(store, indicator_id, source_id, professions=[profession_id], period=period,
                                 territories=[t for t in (territory_id, parent, "FR") if t], breakdown=breakdown)
    values = {t: (None if v != v else float(v)) for t, v in zip(frame.territory_id, frame.value)}
    return TerritoryPosition(territory_id, values.get(territory_id), parent, values.get(parent) if parent else None,
                             values.get("FR"))
