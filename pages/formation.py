"""Formation: an indicator explorer (see pages/_components/explorer.py)."""
from __future__ import annotations

from observatory import views
from pages._components import explorer

PREFIX = "form"
layout = explorer.register_page(__name__, views.explorer.FORMATION, PREFIX, order=3)
