"""Formation: an indicator explorer (see pages/_components/explorer.py)."""
from __future__ import annotations

import dash

from observatory import views
from pages._components import explorer

dash.register_page(__name__, path="/formation", name="Formation",
                   title="Formation – Observatoire des métiers du social", order=3)
PREFIX = "form"


def layout(**query):
    return explorer.layout(views.explorer.FORMATION, PREFIX, query)


explorer.register(views.explorer.FORMATION, PREFIX)
