"""Recrutement: an indicator explorer (see pages/_components/explorer.py)."""
from __future__ import annotations

import dash

from observatory import views
from pages._components import explorer

dash.register_page(__name__, path="/recrutement", name="Recrutement",
                   title="Recrutement – Observatoire des métiers du social", order=1)
PREFIX = "rec"


def layout(**query):
    return explorer.layout(views.explorer.RECRUTEMENT, PREFIX, query)


explorer.register(views.explorer.RECRUTEMENT, PREFIX)
