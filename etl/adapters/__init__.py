"""One adapter per published layout. Each module has NAME, `recognise(path)` and `parse(path, ref)`, and turns a
file into validated frames (`etl.frames.Parsed`) without writing anything; `common.py` holds the steps the
long-format CSV adapters share.

Imported by the loader, `etl.uploads` (the `tdbms` adapter reads an upload), the CLI and tests; an adapter
imports `etl.read`, `etl.frames`, `etl.errors`, `etl.reference` and `observatory`'s pure modules, never the
loader.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from types import ModuleType

from etl.adapters import (
    bmo,
    dares_mmo,
    dares_outlook,
    dares_portrait,
    dares_tensions,
    drees_ecoles,
    ft_tension,
    tdbms,
)
from etl.errors import LoadError
from etl.read.files import check_file_size
from etl.read.zipsafe import check_workbook

ADAPTERS: dict[str, ModuleType] = {
    m.NAME: m for m in (bmo, dares_mmo, dares_tensions, dares_portrait, dares_outlook, ft_tension, tdbms,
                        drees_ecoles)
}


def get(name: str) -> ModuleType:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise LoadError("unknown_adapter", name, name=name, names=sorted(ADAPTERS)) from None


def recognise(path: Path) -> ModuleType:
    """The first adapter, in ADAPTERS order, whose layout the file has; a `LoadError` when none does.

    The order puts the cheap signatures first, so that
    recognising a file never reads a large sheet it does not need (a BMO workbook is told by the header
    rows of its sheets, read from the XML stream). The file's bounds (etl/limits.py) are checked first, so that
    a file out of bounds is refused as such rather than as unrecognised.
    """
    check_file_size(path)
    if zipfile.is_zipfile(path):
        check_workbook(path)
    for adapter in ADAPTERS.values():
        if adapter.recognise(path):
            return adapter
    raise LoadError("unrecognised", path.name, names=sorted(ADAPTERS))
