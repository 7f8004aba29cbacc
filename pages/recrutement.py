"""Recrutement: an indicator explorer (see pages/_components/explorer.py)."""
from __future__ import annotations

from observatory import views
from pages._components import explorer

PREFIX = "rec"
layout = explorer.register_page(__name__, views.explorer.RECRUTEMENT, PREFIX, order=1)
