"""DARES tensions (`tensions.csv`, 2019): index, class and components by FAP, at nation, région, département.

Quirks: the `"Tension "` header ends with a space, `niveau_geo` carries "reg " with a trailing space,
région codes are floats ("11.0", DROM "1.0"), département rows leave the components empty (the source
does not publish them there: no observation, not a rejection).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters import common
from etl.frames import Parsed, Rejections
from etl.read.columns import by_unique
from etl.reference import Reference
from observatory import sources

NAME = "dares_tensions"
COLUMNS = {
    "fap": r"fap", "employment": r"emploimoyen", "tension": r"tension", "class": r"categorietension",
    "hiring": r"intensitedembauches", "training": r"lienformationemploi",
    "shortage": r"manquedemainduvredisponible|manquedemaindoeuvredisponible",
    "sustainability": r"nondurabilitedelemploi", "conditions": r"conditionsdetravailcontraignantes",
    "mismatch": r"inadequationgeographique", "year": r"annee", "geo": r"niveaugeo", "fap_level": r"niveaufap",
    "reg": r"reg", "dep": r"dep",
}
INDICATORS = {
    "employment": "employment_average", "tension": "tension_index", "class": "tension_class",
    "hiring": "tension_hiring_intensity_class", "training": "tension_training_link_class",
    "shortage": "tension_labour_shortage_class", "sustainability": "tension_non_sustainable_employment_class",
    "conditions": "tension_working_conditions_class", "mismatch": "tension_geographic_mismatch_class",
}
FAP_LEVELS = {"fap 225": "fap2009", "fap 87": "fap87"}


def recognise(path: Path) -> bool:
    header = common.sniff_header(path)
    return header.startswith("fap,emploi moyen,tension") and "niveau_geo" in header


def _region(value: str) -> str:
    text = str(value).strip()
    try:
        return f"{int(float(text)):02d}"
    except (ValueError, OverflowError):  # not a number, or `inf`: not a région code
        return text


def parse(path: Path, ref: Reference) -> Parsed:
    raw, header, rows = common.read_table(path, COLUMNS, sep=",")
    reject = Rejections()
    level = raw["fap_level"].str.strip().str.lower()
    nomenclature = level.map(FAP_LEVELS)
    bad_level = nomenclature.isna().to_numpy()
    reject.add(rows[bad_level], header["fap_level"], raw["fap_level"][bad_level], "expected 'fap 225' or 'fap 87'")
    code = raw["fap"]
    profession_id = common.fap_professions(reject, code, rows, header["fap"], ref)
    wrong_level = ~bad_level & np.array([common.fap_nomenclature(c) != n for c, n in zip(code, nomenclature)],
                                        dtype=bool)
    reject.add(rows[wrong_level], header["fap"], code[wrong_level], "FAP code not of the level named in niveau_fap")

    geo = raw["geo"].str.strip().str.lower()
    region = by_unique(raw["reg"], _region)
    dep = raw["dep"].str.strip()
    territory_id = np.where(geo == "nat", "FR", np.where(geo == "reg", "REG-" + region,
                            np.where(geo == "dep", "DEP-" + dep, None)))
    bad_geo = ~geo.isin(["nat", "reg", "dep"]).to_numpy()
    reject.add(rows[bad_geo], header["geo"], raw["geo"][bad_geo], "expected niveau_geo nat, reg or dep")
    unknown_terr = ~bad_geo & ~pd.Series(territory_id).isin(ref.territory_ids).to_numpy()
    reject.add(rows[unknown_terr], header["dep"], territory_id[unknown_terr],
               "région or département not in the INSEE reference")

    year = common.years(raw["year"])
    reject.add(rows[np.isnan(year)], header["year"], raw["year"][np.isnan(year)], "expected a year")
    values = {role: common.numbers(reject, raw[role], rows, header[role]) for role in INDICATORS}
    common.reject_duplicates(reject, pd.DataFrame({"fap": code, "lvl": level, "terr": territory_id, "year": year}),
                             rows, header["fap"])
    keep = ~reject.rejected(rows)
    parts = []
    for role, indicator_id in INDICATORS.items():
        value, secret = values[role]
        present = keep & (~np.isnan(value) | secret)
        parts.append(common.observation_frame(indicator_id, profession_id[present], territory_id[present],
                                              year[present], value[present],
                                              np.where(secret[present], "secret", "ok")))
    return Parsed(adapter=NAME, source=sources.static("dares_tensions_2019"), observations=common.concat(parts),
                  rejections=reject.frame(), rows_read=len(rows))
