"""French number formats for screens: `24,4 %`, `1 234` (narrow no-break space between thousands)."""
from __future__ import annotations

import math

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
