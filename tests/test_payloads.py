"""No dashboard response over 300 KB (issue 19: /territoires sent 869 KB, the map's GeoJSON once per trace):
every page's layout, the map on a level change, the data table on its largest selections. In process, through
Flask's test client, as the browser asks (bench/dashboard.py measures the same on a served app)."""
from __future__ import annotations

import pytest

LIMIT = 300 * 1024


def call(client, output_id: str, values: dict, changed: str) -> bytes:
    """The response of the callback writing `output_id` for these input values (by id, property `value`)."""
    spec = next(s for s in client.get("/_dash-dependencies").get_json()
                if any(part.split(".")[0] == output_id for part in s["output"].strip(".").split("...")))
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in spec["output"].strip(".").split("...")]
    body = {"output": spec["output"], "outputs": outputs if spec["output"].startswith("..") else outputs[0],
            "inputs": [{**i, "value": values.get(i["id"])} for i in spec["inputs"]],
            "state": [{**s, "value": values.get(s["id"])} for s in spec["state"]], "changedPropIds": [changed]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data()[:300]
    return response.get_data()


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


def test_every_page_and_its_layout_stay_under_300_kb(client):
    import dash

    for path in sorted(p["path"] for p in dash.page_registry.values()):
        page = client.get(path).get_data()
        layout = call(client, "_pages_content", {"_pages_location": path}, "_pages_location.pathname")
        assert len(page) < LIMIT and len(layout) < LIMIT, (path, len(page), len(layout))
        if path == "/territoires":  # the map names its geometry by URL: the page carries no GeoJSON
            assert b"departements_insets.geojson?v=" in layout and b'"coordinates"' not in layout


def test_the_map_level_change_sends_no_geometry(client):
    for level in ("region", "departement"):
        body = call(client, "ter-map", {"ter-indicator": "turnover_rate", "ter-level": level,
                                        "ter-profession": "ensemble"}, "ter-level.value")
        assert len(body) < LIMIT and b'"coordinates"' not in body, (level, len(body))


@pytest.mark.parametrize("indicator", ["recruitment_projects", "recruitment_difficulty_share", "turnover_rate"])
def test_the_data_table_stays_under_300_kb_at_its_largest(client, indicator):
    body = call(client, "data-table", {"data-indicator": indicator, "data-profession": "ensemble",
                                       "data-level": "bassin", "data-territory": ""}, "data-level.value")
    assert len(body) < LIMIT, (indicator, len(body))


def test_the_geometry_is_served_once_and_cached(client):
    from observatory import figures

    for level in ("region", "departement"):
        response = client.get(figures.geometry_url(level))
        assert response.status_code == 200 and response.headers["Cache-Control"].endswith("immutable")
        assert response.get_json()["features"] == figures.geometry(level)["features"]
    for other in ("regions-avec-outre-mer.geojson", "observatory.sqlite"):
        assert client.get(f"/carte/{other}").status_code == 404  # those two files only
