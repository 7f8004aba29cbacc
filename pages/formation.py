"""Formation: an indicator explorer (see observatory/explorer_page.py)."""
from __future__ import annotations

import dash

from observatory import explorer_page, views

dash.register_page(__name__, path="/formation", name="Formation",
                   title="Formation – Observatoire des métiers du social", order=3)
PREFIX = "form"


def layout(**query):
    return explorer_page.layout(views.FORMATION, PREFIX, query)


explorer_page.register(views.FORMATION, PREFIX)
