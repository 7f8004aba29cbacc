"""Which components a layout holds, and whether every callback is wired to them (issue 19).

`suppress_callback_exceptions` is off: Dash's validation layout (the app's shell and every page's layout) must
hold every id a callback names, on pages not on screen too. `unwired` is the check (the tests run it on the
app); `id_skeleton` is what the browser gets to validate against — the same ids and component types, without
the figures and data of every page (the full validation layout weighs more than a megabyte).
"""
from __future__ import annotations

import json
from collections.abc import Iterator

from dash.development.base_component import Component


def components_with_ids(node) -> Iterator[Component]:
    """Every component of a layout tree that has an id (in its children or in any other property)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, Component):
            if getattr(item, "id", None) is not None:
                yield item
            stack.extend(value for name in reversed(item._prop_names)
                         if isinstance(value := getattr(item, name, None), (Component, list, tuple)))


def _id_text(ident) -> str:
    return ident if isinstance(ident, str) else json.dumps(ident, sort_keys=True, separators=(",", ":"))


def id_skeleton(layout) -> dict:
    """The layout's components with an id, flat, as the renderer reads them: type, namespace and id only."""
    return {"type": "Div", "namespace": "dash_html_components", "props": {"children": [
        {"type": c._type, "namespace": c._namespace, "props": {"id": c.id}} for c in components_with_ids(layout)]}}


def _valid_prop(component: Component, prop: str) -> bool:
    prop = prop.split("@")[0]  # `allow_duplicate` outputs carry `@<hash>`
    return prop in component._prop_names or any(
        prop.startswith(w) for w in getattr(component, "_valid_wildcard_attributes", []))


def _dependencies(spec: dict) -> Iterator[tuple[str, str]]:
    """(id, property) of every Output, Input and State of a registered callback."""
    output = spec["output"]
    for part in output[2:-2].split("...") if output.startswith("..") else [output]:
        yield tuple(part.rsplit(".", 1))
    for item in (*spec["inputs"], *spec["state"]):
        yield _id_text(item["id"]), item["property"]


def unwired(callbacks: list[dict], layout) -> dict[str, list[str]]:
    """The callbacks (by their output spec) naming an id the layout lacks, or a property its component lacks."""
    known = {_id_text(c.id): c for c in components_with_ids(layout)}
    problems: dict[str, list[str]] = {}
    for spec in callbacks:
        for ident, prop in _dependencies(spec):
            if ident not in known:
                problems.setdefault(spec["output"], []).append(f"{ident}: no such id")
            elif not _valid_prop(known[ident], prop):
                problems.setdefault(spec["output"], []).append(f"{ident}.{prop}: no such property")
    return problems
