"""Dash building blocks shared by the pages (components and the explorer page's layout and callbacks).

They live beside the pages, not in `observatory/`: the core (store, queries, figures, exports, API) knows
nothing of Dash, so the CLI, the API and the tests use it without the dashboard. Dash's page registry skips
this folder (its name starts with `_`).

Who may import it: the pages and `app.py` only; it imports `observatory` and Dash, never the ETL beyond its
upload facade.
"""
