"""The outlook as JSON, CSV and XLSX: one body (`document`) behind the three formats.

Figures are persons (never thousands), rounded to whole persons only when written; the XLSX carries the
assumptions (every parameter, its value, its source) and the back-test beside the rows.
"""
from __future__ import annotations

import csv
import io
import math
from datetime import date

import openpyxl
from openpyxl.styles import Font

from observatory import outlook
from observatory.download import safe_text
from observatory.outlook_data import Projection
from observatory.table import status_label

ROW_FIELDS = ("year", "employment", "employment_low", "employment_high", "retirements", "other_exits",
              "job_change", "openings", "entrants", "gap", "complete_gap", "other_hires", "share_50_plus", "status",
              "source")
FRENCH = {
    "year": "Année", "employment": "Emploi (personnes)", "employment_low": "Emploi, bas de fourchette",
    "employment_high": "Emploi, haut de fourchette", "retirements": "Départs en fin de carrière",
    "other_exits": "Sorties en cours de carrière", "job_change": "Créations nettes d'emploi",
    "openings": "Postes à pourvoir (départs + créations)", "entrants": "Jeunes diplômés prenant un poste",
    "gap": "Écart (postes à pourvoir − jeunes diplômés)", "complete_gap": "Écart complet (avec sorties en cours "
    "de carrière)", "other_hires": "Autres embauches (bouclage)", "share_50_plus": "Part des 50 ans ou plus (%)",
    "status": "Statut", "source": "Source",
}


def _number(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def document(p: Projection) -> dict:
    """The contract's body: assumptions, back-test, one row per year after `from` up to `to`."""
    r = p.request
    rows = []
    for record in p.rows.assign(source=p.source).to_dict("records"):
        row = {}
        for name in ROW_FIELDS:
            value = record[name]
            if name == "year":
                value = int(value)
            elif name == "share_50_plus":
                value = None if _number(value) is None else round(float(value), 2)
            elif name == "source":
                value = p.source
            elif name != "status":
                value = None if _number(value) is None else round(float(value), 1)
            row[name] = value
        rows.append(row)
    bt = p.backtest.as_dict() if p.backtest else None
    return {
        "profession": r.profession, "family": r.family, "family_label": p.family.label,
        "territory": r.territory, "from": r.start, "to": r.end, "unit": "persons", "source": p.source,
        "assumptions": {a["parameter"]: a for a in p.assumptions},
        "backtest": bt,
        "totals": {k: None if _number(v) is None else round(v, 1)
                   for k, v in outlook.totals(p.rows).items()},
        "rows": rows,
    }


def csv_bytes(p: Projection, lang: str = "en") -> bytes:
    """UTF-8 with BOM; French headers, `;` and decimal commas with lang=fr."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    writer.writerow([FRENCH[f] for f in ROW_FIELDS] if lang == "fr" else ROW_FIELDS)
    for row in document(p)["rows"]:
        cells = []
        for name in ROW_FIELDS:
            value = row[name]
            if name == "status":
                value = status_label(value) if lang == "fr" else value
            elif isinstance(value, float) and lang == "fr":
                value = f"{value}".replace(".", ",")
            cells.append("" if value is None else safe_text(value))
        writer.writerow(cells)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def xlsx_bytes(p: Projection, permalink: str) -> bytes:
    """Three sheets: Projection (the rows), Hypothèses (every parameter, value, source), Back-test."""
    doc = document(p)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Projection"
    sheet.append([FRENCH[f] for f in ROW_FIELDS])
    for row in doc["rows"]:
        sheet.append([status_label(row[f]) if f == "status" else row[f] for f in ROW_FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"

    hyp = book.create_sheet("Hypothèses")
    hyp.append(["Paramètre", "Libellé", "Valeur", "Unité", "Plage admise", "Source", "Illustratif"])
    for a in p.assumptions:
        hyp.append([a["parameter"], a["label"], a["value"], a["unit"], a["range"], a["source"],
                    "oui" if a["illustrative"] else "non"])
    hyp.append([])
    for label, value in (("Famille", f"{p.request.family} – {p.family.label}"),
                         ("Profession demandée", p.request.profession), ("Territoire", p.request.territory),
                         ("Années", f"{p.request.start + 1}–{p.request.end} (flux après {p.request.start})"),
                         ("Unité", "personnes (pas de milliers, pas d'ETP)"),
                         ("Méthode", outlook.METHOD),
                         ("Ce que ce n'est pas", "Une projection sous hypothèses, pas une prévision ; un besoin, pas "
                                                 "des postes financés."),
                         ("Lien permanent", permalink), ("Date d'extraction", date.today().isoformat())):
        hyp.append([label, value])

    back = book.create_sheet("Back-test")
    back.append(["Mesure", "Valeur"])
    for key, value in (doc["backtest"] or {"back-test": "indisponible pour cette famille"}).items():
        back.append([key, value])
    for ws in (hyp, back):
        for cell in ws[1]:
            cell.font = Font(bold=True)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = safe_text(cell.value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
