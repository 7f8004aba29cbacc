"""Peer benchmarks: pure statistics on hand-computed cases, and the store against the raw illustrative file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from observatory.benchmarks import establishment_from_store, figures_from_store, peer_band, territory_position
from tests.conftest import ROOT


def test_peer_band_hand_computed():
    band = peer_band([10, 20, 30, 40, None], value=30)
    assert (band.n, band.q1, band.median, band.q3) == (4, 17.5, 25.0, 32.5)
    assert band.percentile_rank == 62.5  # two below, one tie counted half, out of four
    assert not band.enough_peers
    assert peer_band([]) .median is None


def raw_turnover_2023() -> pd.DataFrame:
    """Per-establishment TDBMS turnover computed straight from the raw illustrative CSV."""
    raw = pd.read_csv(ROOT / "data/illustrative/tdbms/ANN_MS_TDP_ET_2023.csv", sep=";", dtype={
        "N° FINESS ET": str, "Catégorie ESMS": str, "Département": str})
    columns = list(raw.columns)
    raw["turnover"] = 100 * (raw[columns[5]] + raw[columns[6]]) / 2 / raw[columns[7]]
    return raw.rename(columns={"N° FINESS ET": "finess", "Catégorie ESMS": "category", "Département": "dep"})


def test_establishment_against_its_departement_peers(built_store):
    raw = raw_turnover_2023()
    ehpad = raw[raw.category == "500"]
    dep = ehpad.dep.value_counts().index[0]  # the département with the most EHPAD
    me = ehpad[ehpad.dep == dep].iloc[0]
    peers = ehpad[(ehpad.dep == dep) & (ehpad.finess != me.finess)].turnover.to_numpy()
    band = establishment_from_store(built_store, me.finess, "turnover_rate", 2023)
    assert band.n == len(peers)
    assert band.median == pytest.approx(np.median(peers))
    assert band.value == pytest.approx(me.turnover)
    below, ties = (peers < me.turnover).sum(), (peers == me.turnover).sum()
    assert band.percentile_rank == pytest.approx(100 * (below + 0.5 * ties) / len(peers))


def test_users_figure_against_national_category_peers(built_store):
    raw = raw_turnover_2023()
    peers = raw[raw.category == "500"].turnover.to_numpy()
    band = figures_from_store(built_store, "turnover_rate", 2023, "500", "DEP-75", 30.0, level="nation")
    assert (band.n, band.q1, band.q3) == (len(peers), pytest.approx(np.percentile(peers, 25)),
                                          pytest.approx(np.percentile(peers, 75)))


def test_territory_against_region_and_nation(built_store):
    position = territory_position(built_store, "vacancy_rate", "DEP-93", 2023, "tdbms_illustrative")
    assert position.parent_id == "REG-11"
    assert None not in (position.value, position.parent_value, position.nation_value)
    assert position.gap_to_nation == pytest.approx(position.value - position.nation_value)
