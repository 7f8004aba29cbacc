"""Every package of the project opens with a docstring saying what lives there and who may import it: the next
engineer reads the layout from the code, not from memory."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.parent for p in ROOT.glob("*/**/__init__.py")
                  if not {".venv", ".git", ".cache", "tests"} & set(p.relative_to(ROOT).parts))


def test_the_project_has_its_packages():
    names = {str(p.relative_to(ROOT)) for p in PACKAGES}
    assert {"observatory", "etl", "etl/adapters", "pages", "pages/_components"} <= names


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_package_says_what_lives_there_and_who_may_import_it(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert len(doc.split()) >= 15, f"{package.name}/__init__.py: say what lives there"
    assert re.search(r"may import|[Ii]mported by", doc), f"{package.name}/__init__.py: say who may import it"
