"""One adapter per published layout. Each module has NAME, `recognise(path)` and `parse(path, ref)`."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from etl.adapters import bmo, dares_mmo, dares_portrait, dares_tensions, drees_ecoles, ft_tension, tdbms
from etl.errors import LoadError

ADAPTERS: dict[str, ModuleType] = {
    m.NAME: m for m in (bmo, dares_mmo, dares_tensions, dares_portrait, ft_tension, tdbms, drees_ecoles)
}


def get(name: str) -> ModuleType:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise LoadError(name, f"unknown adapter {name!r}", expected=f"one of {sorted(ADAPTERS)}") from None


def recognise(path: Path) -> ModuleType:
    """The adapter whose layout the file has; a `LoadError` when none (or several) do."""
    matches = [m for m in ADAPTERS.values() if m.recognise(path)]
    if len(matches) != 1:
        found = "no adapter recognises the file" if not matches else (
            f"several adapters recognise the file: {[m.NAME for m in matches]}")
        raise LoadError(path.name, found, expected=f"--source one of {sorted(ADAPTERS)}")
    return matches[0]
