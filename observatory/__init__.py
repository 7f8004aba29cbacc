"""Observatoire des métiers du social — the core: store, catalogue, query layer, figures, exports, API, outlook.

What lives here: the schema and the store object (`schema`, `store`), the indicator catalogue and reference
vocabularies (`catalogue`, `sources`, statuses), the selection model and its URL codec (`urlstate`), the pure
query and view functions, plotly figures, CSV/XLSX/JSON renderings, the HTTP API and the workforce outlook.

Who may import it: everyone — the dashboard (`app.py`, `pages/`), the ETL (`etl/`), the CLI, `bench/`,
`scripts/` and the tests. It imports neither `etl` nor Dash (checked by `tests/test_code_shape.py`), so the API,
the CLI and the tests use it without a dashboard, and a load never depends on how pages look.
"""
