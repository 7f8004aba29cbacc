"""Peer benchmarks: pure statistics on hand-computed cases, and the store against the raw illustrative file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from observatory.benchmarks import (
    MIN_PEERS,
    establishment_from_store,
    figures_from_store,
    first_enough,
    levels_from_store,
    peer_band,
    reading,
    territory_position,
)
from tests.conftest import ROOT


def test_peer_band_hand_computed():
    band = peer_band([10, 20, 30, 40, 50, None], value=30)
    assert (band.n, band.q1, band.median, band.q3) == (5, 20.0, 30.0, 40.0)
    assert band.percentile_rank == 50.0  # two below, one tie counted half, out of five
    assert band.enough_peers and band.quartile == 3
    band = peer_band([10, 20, 30, 40], value=30, min_peers=1)  # the statistic itself, below the rule
    assert (band.n, band.q1, band.median, band.q3, band.percentile_rank) == (4, 17.5, 25.0, 32.5, 62.5)
    assert peer_band([]).median is None


@pytest.mark.parametrize("peers", [[12.0], [10, 20], [10, 20, 30, 40], [5.0, None, 7.0, 9.0, 11.0]])
def test_fewer_than_five_peers_give_no_median_no_quartiles_no_rank(peers):
    """A median of one peer is that establishment's figure: below 5 peers only their number is given."""
    band = peer_band(peers, value=15.0)
    assert MIN_PEERS == 5 and band.n == sum(p is not None for p in peers) < 5
    assert (band.q1, band.median, band.q3, band.percentile_rank, band.quartile) == (None,) * 5
    assert not band.enough_peers
    text = reading(band, "departement")
    assert "moins de 5" in text and "pas de médiane" in text and "15" not in text


def test_reading_says_where_the_value_stands_in_french():
    peers = [10, 12, 14, 16, 18, 20, 22, 24]
    assert reading(peer_band(peers, 19.0), "departement", lower_is_better=True) == (
        "au-dessus de la médiane de ses 8 pairs du département (17,0) : 3e quartile, moins favorable que la "
        "moitié de ses pairs")
    assert reading(peer_band(peers, 9.0), "region", lower_is_better=True).startswith(
        "en dessous de la médiane de ses 8 pairs de la région (17,0) : 1er quartile, plus favorable")
    assert reading(peer_band(peers, 30.0), "nation").endswith("de France (17,0) : 4e quartile")
    assert reading(peer_band(peers), "nation") == "médiane de ses 8 pairs de France : 17,0"


def test_a_category_with_few_peers_in_its_departement_widens_to_its_region(query_store):
    """The bundled store: one foyer de vie (449) in the Rhône besides the user's, seven in Auvergne-Rhône-Alpes."""
    levels = levels_from_store(query_store, "turnover_rate", 2023, "449", "DEP-69", 20.0)
    assert [(level, territory) for level, territory, _ in levels] == [
        ("departement", "DEP-69"), ("region", "REG-84"), ("nation", "FR")]
    departement, region, nation = (band for _, _, band in levels)
    assert 0 < departement.n < 5 and departement.median is None
    assert region.n >= 5 and region.median is not None and nation.n > region.n
    assert first_enough(levels)[0] == "region"
    ehpad = levels_from_store(query_store, "turnover_rate", 2023, "500", "DEP-69", 20.0)
    assert first_enough(ehpad)[0] == "departement" and ehpad[0][2].n >= 5


def raw_turnover_2023() -> pd.DataFrame:
    """Per-establishment TDBMS turnover computed straight from the raw illustrative CSV."""
    raw = pd.read_csv(ROOT / "data/illustrative/tdbms/ANN_MS_TDP_ET_2023.csv", sep=";", dtype={
        "N° FINESS ET": str, "Catégorie ESMS": str, "Département": str})
    columns = list(raw.columns)
    raw["turnover"] = 100 * (raw[columns[5]] + raw[columns[6]]) / 2 / raw[columns[7]]
    return raw.rename(columns={"N° FINESS ET": "finess", "Catégorie ESMS": "category", "Département": "dep"})


def test_establishment_against_its_departement_peers(query_store):
    raw = raw_turnover_2023()
    ehpad = raw[raw.category == "500"]
    dep = ehpad.dep.value_counts().index[0]  # the département with the most EHPAD
    me = ehpad[ehpad.dep == dep].iloc[0]
    peers = ehpad[(ehpad.dep == dep) & (ehpad.finess != me.finess)].turnover.to_numpy()
    band = establishment_from_store(query_store, me.finess, "turnover_rate", 2023)
    assert band.n == len(peers)
    assert band.median == pytest.approx(np.median(peers))
    assert band.value == pytest.approx(me.turnover)
    below, ties = (peers < me.turnover).sum(), (peers == me.turnover).sum()
    assert band.percentile_rank == pytest.approx(100 * (below + 0.5 * ties) / len(peers))


def test_users_figure_against_national_category_peers(query_store):
    raw = raw_turnover_2023()
    peers = raw[raw.category == "500"].turnover.to_numpy()
    band = figures_from_store(query_store, "turnover_rate", 2023, "500", "DEP-75", 30.0, level="nation")
    assert (band.n, band.q1, band.q3) == (len(peers), pytest.approx(np.percentile(peers, 25)),
                                          pytest.approx(np.percentile(peers, 75)))


def test_territory_against_region_and_nation(query_store):
    position = territory_position(query_store, "vacancy_rate", "DEP-93", 2023, "tdbms_illustrative")
    assert position.parent_id == "REG-11"
    assert None not in (position.value, position.parent_value, position.nation_value)
    assert position.gap_to_nation == pytest.approx(position.value - position.nation_value)


def test_the_sentence_names_the_level_really_read():
    """Issue 17: an IME in the Gironde (1 peer there, 2 in its région) is read among France's peers, and the
    sentence says France, not « la région »."""
    from observatory.benchmarks import level_used, level_used_sentence

    assert level_used([("departement", 1), ("region", 2), ("nation", 18)]) == "nation"
    assert level_used_sentence([("departement", 1), ("region", 2), ("nation", 18)]) == (
        "Ni le département ni la région ne comptent 5 pairs : la comparaison se lit parmi les 18 pairs de France.")
    assert level_used_sentence([("departement", 1), ("region", 7), ("nation", 18)]) == (
        "Le département ne compte pas 5 pairs : la comparaison se lit parmi les 7 pairs de la région.")
    assert level_used_sentence([("departement", 8), ("region", 7), ("nation", 18)]).startswith(
        "La comparaison se lit parmi les 8 pairs du département")
    assert level_used([("departement", 0), ("region", 2), ("nation", 4)]) is None
    assert "aucune médiane" in level_used_sentence([("departement", 0), ("region", 2), ("nation", 4)])


def test_an_ime_of_the_gironde_is_read_among_the_peers_of_france(query_store):
    """The bundled store's case, from the store (not assumed): the narrowest level with 5 peers is France."""
    from observatory.benchmarks import level_used

    levels = levels_from_store(query_store, "turnover_rate", 2023, "183", "DEP-33", 20.0)
    counts = [(level, band.n) for level, _, band in levels]
    assert counts[0][1] < MIN_PEERS and counts[1][1] < MIN_PEERS <= counts[2][1]
    assert level_used(counts) == "nation" == first_enough(levels)[0]
