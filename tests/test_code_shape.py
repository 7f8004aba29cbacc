"""The code's shape, checked: the core (`observatory/`) imports neither Dash nor the ETL, so the CLI, the API
and the tests use it without a dashboard; pages reach the ETL only through its facade for uploads."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", sorted((ROOT / "observatory").glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_neither_dash_nor_the_etl(path):
    forbidden = {m for m in imported_modules(path)
                 if top(m) in {"etl", "dash", "dash_bootstrap_components", "dash_ag_grid", "flask_caching"}}
    assert forbidden == set(), f"{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", sorted((ROOT / "pages").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_reach_the_etl_only_through_its_upload_facade(path):
    etl = {m for m in imported_modules(path) if top(m) == "etl"}
    assert etl <= {"etl.private", "etl.errors"}, f"{path.name} imports {sorted(etl)}"


def test_the_rule_would_catch_a_violation(tmp_path):
    """The checker itself: a file importing dash and etl inside a function is seen."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from etl.loader import load_file\n    import dash\n")
    assert {"etl.loader", "dash"} <= imported_modules(sample)


def test_the_nav_is_built_from_the_page_registry(dash_app):
    import dash

    import app

    paths = [path for path, _name in app.nav()]
    registered = {p["path"] for p in dash.page_registry.values()} - {"/404"}
    assert set(paths) == registered and paths[0] == "/"
    assert "/404" not in paths
