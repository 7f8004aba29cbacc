"""Build the light map geometry the dashboard ships once: régions and départements, DROM as insets.

Reads the IGN-derived GeoJSON in data/reference/geo/ (metropolitan France from the simplified files, the
five DROM from the full ones), moves each DROM into a box west of metropolitan France, rounds coordinates
to 0.01° (about 1 km) and drops repeated points. Output: data/reference/geo/{regions,departements}_insets.geojson.

    .venv/bin/python scripts/build_map_geometry.py
"""
from __future__ import annotations

import json
from pathlib import Path

GEO = Path(__file__).resolve().parent.parent / "data/reference/geo"
DROM = {"971": 0, "972": 1, "973": 2, "974": 3, "976": 4}  # département → inset slot (top to bottom)
DROM_REGION = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}
BOX_WIDTH, BOX_HEIGHT, BOX_LEFT, BOX_TOP = 2.6, 1.7, -9.6, 50.6  # degrees


def _rings(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def _bounds(polygons: list) -> tuple[float, float, float, float]:
    xs = [x for poly in polygons for ring in poly for x, _ in ring]
    ys = [y for poly in polygons for ring in poly for _, y in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _simplify(ring: list, digits: int = 2) -> list:
    out = []
    for x, y in ring:
        point = [round(x, digits), round(y, digits)]
        if not out or point != out[-1]:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else []


def _inset(polygons: list, slot: int) -> list:
    x0, y0, x1, y1 = _bounds(polygons)
    scale = min(BOX_WIDTH / (x1 - x0), BOX_HEIGHT / (y1 - y0))
    left, top = BOX_LEFT, BOX_TOP - slot * (BOX_HEIGHT + 0.35)
    return [[[[left + (x - x0) * scale, top - (y1 - y) * scale] for x, y in ring] for ring in poly]
            for poly in polygons]


def _feature(code: str, name: str, polygons: list) -> dict:
    polygons = [[r for r in (_simplify(ring) for ring in poly) if r] for poly in polygons]
    polygons = [p for p in polygons if p]
    return {"type": "Feature", "properties": {"code": code, "nom": name},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons}}


def build(level: str) -> dict:
    full = json.loads((GEO / f"{level}-avec-outre-mer.geojson").read_text(encoding="utf-8"))
    light = json.loads((GEO / f"{level}-version-simplifiee.geojson").read_text(encoding="utf-8"))
    light_codes = {f["properties"]["code"]: f for f in light["features"]}
    features = []
    for feature in full["features"]:
        code, name = feature["properties"]["code"], feature["properties"]["nom"]
        drom = code if level == "departements" else DROM_REGION.get(code)
        if drom in DROM:
            features.append(_feature(code, name, _inset(_rings(feature["geometry"]), DROM[drom])))
        else:
            source = light_codes.get(code, feature)
            features.append(_feature(code, name, _rings(source["geometry"])))
    return {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["properties"]["code"])}


if __name__ == "__main__":
    for level in ("regions", "departements"):
        path = GEO / f"{level}_insets.geojson"
        path.write_text(json.dumps(build(level), separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
        print(path.name, f"{path.stat().st_size / 1024:.0f} KB", len(build(level)["features"]), "features")
