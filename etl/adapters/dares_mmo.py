"""DARES mouvements de main-d'œuvre (`evol_mmo.csv`): entry, exit and turnover rates by FAP-87, national.

Latin-1, `;`, three empty trailing columns. Rates are published without their parts, so they are stored
as published (V4Z turnover 2014 = 71.65) and never rolled up. DARES counts every contract (fixed-term
included) over the average headcount: a definition of its own, stored under the `*_all_contracts` ids, never
under `turnover_rate` / `entry_rate` / `exit_rate` (TDBMS: permanent staff of medico-social establishments).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.adapters import common
from etl.frames import Parsed
from etl.reference import Reference
from observatory import sources

NAME = "dares_mmo"
COLUMNS = {"fap": r"fap3", "type": r"typemmo", "year": r"annee", "rate": r"taux"}
TYPES = {"tauxdentree": "entry_rate_all_contracts", "tauxdesortie": "exit_rate_all_contracts",
         "tauxderotation": "turnover_rate_all_contracts"}


def recognise(path: Path) -> bool:
    return common.sniff_header(path).startswith("fap3;type_mmo;")


def parse(path: Path, ref: Reference) -> Parsed:
    raw, header, rows, reject, code, profession_id = common.read_fap_table(path, COLUMNS, ";", ref)
    indicator_id = common.coded(reject, raw, header, rows, "type", TYPES,
                                "expected « Taux d'entrée », « Taux de sortie » or « Taux de rotation »")
    year = common.years(raw["year"])
    reject.add(rows[np.isnan(year)], header["year"], raw["year"][np.isnan(year)], "expected a year")
    value, secret = common.numbers(reject, raw["rate"], rows, header["rate"], allow_empty=False)
    common.reject_duplicates(reject, pd.DataFrame({"fap": code, "type": indicator_id, "year": year}), rows,
                             header["fap"])
    keep = ~reject.rejected(rows)
    parts = []
    for ind in sorted(set(indicator_id[keep])):
        m = keep & (indicator_id == ind)
        parts.append(common.observation_frame(ind, profession_id[m], np.full(m.sum(), "FR"), year[m], value[m],
                                              np.where(secret[m], "secret", "ok")))
    return Parsed(adapter=NAME, source=sources.static("dares_mmo"), observations=common.concat(parts),
                  rejections=reject.frame(), rows_read=len(rows))
