"""Metadata as code: the whole catalogue and the nomenclature are checked, entry by entry."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from etl.reference import professions_frames, territories_frame
from observatory import catalogue


@pytest.mark.parametrize("entry", catalogue.INDICATORS, ids=lambda i: i.indicator_id)
def test_catalogue_entry_is_complete(entry):
    assert entry.aggregation in ("sum", "ratio", "none")
    assert entry.direction in ("higher_is_better", "lower_is_better", "neutral")
    assert entry.label and entry.definition and entry.formula and entry.unit and entry.sources
    if entry.aggregation == "ratio":
        assert entry.numerator_label and entry.denominator_label


def test_contract_fixed_indicator_ids_exist():
    fixed = {"recruitment_projects", "recruitment_projects_difficult", "recruitment_projects_seasonal",
             "recruitment_difficulty_share", "turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate",
             "turnover_rate_all_contracts", "entry_rate_all_contracts", "exit_rate_all_contracts",
             "vacancy_rate", "tension_index", "students_enrolled", "first_year_entrants", "graduates"}
    assert fixed <= set(catalogue.BY_ID)


def test_store_catalogue_is_the_code_catalogue(built_store):
    with built_store.connect() as conn:
        stored = {r.indicator_id: (r.label, r.unit, r.aggregation) for r in conn.execute(
            text("SELECT indicator_id, label, unit, aggregation FROM indicator"))}
    assert stored == {i.indicator_id: (i.label, i.unit, i.aggregation) for i in catalogue.INDICATORS}


def test_territories_nation_regions_departements():
    frame = territories_frame()
    counts = frame.level.value_counts().to_dict()
    assert (counts["nation"], counts["region"], counts["departement"]) == (1, 18, 101)
    assert {"DEP-2A", "DEP-2B", "DEP-971", "DEP-976", "REG-01"} <= set(frame.territory_id)
    assert frame.set_index("territory_id").loc["DEP-69", "parent_id"] == "REG-84"


def test_fixed_profession_ids_and_crosswalk():
    professions, crosswalk = professions_frames()
    assert {"ensemble", "educateur_specialise", "aide_a_domicile"} <= set(professions.profession_id)
    mapped = {(r.nomenclature, r.source_code): r.profession_id for r in crosswalk.itertuples()}
    assert mapped[("fap2009", "V4Z83")] == mapped[("fap2021", "V4X83")] == "educateur_specialise"
    assert mapped[("fap2009", "T2A60")] == "aide_a_domicile"
    assert mapped[("fap87", "V4Z")] == "grp_action_sociale_orientation"
    # T2Z (T2A and T2B together) and SAL (every employee) have nodes of their own, never T2A's, T2B's or ensemble
    assert mapped[("fap87", "T2Z")] not in {mapped[("fap87", "T2A")], mapped[("fap87", "T2B")], "ensemble"}
    assert mapped[("dares_total", "SAL")] == "ensemble_salaries"
    assert mapped[("rome", "K1207")] == "educateur_specialise" and mapped[("diploma", "DEES")] == "educateur_specialise"
    breaks = crosswalk.set_index(["nomenclature", "source_code"]).loc[("fap2021", "V4X83"), "break_year"]
    assert breaks == 2025


def test_every_profession_reaches_ensemble():
    professions, _ = professions_frames()
    parent = dict(zip(professions.profession_id, professions.parent_id))
    level = dict(zip(professions.profession_id, professions.level))
    # Roots are whole populations only: `ensemble`, and `ensemble_salaries` (DARES SAL), a root of its own so
    # that no roll-up ever adds every employee to the occupations it cuts across.
    roots = {pid for pid, up in parent.items() if not up}
    assert roots == {"ensemble", "ensemble_salaries"} and {level[r] for r in roots} == {"ensemble"}
    for pid in set(parent) - roots:
        seen, node = set(), pid
        while parent.get(node):
            assert node not in seen
            seen.add(node)
            node = parent[node]
        assert node == "ensemble"


def test_the_catalogue_file_refuses_an_unknown_key_or_rule(tmp_path):
    """The catalogue is data (`observatory/catalogue.toml`): a misspelt key or an unknown aggregation fails at
    import, naming the entry, instead of giving a half-read catalogue."""
    from observatory.catalogue import _load

    path = Path(catalogue.__file__).with_name("catalogue.toml")
    source = path.read_text(encoding="utf-8")
    first = source.index("[[indicator]]")
    one = source[first:source.index("[[indicator]]", first + 1)]
    (tmp_path / "typo.toml").write_text(one.replace("label =", "lable =", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"typo.toml, indicator 1 \(recruitment_projects\): unknown keys \['lable'\]"):
        _load(tmp_path / "typo.toml")
    (tmp_path / "rule.toml").write_text(one.replace('aggregation = "sum"', 'aggregation = "mean"'), encoding="utf-8")
    with pytest.raises(ValueError, match="aggregation must be one of"):
        _load(tmp_path / "rule.toml")
    assert len(_load(path)) == len(source.split("[[indicator]]")) - 1
