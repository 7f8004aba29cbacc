"""Ressources humaines: an indicator explorer (see pages/_components/explorer.py)."""
from __future__ import annotations

import dash

from observatory import views
from pages._components import explorer

dash.register_page(__name__, path="/ressources-humaines", name="Ressources humaines",
                   title="Ressources humaines – Observatoire des métiers du social", order=2)
PREFIX = "rh"


def layout(**query):
    return explorer.layout(views.RESSOURCES_HUMAINES, PREFIX, query)


explorer.register(views.RESSOURCES_HUMAINES, PREFIX)
