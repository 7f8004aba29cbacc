"""What the « Accessibilité » statement says is not accessible yet. `NOT_YET` and `MODERATE`: the axe-core rules
the suite still finds on some page (serious or critical, then moderate or minor), each in the words of what a
person meets; tests/test_accessibility.py checks both ways (every rule found is named here; every rule named here
is still found), so the statement never promises more than the pages hold. `OTHER`: what an automatic check does
not see, known to us and said plainly."""
from __future__ import annotations

# axe-core rule → what a person meets, in French: every serious or critical rule the suite still finds on some page
NOT_YET: dict[str, str] = {}  # none at 1280 or 390 px, on opening or after a filter change (issue 22)
MODERATE: dict[str, str] = {}  # none either (scrollable tables were the last: they take the focus now)
# Known limits that axe-core does not measure (key → words); the statement lists them under their key
OTHER = {
    "cartes-teintes-claires": "sur les cartes et la carte de chaleur des filières, les teintes les plus claires "
                              "de l'échelle et le gris « pas de donnée » ont un contraste inférieur à 3:1 avec le "
                              "fond blanc ; chaque valeur est aussi écrite dans sa case ou donnée par la phrase de "
                              "synthèse et le tableau placé sous le graphique",
    "tri-et-casse-au-clavier": "dans les tableaux, le tri par colonne et le bouton « Aa » (respecter les "
                               "majuscules dans un filtre) ne s'utilisent qu'à la souris ; au clavier, chaque "
                               "colonne se filtre (sans tenir compte des majuscules) et l'export donne toutes les "
                               "lignes, à trier dans un tableur",
    "audit-complet": "aucun audit complet des 106 critères du RGAA n'a été mené : les contrôles automatiques et "
                     "les parcours au clavier testés ne couvrent qu'une partie des critères (lecteurs d'écran, "
                     "zoom à 200 %, alternatives des documents téléchargeables ne sont pas vérifiés)",
}
