"""Constants written once: the territory-level words (catalogue.TERRITORY_LEVELS) and the peer threshold
(benchmarks.MIN_PEERS) are read everywhere else, never retyped."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from observatory import benchmarks, catalogue, download, hrcard, schema

ROOT = Path(__file__).resolve().parent.parent
CODE = sorted([*ROOT.rglob("observatory/**/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("pages/_components/*.py")])
LEVEL_WORDS = re.compile(  # a level code mapped to French words, a level option, a place named by hand
    r"""["'](?:nation|region|departement|bassin|bassin_emploi)["']\s*:\s*["'](?=[^"']*[a-zà-ÿ])[^"']*[A-ZÀ-ÿ ]"""
    r"""|["'](?:Régions|Départements|Bassins d'emploi)["']|(?:Région|Département) : \{"""
    r"""|\(["']\w+["'], ["'](?:Région|Département)["']\)""")


def test_every_territory_level_has_its_words():
    assert tuple(catalogue.TERRITORY_LEVELS) == schema.TERRITORY_LEVELS
    assert catalogue.place("departement", "Gironde") == "Département : Gironde"
    assert catalogue.place("nation", "France") == "France"
    assert catalogue.level_options(("region",)) == [{"label": "Régions", "value": "region"}]
    assert benchmarks.LEVEL_NAMES["region"] == "de la région" and benchmarks.THE_LEVEL["nation"] == "la France"
    assert download.LEVEL_SLUGS["bassin_emploi"] == "bassins-emploi"
    assert set(hrcard.LEVELS) <= set(catalogue.TERRITORY_LEVELS)


@pytest.mark.parametrize("path", CODE, ids=[str(p.relative_to(ROOT)) for p in CODE])
def test_level_words_and_the_peer_threshold_are_not_retyped(path):
    if path.name == "catalogue.py":
        return
    code = path.read_text(encoding="utf-8")
    assert not LEVEL_WORDS.search(code), LEVEL_WORDS.search(code).group(0)
    assert not re.search(rf"moins de {benchmarks.MIN_PEERS}\b|n >= {benchmarks.MIN_PEERS}\b", code)
