"""What the home page shows from the store: key figures, which themes are real or fictitious, and the changes
since the last vintage."""
from __future__ import annotations

import re

from observatory import catalogue, queries
from observatory.status import label as status_label
from observatory.store import Store
from observatory.views.names import population_labels, source_names, source_short


def store_key_figures(store: Store) -> list[dict]:
    """Home cards computed from the store: the share of difficult projects, social work against all
    occupations, for the latest period the store holds (source and vintage from the store)."""
    from observatory.formatting import with_unit

    indicator_id = catalogue.PAGES["recrutement"][0]
    entry = catalogue.get(indicator_id)
    cards = []
    for series in queries.sources_for(store, indicator_id)[:1]:
        periods = queries.periods_for(store, indicator_id, series)
        if not periods:
            continue
        frame = queries.observations(store, indicator_id, series, professions=["travail_social", "ensemble"],
                                     territories=["FR"], period=periods[-1])
        values = {r.profession_id: r for r in frame.itertuples(index=False)}
        if {"travail_social", "ensemble"} <= set(values):
            social, every = values["travail_social"], values["ensemble"]
            cards.append({
                "value": f"{with_unit(social.value, entry.unit, 0)} / {with_unit(every.value, entry.unit, 0)}",
                "label": f"{entry.label.lower()} : métiers du social / tous métiers (France, {periods[-1]}"
                         + (", minorant : cellules secrètes au dénominateur seulement)"
                            if "partial" in (social.status, every.status) else ")"),
                "source": source_names(store).get(every.source_id, every.source_id),
                "url": queries.source_row(store, every.source_id).get("url"),
                "illustrative": bool(queries.source_row(store, every.source_id).get("is_illustrative")),
            })
    return cards


THEMES = {"recrutement": "recrutement", "ressources_humaines": "ressources humaines", "tensions": "tensions",
          "contexte": "contexte de l'emploi", "formation": "formation", "perspectives": "perspectives",
          "besoins": "besoins de la population"}


def source_family(store: Store, source_id: str) -> str:
    """A source named shortly for a sentence: « France Travail BMO », « DARES », « ATIH/ANAP TDBMS »."""
    row = queries.source_row(store, source_id)
    producer = str(row.get("producer", source_id))
    if " – mise en forme " in producer:  # an illustrative file in a published layout: name the layout
        return producer.split(" – mise en forme ", 1)[1]
    producer = re.sub(r"\s*\(.*?\)", "", producer).strip()
    short = source_short(store, source_id)
    return producer if short in producer else f"{producer} {short}"


def real_and_fictitious(store: Store) -> dict[bool, dict[str, list[str]]]:
    """Which themes the store's real and fictitious (is_illustrative) sources feed, from the store and the
    catalogue: {is_illustrative: {theme label: [source names]}}, themes in the catalogue's order."""
    out: dict[bool, dict[str, list[str]]] = {False: {}, True: {}}
    for entry in catalogue.INDICATORS:
        for series in queries.sources_for(store, entry.indicator_id):
            row = queries.source_row(store, series)
            if row.get("scope", "published") != "published":
                continue
            names = out[bool(row.get("is_illustrative"))].setdefault(THEMES.get(entry.theme, entry.theme), [])
            name = source_family(store, series)
            if name not in names:
                names.append(name)
    return out


def real_and_fictitious_sentence(store: Store) -> str:
    """« Chiffres réels : recrutement (France Travail BMO), … ; chiffres fictifs calibrés : ressources humaines
    (ATIH/ANAP TDBMS), … » — the home page's first screen says which figures are which."""
    def part(themes: dict[str, list[str]]) -> str:
        return ", ".join(f"{theme} ({', '.join(names)})" for theme, names in themes.items())

    split = real_and_fictitious(store)
    sentence = f"Chiffres réels : {part(split[False])}" if split[False] else "Aucun chiffre réel dans l'entrepôt"
    if split[True]:
        sentence += (" ; chiffres fictifs calibrés (données illustratives, pas des données réelles) : "
                     + part(split[True]))
    return sentence + "."


def changes_since_last_vintage(store: Store) -> list[dict]:
    """National figures of the home page's indicators (catalogue): the last two periods of the same series.

    For each indicator, the store's preferred series with national figures; nothing here names a source or
    a year, so a newly loaded vintage shows up at once."""
    from observatory.formatting import points, with_unit

    rows = []
    for indicator_id in catalogue.PAGES["accueil"]:
        entry = catalogue.get(indicator_id)
        for series in queries.sources_for(store, indicator_id):
            frame = queries.observations(store, indicator_id, series, professions=["ensemble"], territories=["FR"])
            frame = frame.dropna(subset=["value"]).sort_values("period")
            if len(frame):
                break
        else:
            continue
        last = frame.iloc[-1]
        previous = frame.iloc[-2] if len(frame) > 1 else None
        note = last.series_break if isinstance(last.series_break, str) else ""
        rows.append({
            "Indicateur": entry.label, "Champ": population_labels(store, indicator_id).get("ensemble", "ensemble"),
            "Source": source_names(store).get(last.source_id, last.source_id),
            "Dernière valeur": f"{with_unit(last.value, entry.unit, entry.decimals)} ({int(last.period)})",
            "Période précédente": (f"{with_unit(previous.value, entry.unit, entry.decimals)} ({int(previous.period)})"
                                   if previous is not None else "une seule période publiée"),
            "Évolution": (points(last.value - previous.value, entry.unit, entry.decimals) if previous is not None
                          else "—") + (" (rupture de série)" if note else ""),
            "Statut": status_label(last.status),
            "Rupture de série": note,
        })
    return rows
