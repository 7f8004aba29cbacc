"""The ETL: reads the published files (and one's own figures), validates them and writes the store.

`read/` reads raw files within bounds; `adapters/` turn one published layout each into frames (`frames.py`);
`loader.py` writes one load in one transaction (`private.py` for own figures kept apart, `summary.py` for what
a load did); `reference.py` the reference data; `build.py` the whole store; `__main__.py` the CLI. Every refusal
is a `LoadError` with a code and its English and French texts (`errors.py`); bounds live in `limits.py`.

Who may import what: `observatory/` never imports `etl`; the web app (`pages/`, `app.py`) imports only
`etl.uploads`, its facade; the CLI, benches, scripts and tests import any module. Inside, modules form no import
cycle (tests/test_code_shape.py).
"""
