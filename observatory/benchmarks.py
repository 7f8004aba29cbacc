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
    data = np.asarray([p for p in peers if p is not None and not np.isnan(p)], dtype=float)
    if data.size == 0:
        return PeerBand(0, None, None, None, value, None)
    q1, median, q3 = (float(x) for x in np.percentile(data, [25, 50, 75]))
    rank = None
    if value is not None and not np.isnan(value):
        rank = float(100.0 * ((data < value).sum() + 0.5 * (data == value).sum()) / data.size)
    return PeerBand(int(data.size), q1, median, q3, value, rank)


def _peer_values(engine: Engine, indicator_id: str, period: int, esms_category: str, territory_id: str,
                 level: str, exclude_finess: str | None) -> list[float]:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    where = {"departement": "e.territory_id = :dep",
             "region": "t.parent_id = (SELECT parent_id FROM territory WHERE territory_id = :dep)",
             "nation": "1 = 1"}[level]
    sql = text(f"""
        SELECT o.value FROM establishment_observation o
        JOIN establishment e ON e.finess = o.finess
        JOIN territory t ON t.territory_id = e.territory_id
        JOIN source s ON s.source_id = o.source_id
        WHERE o.indicator_id = :indicator AND o.period = :period AND e.esms_category = :category
          AND s.scope = 'published' AND o.value IS NOT NULL AND e.finess <> :exclude AND {where}
    """)
    with engine.connect() as conn:
        return list(conn.execute(sql, {"indicator": indicator_id, "period": period, "category": esms_category,
                                       "dep": territory_id, "exclude": exclude_finess or ""}).scalars())


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
    sql = text("""
        SELECT o.territory_id, o.value FROM observations o
        WHERE o.indicator_id = :indicator AND o.period = :period AND o.source_id = :source
          AND o.profession_id = :profession AND COALESCE(o.breakdown, '') = :breakdown
          AND o.territory_id IN (:territory, COALESCE((SELECT parent_id FROM territory WHERE territory_id = :territory),
                                                      ''), 'FR')""")
    with engine.connect() as conn:
        parent = conn.execute(text("SELECT parent_id FROM territory WHERE territory_id = :t"),
                              {"t": territory_id}).scalar()
        values = dict(conn.execute(sql, {"indicator": indicator_id, "period": period, "source": source_id,
                                         "profession": profession_id, "breakdown": breakdown or "",
                                         "territory": territory_id}).all())
    return TerritoryPosition(territory_id, values.get(territory_id), parent, values.get(parent) if parent else None,
                             values.get("FR"))
