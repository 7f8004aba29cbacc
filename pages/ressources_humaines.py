"""Ressources humaines: an indicator explorer (see observatory/explorer_page.py)."""
from __future__ import annotations

import dash

from observatory import explorer_page, views

dash.register_page(__name__, path="/ressources-humaines", name="Ressources humaines",
                   title="Ressources humaines – Observatoire des métiers du social", order=2)
PREFIX = "rh"


def layout(**query):
    return explorer_page.layout(views.RESSOURCES_HUMAINES, PREFIX, query)


explorer_page.register(views.RESSOURCES_HUMAINES, PREFIX)
