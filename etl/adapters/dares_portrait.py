"""DARES Portrait statistique des métiers: share of women, share of fixed-term contracts, median salary.

Three files, one layout family: a FAP code (domain, FAP-87 or FAP-225 level), a three-year window
("2017-2019", stored under its last year) and one figure. Each file is its own source, so that
reloading one never replaces the others.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters import common
from etl.errors import LoadError
from etl.frames import Parsed
from etl.reference import Reference
from observatory import sources

NAME = "dares_portrait"
LAYOUTS = {
    # first header line → (source id, indicator, role → header regex, value role)
    "fap3,annee,part": ("dares_portrait_women", "women_share",
                        {"fap": r"fap3", "year": r"annee", "value": r"part"}),
    "fap,stat_sl,annee,effectif,pourcentage,part": (
        "dares_portrait_fixed_term", "fixed_term_share",
        {"fap": r"fap", "kind": r"statsl", "year": r"annee", "value": r"part"}),
    "fap3,annee,salaire_median": ("dares_portrait_salary", "median_salary",
                                  {"fap": r"fap3", "year": r"annee", "value": r"salairemedian"}),
}


def recognise(path: Path) -> bool:
    return common.sniff_header(path) in LAYOUTS


def parse(path: Path, ref: Reference) -> Parsed:
    layout = LAYOUTS.get(common.sniff_header(path))
    if layout is None:
        raise LoadError("not_portrait", path.name, row=1, layouts=sorted(LAYOUTS))
    source_id, indicator_id, wanted = layout
    raw, header, rows, reject, code, profession_id = common.read_fap_table(path, wanted, ",", ref)
    if "kind" in raw:
        other = (raw["kind"].str.lower() != "cdd").to_numpy()
        reject.add(rows[other], header["kind"], raw["kind"][other], "expected the contract type 'cdd'")
    year = common.years(raw["year"])
    reject.add(rows[np.isnan(year)], header["year"], raw["year"][np.isnan(year)],
               "expected a year or a range such as 2017-2019")
    value, secret = common.numbers(reject, raw["value"], rows, header["value"], allow_empty=False)
    common.reject_duplicates(reject, pd.DataFrame({"fap": code, "year": year}), rows, header["fap"])
    keep = ~reject.rejected(rows)
    part = common.observation_frame(indicator_id, profession_id[keep], np.full(keep.sum(), "FR"), year[keep],
                                    value[keep], np.where(secret[keep], "secret", "ok"))
    return Parsed(adapter=NAME, source=sources.static(source_id), observations=common.concat([part]),
                  rejections=reject.frame(), rows_read=len(rows))
