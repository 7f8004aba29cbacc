"""Recrutement: an indicator explorer (see observatory/explorer_page.py)."""
from __future__ import annotations

import dash

from observatory import explorer_page, views

dash.register_page(__name__, path="/recrutement", name="Recrutement",
                   title="Recrutement – Observatoire des métiers du social", order=1)
PREFIX = "rec"


def layout(**query):
    return explorer_page.layout(views.RECRUTEMENT, PREFIX, query)


explorer_page.register(views.RECRUTEMENT, PREFIX)
