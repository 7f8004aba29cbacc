"""One adapter per published layout. Each module has NAME, `recognise(path)` and `parse(path, ref)`, and turns a
file into validated frames (`etl.frames.Parsed`) without writing anything; `common.py` holds the steps the
long-format CSV adapters share.

Imported by the loader, `etl.uploads` (the `tdbms` adapter reads an upload), the CLI and tests; an adapter
imports `etl.read`, `etl.frames`, `etl.errors`, `etl.reference` and `observatory`'s pure modules, never the
loader.
"""
from __future__ import annotations

import importlib
import zipfile
from pathlib import Path
from types import ModuleType

from etl.errors import LoadError
from etl.read.files import check_file_size
from etl.read.zipsafe import check_workbook

# Every adapter, by NAME (its module's name), in the order `recognise` tries them: the cheap signatures first.
# A module is imported when it is first asked for: `python -m etl load --source bmo` imports only the BMO adapter.
NAMES = ("bmo", "dares_mmo", "dares_tensions", "dares_portrait", "dares_outlook", "ft_tension", "tdbms",
         "drees_ecoles", "insee_population", "drees_aide_sociale", "drees_personnel", "insee_projections",
         "drees_apa_gir")


def get(name: str) -> ModuleType:
    if name not in NAMES:
        raise LoadError("unknown_adapter", name, name=name, names=sorted(NAMES))
    return importlib.import_module(f"{__name__}.{name}")


def recognise(path: Path) -> ModuleType:
    """The first adapter, in NAMES order, whose layout the file has; a `LoadError` when none does.

    The order puts the cheap signatures first, so that
    recognising a file never reads a large sheet it does not need (a BMO workbook is told by the header
    rows of its sheets, read from the XML stream). The file's bounds (etl/limits.py) are checked first, so that
    a file out of bounds is refused as such rather than as unrecognised.
    """
    check_file_size(path)
    if zipfile.is_zipfile(path):
        check_workbook(path)
    for name in NAMES:
        adapter = get(name)
        if adapter.recognise(path):
            return adapter
    raise LoadError("unrecognised", path.name, names=sorted(NAMES))
