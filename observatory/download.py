"""What makes a downloaded file safe to open and well named: formula neutralising, file names, Content-Disposition.

Shared by every download (observation CSV/XLSX, code lists, the outlook) and by the naming of export rows
(`table.names` neutralises labels once per store version). Pure functions: imports nothing from the store.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import TYPE_CHECKING

from observatory import catalogue

if TYPE_CHECKING:
    from observatory.queries import Selection

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> object:
    """Neutralise a text cell that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _slug(label: str, limit: int = 40) -> str:
    """ASCII, lower case, words joined by `-` (« Auvergne-Rhône-Alpes » → `auvergne-rhone-alpes`), cut at a word."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "sans-nom"


LEVEL_SLUGS = {"nation": "france", "region": "regions", "departement": "departements", "bassin": "bassins",
               "bassin_emploi": "bassins-emploi"}


def filename(selection: Selection, extension: str, territory_names: dict[str, str], day: date) -> str:
    """`observatoire_<indicateur>_<territoire>_<AAAA-MM-JJ>.<ext>`, named after what the file holds: one
    indicator or territory by its name, several summed up (`plusieurs-indicateurs`), none `tous-…`. ASCII only,
    so that every browser and file system keeps it as it is."""
    indicators = selection.indicators or ()
    if len(indicators) == 1:
        entry = catalogue.BY_ID.get(indicators[0])
        what = _slug(entry.label if entry else indicators[0])
    else:
        what = "plusieurs-indicateurs" if indicators else "tous-indicateurs"
    territories, levels = selection.territories or (), selection.levels or ()
    if len(territories) == 1:
        where = _slug(territory_names.get(territories[0], territories[0]))
    elif territories:
        where = "plusieurs-territoires"
    elif len(levels) == 1:
        where = LEVEL_SLUGS.get(levels[0], _slug(levels[0]))
    else:
        where = "tous-territoires"
    return f"observatoire_{what}_{where}_{day.isoformat()}.{extension}"


def content_disposition(name: str) -> str:
    """`attachment` with the file's name (ASCII by construction: `filename` is enough, no `filename*`)."""
    return f'attachment; filename="{name}"'
