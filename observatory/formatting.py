"""French number formats for screens: `24,4 %`, `1 234` (narrow no-break space between thousands)."""
from __future__ import annotations

import math
import re

NNBSP = "\u202f"


def number(value: float | None, decimals: int = 0) -> str:
    """`1234.5` → `1 234,5` (French grouping and decimal comma); `—` when there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def with_unit(value: float | None, unit: str, decimals: int = 0) -> str:
    """A value with its unit: `24,4 %`, `1 234 projets`, `—` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "%":
        return f"{number(value, decimals)}{NNBSP}%"
    if unit in ("indice", "classe 1-5"):
        return number(value, decimals)
    return f"{number(value, decimals)} {unit}"


def points(delta: float | None, unit: str, decimals: int = 1) -> str:
    """A signed change: `+1,2 point` for a rate, `−340 projets` for a count."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "—"
    sign = "+" if delta > 0 else ("−" if delta < 0 else "")
    magnitude = number(abs(delta), decimals)
    if unit == "%":
        return f"{sign}{magnitude} point{'s' if abs(delta) >= 2 else ''}"
    return f"{sign}{magnitude} {unit}".strip()


GROUPING = (" ", "\u00a0", NNBSP, "\u2009")  # spaces a person or a copy-paste puts between thousands


def parse_number(text: str | float | int | None) -> float | None:
    """A number as a French user types it: « 1,5 » and « 1.5 » are 1.5, « 1 500 » is 1500, « −0,5 » is −0.5.

    None for an empty entry; ValueError with a French sentence when the entry is not a number (never a silent 15
    for « 1,5 », which is what a browser's number field or a plain `float` after stripping the comma would give)."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = str(text).strip()
        if raw == "":
            return None
        cleaned = raw.replace("\u2212", "-").replace("\u2013", "-")
        for space in GROUPING:
            cleaned = cleaned.replace(space, "")
        if cleaned.count(",") + cleaned.count(".") > 1:
            raise ValueError(f"« {raw[:40]} » n'est pas un nombre : une seule virgule décimale (exemple : 1,5)")
        cleaned = cleaned.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", cleaned):
            raise ValueError(f"« {raw[:40]} » n'est pas un nombre (exemples : 1,5 ; −0,5 ; 1 500)")
        value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(f"« {text} » n'est pas un nombre fini")
    return value
