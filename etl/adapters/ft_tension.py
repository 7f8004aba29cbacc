"""France Travail tension indicators by ROME × bassin d'emploi (2021): `;`, decimal commas.

Bassins are whole bassins (`BE-<code>`, level `bassin_emploi`, parent région). A bassin missing from
the BE19 reference is defined by the file; its région is the one its code starts with, checked against
the INSEE reference. ROME codes must exist in the ROME reference.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters import common
from etl.frames import TERRITORY_COLUMNS, Parsed, Rejections
from etl.read.columns import by_unique
from etl.reference import Reference
from observatory import sources

NAME = "ft_tension"
COLUMNS = {
    "year": r"annee", "rome": r"rome", "bassin": r"cbassin", "offers": r"oee", "jobseekers": r"defmabc",
    "class": r"indtensiond", "hiring": r"indintembd", "shortage": r"indmainoeuvred",
    "sustainability": r"inddurempld", "conditions": r"indcondtravaild", "mismatch": r"indmismatchgeod",
    "training": r"indspecifformempld",
}
INDICATORS = {
    "offers": "job_offers", "jobseekers": "jobseekers_abc", "class": "tension_class",
    "hiring": "tension_hiring_intensity_class", "shortage": "tension_labour_shortage_class",
    "sustainability": "tension_non_sustainable_employment_class",
    "conditions": "tension_working_conditions_class", "mismatch": "tension_geographic_mismatch_class",
    "training": "tension_training_link_class",
}


def recognise(path: Path) -> bool:
    return common.sniff_header(path).startswith("annee;rome;cbassin;")


def parse(path: Path, ref: Reference) -> Parsed:
    raw, header, rows = common.read_table(path, COLUMNS, sep=";")
    reject = Rejections()
    rome = ref.codes("rome")
    profession_id = by_unique(raw["rome"], rome.get)
    unknown = pd.isna(profession_id)
    reject.add(rows[unknown], header["rome"], raw["rome"][unknown], "ROME code not in the ROME reference")

    bassin = by_unique(raw["bassin"], lambda b: str(b).strip().zfill(4) if str(b).strip().isdigit() else "")
    region = by_unique(pd.Series(bassin), lambda b: ref.bassin_region.get(b, b[:2]))
    bad_bassin = (bassin == "") | ~pd.Series(region).isin(ref.regions).to_numpy()
    reject.add(rows[bad_bassin], header["bassin"], raw["bassin"][bad_bassin],
               "expected a bassin code whose first two digits are an INSEE région")
    year = common.years(raw["year"])
    reject.add(rows[np.isnan(year)], header["year"], raw["year"][np.isnan(year)], "expected a year")
    values = {role: common.numbers(reject, raw[role], rows, header[role]) for role in INDICATORS}
    common.reject_duplicates(reject, pd.DataFrame({"rome": raw["rome"], "bassin": bassin, "year": year}), rows,
                             header["rome"])
    keep = ~reject.rejected(rows)
    territory_id = np.array(["BE-" + b for b in bassin], dtype=object)
    parts = []
    for role, indicator_id in INDICATORS.items():
        value, secret = values[role]
        present = keep & (~np.isnan(value) | secret)
        parts.append(common.observation_frame(indicator_id, profession_id[present], territory_id[present],
                                              year[present], value[present], np.where(secret[present], "secret", "ok")))
    new = sorted({b for b in bassin[keep] if f"BE-{b}" not in ref.territory_ids})
    territories = pd.DataFrame(
        [{"territory_id": f"BE-{b}", "level": "bassin_emploi", "code": b, "name": f"Bassin {b}",
          "parent_id": f"REG-{ref.bassin_region.get(b, b[:2])}"} for b in new], columns=TERRITORY_COLUMNS)
    return Parsed(adapter=NAME, source=sources.static("ft_tension_2021"), observations=common.concat(parts),
                  rejections=reject.frame(), rows_read=len(rows), territories=territories)
