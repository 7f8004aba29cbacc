"""The dashboard's pages: one module per page, registered by Dash (`dash.register_page`); the nav is built from
`dash.page_registry`. Each page holds its layout and thin callbacks that call the core (`observatory`).

Who may import it: only Dash's page loader and `app.py` (and the browser tests through the running app). Pages
import `observatory` freely, Dash building blocks from `pages/_components`, and reach the ETL only through its
upload facade (checked by `tests/test_code_shape.py`).
"""
