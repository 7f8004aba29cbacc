"""The code's shape, checked: the core (`observatory/`) imports neither Dash nor the ETL, so the CLI, the API
and the tests use it without a dashboard; pages and `app.py` reach the ETL only through its facade
(`etl.uploads`); the ETL's modules form no import cycle; each of its packages says what lives there and who may
import it."""
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


@pytest.mark.parametrize("path", [*sorted((ROOT / "pages").rglob("*.py")), ROOT / "app.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_and_the_app_reach_the_etl_only_through_its_facade(path):
    etl = {m for m in imported_modules(path) if top(m) == "etl"}
    assert etl <= {"etl.uploads"}, f"{path.name} imports {sorted(etl)}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports, at any depth (inside functions too). `from p import
    m` points at the module `p.m` when there is one, else at `p`."""
    root = package.parent
    modules = {module_name(p, root): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                           else node.module for alias in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_etls_modules_form_no_import_cycle():
    graph = import_graph(ROOT / "etl")
    assert "etl.read.xlsx" in graph and "etl.read.zipsafe" in graph["etl.read.xlsx"]  # the graph sees the seams
    assert cycle(graph) is None, " → ".join(cycle(graph))


def test_the_cycle_check_catches_a_planted_cycle(tmp_path):
    """A circle hidden by a function-level import, two modules deep, is found; the same package without it is not."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from pkg import c\n")
    (package / "c.py").write_text("def g():\n    import pkg.a\n")
    assert cycle(import_graph(package)) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    (package / "c.py").write_text("import os\n")
    assert cycle(import_graph(package)) is None


@pytest.mark.parametrize("init", sorted((ROOT / "etl").rglob("__init__.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_etl_package_says_what_lives_there_and_who_may_import_it(init):
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    assert len(doc) > 200 and "import" in doc, f"{init.relative_to(ROOT)}: no docstring saying who may import it"


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
