"""The view's state in the URL query string, so that any view can be shared as a link and reopened.

One codec for every page: `encode(filters)` writes only what differs from the page's defaults, and
`decode(query, defaults)` reads it back, ignoring unknown keys and values that do not parse (the page
falls back to its default rather than failing). Keys are French, as users see them in links.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from urllib.parse import parse_qs, urlencode

KEYS = {  # attribute → query key
    "indicator": "indicateur", "profession": "profession", "territory": "territoire", "level": "niveau",
    "period": "annee", "breakdown": "categorie", "source": "source",
}
LEVELS = ("region", "departement")


@dataclass(frozen=True)
class Filters:
    indicator: str
    profession: str = "ensemble"
    territory: str = "FR"
    level: str = "region"
    period: int | None = None  # None: the latest period with data
    breakdown: str | None = None  # None: the whole population
    source: str | None = None  # None: the page's default source for the indicator


def encode(filters: Filters, defaults: Filters) -> str:
    """`?indicateur=…&annee=…` with only the values that differ from `defaults` ('' when none do)."""
    pairs = [(KEYS[f.name], getattr(filters, f.name)) for f in fields(Filters)
             if getattr(filters, f.name) != getattr(defaults, f.name) and getattr(filters, f.name) is not None]
    return "?" + urlencode(pairs) if pairs else ""


def decode(query: str | dict, defaults: Filters) -> Filters:
    """Filters from a query string (or the kwargs Dash pages pass to `layout`), over `defaults`."""
    if isinstance(query, str):
        raw = {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=False).items()}
    else:
        raw = {k: v for k, v in query.items() if isinstance(v, str)}
    values = {}
    for attribute, key in KEYS.items():
        if key not in raw or not raw[key].strip():
            continue
        text = raw[key].strip()
        if attribute == "period":
            if text.isdigit() and len(text) == 4:
                values["period"] = int(text)
        elif attribute == "level":
            if text in LEVELS:
                values["level"] = text
        else:
            values[attribute] = text[:64]
    return replace(defaults, **values)
