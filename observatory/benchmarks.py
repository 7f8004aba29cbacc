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
from sqlalchemy import Engine, text

from observatory import queries

LEVELS = ("departement", "region", "nation")


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
        """Quartiles of fewer than 5 peers say little: screens should say so rather than hide them."""
        return self.n >= 5


def peer_band(peers: list[float] | np.ndarray, value: float | None = None) -> PeerBand:
    """Median, quartiles (linear interpolation, as spreadsheets compute them) and the value's rank."""
    data = np.asarray(peers, dtype=float)  # None becomes NaN: missing figures are dropped below
    data = data[~np.isnan(data)]
    if data.size == 0:
        return PeerBand(0, None, None, None, value, None)
    q1, median, q3 = (float(x) for x in np.percentile(data, [25, 50, 75]))
    rank = None
    if value is not None and not np.isnan(value):
        rank = float(100.0 * ((data < value).sum() + 0.5 * (data == value).sum()) / data.size)
    return PeerBand(int(data.size), q1, median, q3, value, rank)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


_peer_groups: dict[tuple[str, str, int], dict] = {}
queries.on_store_change(_peer_groups.clear)


def _groups(url: str, indicator_id: str, period: int) -> dict:
    """The published figures of one indicator and year, split once by category, by (category, département)
    and by (category, région): {key: (finess array, value array)}. Without it every peer band scanned every
    establishment: comparing M of one's own establishments cost M × N (3,000 bands: 19 s at 30,000
    establishments)."""
    queries.dimensions(url)  # forget the groups when the store changed (its listener clears them)
    key = (url, indicator_id, int(period))
    groups = _peer_groups.get(key)
    if groups is None:
        values = queries.establishment_values(indicator_id, period, url)
        groups = {}
        for columns in (["esms_category"], ["esms_category", "territory_id"], ["esms_category", "region_id"]):
            for name, part in values.groupby(columns, sort=False):
                groups[name if len(columns) > 1 else name[0]] = (part["finess"].to_numpy(object),
                                                                 part["value"].to_numpy(float))
        if len(_peer_groups) >= 256:
            _peer_groups.clear()
        _peer_groups[key] = groups
    return groups


def _peer_values(engine: Engine, indicator_id: str, period: int, esms_category: str, departement_id: str,
                 level: str, exclude_finess: str | None) -> np.ndarray:
    """Published figures of the same category at `level`, from the query layer's establishment figures."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    url = _url(engine)
    groups = _groups(url, indicator_id, period)
    if level == "departement":
        key = (esms_category, departement_id)
    elif level == "region":
        territories = queries.dimensions(url).territories
        parent = territories.loc[territories.territory_id == departement_id, "parent_id"]
        key = (esms_category, parent.iloc[0] if len(parent) else None)
    else:
        key = esms_category
    finess, values = groups.get(key, (np.empty(0, dtype=object), np.empty(0)))
    return values[finess != exclude_finess] if exclude_finess else values


def figures_from_store(engine: Engine, indicator_id: str, period: int, esms_category: str, departement_id: str,
                       value: float | None, level: str = "departement",
                       exclude_finess: str | None = None) -> PeerBand:
    """A value (a user's own figure, possibly never stored) against its peers in the store."""
    peers = _peer_values(engine, indicator_id, period, esms_category, departement_id, level, exclude_finess)
    return peer_band(peers, value)


def establishment_from_store(engine: Engine, finess: str, indicator_id: str, period: int,
                             level: str = "departement") -> PeerBand:
    """A stored establishment against the establishments of its category at `level`."""
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT e.esms_category, e.territory_id, o.value FROM establishment e
            LEFT JOIN establishment_observation o ON o.finess = e.finess AND o.indicator_id = :indicator
                 AND o.period = :period
            WHERE e.finess = :finess"""), {"finess": finess, "indicator": indicator_id, "period": period}).first()
    if row is None:
        raise KeyError(f"unknown establishment {finess!r}")
    return figures_from_store(engine, indicator_id, period, row.esms_category, row.territory_id, row.value, level,
                              exclude_finess=finess)


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


def territory_position(engine: Engine, indicator_id: str, territory_id: str, period: int, source_id: str,
                       profession_id: str = "ensemble", breakdown: str | None = None) -> TerritoryPosition:
    """A territory's figure next to its parent's and the nation's (same source, profession, breakdown)."""
    url = _url(engine)
    parent = queries.dimensions(url).territories.set_index("territory_id").parent_id.get(territory_id)
    frame = queries.observations(indicator_id, source_id, professions=[profession_id], period=period,
                                 territories=[t for t in (territory_id, parent, "FR") if t], breakdown=breakdown,
                                 url=url)
    values = {t: (None if v != v else float(v)) for t, v in zip(frame.territory_id, frame.value)}
    return TerritoryPosition(territory_id, values.get(territory_id), parent, values.get(parent) if parent else None,
                             values.get("FR"))
