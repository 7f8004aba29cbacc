"""What the « Accessibilité » statement says is not accessible yet: the axe-core rules the suite still finds on
some page, each in the words of what a person meets. tests/test_accessibility.py checks both ways (every rule found
is named here; every rule named here is still found), so the statement never promises more than the pages hold."""
from __future__ import annotations

# axe-core rule → what a person meets, in French: every serious or critical rule the suite still finds on some page
NOT_YET = {
    "color-contrast": "le bouton « Aa » (sensibilité à la casse) des filtres des tableaux filtrables (pages "
                      "« Données » et « Méthodologie ») est presque invisible (contraste 1,1:1) : c'est un "
                      "élément du composant de tableau de Dash",
    "nested-interactive": "les cases « Comparer avec » (région, France) sont des options de liste contenant une case "
                          "à cocher : un lecteur d'écran les annonce deux fois",
    "aria-input-field-name": "les groupes de cases « Comparer avec » n'ont pas de nom accessible propre (leur titre "
                             "est affiché mais pas relié)",
}
MODERATE = {
    "scrollable-region-focusable": "les tableaux et cartes qui défilent dans leur cadre ne se font pas défiler au "
                                   "clavier seul",
}
