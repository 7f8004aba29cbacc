"""What each page shows for a set of filters: pure functions from Filters to figures, texts and tables.

Dash callbacks only call these; tests call them too, without a browser, and compare with the store. One module
per page or job: `explorer` (recrutement, ressources humaines, formation), `home`, `families`, `own_figures`
(« Mon établissement »), and `names` (how every page names professions, territories, categories and sources).
Imported by `pages/` and `app.py`; imports only `observatory` modules (never Dash nor `etl`).
"""
from observatory.views import explorer, families, home, names, own_figures

__all__ = ["explorer", "families", "home", "names", "own_figures"]
