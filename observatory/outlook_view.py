"""What the page « Perspectives » shows, as pure functions (as `views` does for the other pages).

From an `outlook_data.Projection` and the `outlook_data.Store` to the page's fields: the one-sentence summary,
the two figures (`outlook_figures`), the back-test tables, the assumptions, the ranking and the export links.
No Dash here, no store access: the page's callbacks (pages/perspectives.py) call `view` and write its fields.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from observatory import catalogue, demand, figures, outlook, outlook_data
from observatory import outlook_figures as charts
from observatory.formatting import number, parse_number, points
from observatory.outlook_data import Projection, Store, horizons, ranking
from observatory.outlook_figures import MINUS, missing, persons, plain, signed, signed_rate
from observatory.urlstate import OutlookRequest, encode_outlook

FORMATS = ("csv", "xlsx", "json")
RANKING_INPUTS = tuple(i for i in outlook_data.INPUTS if i != "employment_region_share")  # France and régions


# --- controls ------------------------------------------------------------------------------------------------
SOCIAL_HEADING = "Métiers du travail social"
OTHERS_HEADING = "Autres métiers"


def family_options(data: Store) -> list[dict]:
    """Every FAP-87 family of the store, « T2A – Aides à domicile… »: the travail social families first (as the
    store's reference says, `Store.social`), then the others under a heading « Autres métiers » (headings are
    options that cannot be chosen)."""
    def option(fap: str) -> dict:
        return {"label": f"{fap} – {data.families[fap].label}", "value": fap}

    social = [f for f in data.social if f in data.families]
    others = sorted(f for f in data.families if f not in social)
    heading = [{"label": SOCIAL_HEADING, "value": "__social", "disabled": True}] if social else []
    return heading + [option(f) for f in social] + (
        [{"label": OTHERS_HEADING, "value": "__others", "disabled": True}] + [option(f) for f in others]
        if others else [])


def horizon_options(base_year: int, current: int | None = None) -> list[dict]:
    """The horizons the model offers (`outlook_data.horizons`: round years from the base year to its reach), and
    the link's own year when it is not a round one (`to=2033` stays shown, not blanked)."""
    years = sorted(set(horizons(base_year)) | ({current} if current else set()))
    return [{"label": str(year), "value": year} for year in years]


def field_value(value: float | None) -> str | None:
    """A scenario value as its field shows it: French decimals (`1,5`), a plain hyphen minus (typed back as is)."""
    return None if value is None else f"{value:g}".replace(".", ",")


def territory_options(data: Store, labelled: list[dict]) -> list[dict]:
    """France, the régions and the départements the outlook covers, labelled as on the other pages (`labelled`:
    their options), in that order."""
    names = {o["value"]: o["label"] for o in labelled}
    level = {"FR": "nation"}
    options = [{"label": names.get(t, catalogue.place(level.get(t, "departement" if t.startswith("DEP-") else "region"),
                                                      name)), "value": t} for t, name in data.territories.items()]
    return sorted(options, key=lambda o: (o["value"] != "FR", o["value"].startswith("DEP-"), o["label"]))


def family_trend(data: Store, family: str) -> float:
    """The demand growth used when the field is empty: the family's own trend (% per year)."""
    return data.families[family].trend or 0.0


def trend_hint(data: Store, family: str) -> tuple[str, str]:
    """(placeholder, label hint) of the demand growth field: what is used when it is empty (the family's driver,
    or its trend for a family without one); the trend is the alternative one can type in."""
    inputs = data.families[family]
    growth = family_trend(data, family)
    if inputs.driver and inputs.elasticity is not None:
        return number(growth, 1), (f" – vide : l'emploi suit « {inputs.driver_label.lower()} » (élasticité "
                                   f"{number(inputs.elasticity, 2)}) ; tendance de la famille : "
                                   f"{signed_rate(growth)} par an")
    return number(growth, 1), f" – vide : tendance de la famille, {signed_rate(growth)} par an"


def request_args(profession: str, territory: str | None, values: dict, period: dict | None = None) -> dict:
    """The query the page's controls stand for (the codec's keys); empty fields are left out."""
    args = {"profession": profession, "territory": territory or "FR"}
    for key in ("from", "to"):
        if (period or {}).get(key):
            args[key] = str(period[key])
    for name, value in values.items():
        if value is not None and str(value).strip() != "":
            args[name] = str(value)
    return args


def ignored(values: dict, request: OutlookRequest) -> str:
    """The fields the codec refused (out of range, not a number): said on screen, never silently dropped."""
    wrong = []
    for name, value in values.items():
        if value is None or str(value).strip() == "":
            continue
        p = outlook.PARAMETERS[name]
        try:
            given = parse_number(value)
        except ValueError as error:
            wrong.append(f"« {p.label} » : {error}")
            continue
        if getattr(request.scenario, name) != given:
            wrong.append(f"« {p.label} » : {value} hors de la plage {number(p.low, 1)} – {number(p.high, 1)} "
                         f"({p.unit})")
    return ("⚠ Valeur ignorée, scénario central retenu pour ce paramètre : " + " ; ".join(wrong) + ".") if wrong else ""


def export_links(request: OutlookRequest) -> dict[str, str]:
    """The API's URL for the same request, one per format: the file holds the page's figures."""
    query = encode_outlook(request)
    return {fmt: f"/api/v1/projections?{query}&format={fmt}" for fmt in FORMATS}


# --- provenance ----------------------------------------------------------------------------------------------
def graduates_illustrative(data: Store) -> bool:
    return bool(data.sources.get("graduates", {}).get("illustrative"))


def used_inputs(projection: Projection) -> tuple[str, ...]:
    """The store's inputs this projection rests on: no graduates' source for a family without training data,
    the regional shares only for a région."""
    return outlook_data.used_inputs(projection.family, projection.request.territory)


def source_note(data: Store, indicators: tuple[str, ...]) -> str:
    """« DARES 2014, 2019 ; Observatoire – mise en forme DREES enquête Écoles 2024 (fictif) »: the producers
    (without their brackets) and vintages of the store's inputs behind a chart, short enough for a title."""
    vintages: dict[str, set[str]] = {}
    fictive: set[str] = set()
    for indicator in indicators:
        p = data.sources.get(indicator, {})
        for producer in p.get("producers") or ["source non renseignée"]:
            short = re.sub(r"\s*\([^)]*\)", "", producer).strip()
            vintages.setdefault(short, set()).update(p.get("vintages", []))
            if p.get("illustrative"):
                fictive.add(short)
    return " ; ".join(f"{name} {', '.join(sorted(years))}".strip() + (" (fictif)" if name in fictive else "")
                      for name, years in vintages.items()) or "non disponible"


def source_line(projection: Projection) -> str:
    """Under the charts: the store's sources (titles, vintages, illustrative flag) from the assumptions."""
    rows = {r["parameter"]: r for r in projection.assumptions}
    parts = []
    for key in ("base_year", "other_exit_rate", "graduates"):
        row = rows.get(key)
        if row and row["source"] not in parts:
            parts.append(row["source"] + (" (illustratif)" if row["illustrative"] and "ILLUSTRATIF" not in
                                          row["source"] else ""))
    return ("Sources : " + " · ".join(parts) + ". Projection de l'observatoire : hypothèses et plages dans le "
            "tableau ci-dessous.")


# --- the sentence --------------------------------------------------------------------------------------------
def _gap_words(gap: float) -> str:
    return (f"un écart de {persons(gap)} postes" if round(gap) >= 0
            else f"un excédent de {persons(-gap)} jeunes diplômés sur les postes à pourvoir")


def sentence(totals: dict[str, float], end: int, illustrative: bool,
             central: dict[str, float] | None = None, workforce: tuple[int, float] | None = None) -> str:
    """« D'ici 2035, … départs …, … créations …, soit … postes à pourvoir, pour … jeunes diplômés : un écart de …
    postes. En comptant aussi … » (`outlook.totals` of the window; `central`: the central scenario's totals when
    the scenario differs from it; `workforce`: (base year, employment) of the territory).

    The published-equivalent figures (DARES / France Stratégie: exits, creations, openings) come first; the
    complete gap, with mid-career exits counted every year, comes last and, when it exceeds the workforce, says
    why (it is an upper bound, not a number of persons to replace)."""
    change = totals["job_change"]
    change_words = (f"{persons(change)} créations nettes d'emplois" if round(change) >= 0
                    else f"{persons(-change)} suppressions nettes d'emplois")
    openings = totals["openings"]
    ref_openings = f" (scénario central : {persons(central['openings'])})" if central else ""
    head = (f"D'ici {end}, {persons(totals['retirements'])} départs en fin de carrière et {change_words}, soit "
            f"{persons(openings)} postes à pourvoir{ref_openings}")
    other = persons(totals["other_exits"])
    if missing(totals.get("entrants")):
        all_openings = openings + totals["other_exits"]
        ref_all = (f" (scénario central : {persons(central['openings'] + central['other_exits'])})"
                   if central else "")
        return (f"{head} ; aucune donnée de formation rattachée à cette famille : pas d'écart calculé face aux "
                f"jeunes diplômés. En comptant aussi {other} sorties en cours de carrière (borne haute), "
                f"{persons(all_openings)} postes seraient à pourvoir{ref_all}."
                + beyond_workforce(all_openings, workforce, "Ce total"))
    flag = " (données de formation illustratives)" if illustrative else ""
    ref = ref_all = ""
    if central and not missing(central.get("gap")):
        ref = f" (scénario central : écart de {plain(central['gap'])} postes)"
        ref_all = f" (scénario central : {plain(central['complete_gap'])})"
    complete = totals["complete_gap"]
    complete_words = (f"l'écart complet atteint {persons(complete)} postes" if round(complete) >= 0
                      else f"l'écart complet est un excédent de {persons(-complete)} jeunes diplômés")
    return (f"{head}, pour {persons(totals['entrants'])} jeunes diplômés prenant un poste{flag} : "
            f"{_gap_words(totals['gap'])}{ref}. En comptant aussi {other} sorties en cours de carrière (borne "
            f"haute), {complete_words}{ref_all}." + beyond_workforce(complete, workforce, "L'écart complet"))


def beyond_workforce(total: float, workforce: tuple[int, float] | None, subject: str) -> str:
    """The sentence a total above the family's workforce needs, or nothing: mid-career exits are counted every
    year (a post can be left several times), so the total is an upper bound, not persons to replace."""
    if workforce is None or missing(workforce[1]) or round(total) <= round(workforce[1]):
        return ""
    year, persons_in_work = workforce
    return (f" {subject} dépasse l'effectif de {year} ({persons(persons_in_work)} personnes) parce que les sorties "
            "en cours de carrière sont comptées chaque année (une même place peut se libérer plusieurs fois) : "
            "c'est une borne haute, pas un nombre de personnes à remplacer.")


def workforce(projection: Projection) -> tuple[int, float] | None:
    """(base year, employment) of the request's territory: the national stock × the région's share."""
    family, request = projection.family, projection.request
    national = family.employment.get(family.base_year)
    if missing(national):
        return None
    share = family.share(request.territory)
    return family.base_year, float(national) * share


def employment_summary(projection: Projection) -> str:
    rows = projection.rows
    if rows.empty:
        return "Aucune année projetée."
    last = rows.iloc[-1]
    return (f"Emploi projeté en {int(last.year)} : {persons(last.employment)} personnes (fourchette : "
            f"{persons(last.employment_low)} à {persons(last.employment_high)}), pour une croissance retenue de "
            f"{signed_rate(projection.rates.growth)} par an "
            f"(± {points(projection.rates.growth_spread, '%').lstrip('+')}).")


# --- tables --------------------------------------------------------------------------------------------------
DATA_COLUMNS = {"year": "Année", "employment": "Emploi", "employment_low": "Emploi (bas)",
                "employment_high": "Emploi (haut)", "retirements": "Départs en fin de carrière",
                "job_change": "Créations nettes d'emploi", "openings": "Postes à pourvoir",
                "other_exits": "Sorties en cours de carrière", "entrants": "Jeunes diplômés",
                "gap": "Écart", "complete_gap": "Écart complet", "share_50_plus": "Part des 50 ans ou plus (%)",
                "status": "Statut"}


def data_rows(rows: pd.DataFrame) -> list[dict]:
    """« Voir les données »: the projected years as displayed (persons, French format, status in words)."""
    out = []
    for row in rows.to_dict("records"):
        shown = {}
        for key, name in DATA_COLUMNS.items():
            value = row[key]
            if key == "year":
                shown[name] = int(value)
            elif key == "status":
                shown[name] = "illustratif (jeunes diplômés)" if value == "illustrative" else "projection"
            elif key == "share_50_plus":
                shown[name] = number(value, 1)
            else:
                shown[name] = "—" if missing(value) else (signed(value) if value < 0 else persons(value))
        out.append(shown)
    return out


def backtest_rows(bt: outlook.Backtest) -> list[dict]:
    """The family's back-test: observed, projected and naive, employment and the share of 50 or over."""
    return [
        {"Mesure": "Emploi (personnes)", f"Observé en {bt.target_year}": persons(bt.actual_employment),
         "Projeté par le modèle": persons(bt.projected_employment),
         "Projection naïve": persons(bt.naive_employment),
         "Écart du modèle": signed_rate(bt.employment_error),
         "Écart de la projection naïve": signed_rate(bt.naive_employment_error)},
        {"Mesure": "Part des 50 ans ou plus (%)", f"Observé en {bt.target_year}": number(bt.actual_share_50_plus, 1),
         "Projeté par le modèle": number(bt.projected_share_50_plus, 1),
         "Projection naïve": number(bt.naive_share_50_plus, 1),
         "Écart du modèle": points(bt.share_error, "%"),
         "Écart de la projection naïve": points(bt.naive_share_error, "%")},
    ]


def _better(bt: outlook.Backtest) -> tuple[bool, bool]:
    return (abs(bt.employment_error) < abs(bt.naive_employment_error),
            abs(bt.share_error) < abs(bt.naive_share_error))


def verdict(bt: outlook.Backtest) -> str:
    """« Le modèle fait mieux que la projection naïve sur l'emploi, moins bien sur la part des 50 ans ou plus. »"""
    employment, share = _better(bt)
    word = {True: "mieux", False: "moins bien"}
    if employment == share:
        return (f"Le modèle fait {word[employment]} que la projection naïve sur l'emploi et sur la part des 50 ans "
                "ou plus.")
    return (f"Le modèle fait {word[employment]} que la projection naïve sur l'emploi, {word[share]} sur la part "
            "des 50 ans ou plus.")


def social_backtest_rows(data: Store) -> list[dict]:
    """The back-test of the travail social families, one row each (absolute errors side by side)."""
    rows = []
    for fap in data.social:
        bt = data.backtests.get(fap)
        label = f"{fap} – {data.families[fap].label}"
        if bt is None:
            rows.append({"Famille": label, "Période": "—", "L'emploi suit": "—", "Emploi : écart du modèle": "—",
                         "Emploi : écart naïf": "—", "50 ans ou plus : écart du modèle": "—",
                         "50 ans ou plus : écart naïf": "—", "Verdict": "historique insuffisant"})
            continue
        employment, share = _better(bt)
        follows = (f"{data.families[fap].driver_label} (élasticité {number(bt.elasticity, 2)})"
                   if bt.elasticity is not None else "tendance de l'emploi")
        rows.append({"Famille": label, "Période": f"{bt.base_year} → {bt.target_year}", "L'emploi suit": follows,
                     "Emploi : écart du modèle": signed_rate(bt.employment_error),
                     "Emploi : écart naïf": signed_rate(bt.naive_employment_error),
                     "50 ans ou plus : écart du modèle": points(bt.share_error, "%"),
                     "50 ans ou plus : écart naïf": points(bt.naive_share_error, "%"),
                     "Verdict": f"emploi : {'mieux' if employment else 'moins bien'} ; 50 ans ou plus : "
                                f"{'mieux' if share else 'moins bien'}"})
    return rows


RANKING_COLUMNS = ("Rang", "Famille", "Départs en fin de carrière", "Créations nettes d'emploi",
                   "Postes à pourvoir", "Jeunes diplômés", "Statut")
RANKING_FIELDS = {"Départs en fin de carrière": "retirements", "Créations nettes d'emploi": "job_change",
                  "Postes à pourvoir": "openings", "Jeunes diplômés": "entrants"}


def ranking_rows(ranking: list[dict]) -> list[dict]:
    """`outlook_data.ranking` as the table shows it: persons in French, « n.d. » where nothing is known."""
    out = []
    for rank, r in enumerate(ranking, start=1):
        t = r["totals"]
        row = {"Rang": rank if t else "—", "Famille": f"{r['family']} – {r['label']}"}
        for column, key in RANKING_FIELDS.items():
            value = None if t is None else t.get(key)
            row[column] = "n.d." if missing(value) else (signed(value) if value < 0 else persons(value))
        row["Statut"] = ("emploi non publié dans ce territoire" if t is None else
                         "projection ; jeunes diplômés : aucune donnée de formation" if missing(t.get("entrants"))
                         else "projection ; jeunes diplômés illustratifs" if r["illustrative"] else "projection")
        out.append(row)
    return out


def ranking_caption(request: OutlookRequest, data: Store) -> str:
    """What the ranking table is: which families, where, which years, which scenario, and its sort order."""
    scenario = "scénario modifié ci-dessus" if request.scenario.changed() else "scénario central"
    return (f"Familles du travail social, {data.territories[request.territory]}, cumul de {request.start + 1} à "
            f"{request.end} ({scenario}), classées par postes à pourvoir (départs en fin de carrière + créations "
            "nettes d'emploi), du plus grand nombre au plus petit.")


def ranking_status(data: Store) -> str:
    """The status and source line under the ranking table."""
    flag = (" ; jeunes diplômés : série DREES illustrative (données fictives calibrées)"
            if graduates_illustrative(data) else "")
    return (f"Statut : projection de l'observatoire{flag}. Sources : {source_note(data, RANKING_INPUTS)}. "
            "Sorties en cours de carrière (borne haute) non comptées dans ce classement.")


def _value(value, unit: str) -> str:
    """An assumption's value as read: a year as is, persons whole, other figures to two decimals at most."""
    if missing(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit == "année":
        return str(int(value))
    decimals = 0 if unit == "personnes" or float(value).is_integer() else 2
    text = number(value, decimals)
    if decimals:
        text = text.rstrip("0").rstrip(",")
    return text.replace("-", MINUS)


def assumption_rows(projection: Projection) -> list[dict]:
    """Every parameter with its value, unit, range, source and whether it rests on illustrative data."""
    return [{"Hypothèse": r["label"], "Valeur": _value(r["value"], r["unit"]), "Unité": r["unit"],
             "Plage": re.sub(r"(?<![\w.])-(?=\d)", MINUS, r["range"].replace(" – ", " à ").replace(".", ",")),
             "Source": r["source"], "Données": "illustratif" if r["illustrative"] else "publiées ou convention"}
            for r in projection.assumptions]


# --- everything the page shows for one request ---------------------------------------------------------------
@dataclass(frozen=True)
class View:
    sentence: str
    flows: go.Figure
    employment: go.Figure
    employment_summary: str
    table: list[dict]
    sources: str
    backtest: list[dict] | None
    backtest_title: str
    verdict: str
    assumptions: list[dict]
    exports: dict[str, str]
    illustrative: bool
    search: str
    ranking: list[dict]
    ranking_caption: str


def view(projection: Projection, data: Store) -> View:
    request = projection.request
    rows = outlook.window(projection.rows, request.start, request.end)
    illustrative = graduates_illustrative(data) and rows.entrants.notna().any()
    central = (outlook.totals(outlook.window(projection.central, request.start, request.end))
               if request.scenario.changed() else None)
    subject = f"{request.family} {data.families[request.family].label}, {data.territories[request.territory]}"
    bt = projection.backtest
    return View(
        sentence=sentence(outlook.totals(rows), request.end, illustrative, central, workforce(projection)),
        flows=charts.flows_figure(projection, subject, source_note(data, used_inputs(projection)), illustrative),
        employment=charts.employment_figure(projection, subject, source_note(data, tuple(
            i for i in used_inputs(projection) if i.startswith("employment")))),
        employment_summary=employment_summary(projection),
        table=data_rows(rows),
        sources=source_line(projection),
        backtest=backtest_rows(bt) if bt else None,
        backtest_title=(f"Le même modèle lancé en {bt.base_year}, comparé à l'emploi observé en {bt.target_year} – "
                        f"{request.family} {data.families[request.family].label}, France" if bt else
                        f"Back-test impossible pour {request.family} : historique insuffisant dans l'entrepôt."),
        verdict=verdict(bt) if bt else "",
        assumptions=assumption_rows(projection),
        exports=export_links(request),
        illustrative=bool(illustrative),
        search="?" + encode_outlook(request),
        ranking=ranking_rows(ranking(request, data)),
        ranking_caption=ranking_caption(request, data),
    )


def driver_view(source, data: Store, family: str | None, territory: str, horizon, population: str = "central"
                ) -> tuple:
    """The driver chart, its sentence, its rows and its source line (empty for a family without a driver)."""
    inputs = data.families.get(family or "")
    figure = go.Figure(layout={**figures.LAYOUT, "height": 320})
    if inputs is None or not inputs.driver:
        return figure, "Cette famille ne suit pas de population servie : sa croissance est sa tendance.", [], ""
    end = int(horizon or outlook_data.default_horizon(data.base_year))
    try:
        rows, source = demand.series(source, inputs.driver, territory, data.base_year - 10, end, population)
    except demand.DemandError as error:
        return figure, str(error), [], ""
    names = {"observed": "observé",
             "projected": f"projeté (Insee : {outlook_data.POPULATION_LABELS.get(population, population)})"}
    for status, dash_style in (("observed", "solid"), ("projected", "dash")):
        part = [r for r in rows if r["status"] == status]
        figure.add_scatter(x=[r["year"] for r in part], y=[r["value"] for r in part], mode="lines+markers",
                           name=names[status], line={"dash": dash_style, "color": "#2c5f8a"})
    where = data.territories.get(territory, territory)
    label = inputs.driver_label
    figure.update_layout(title={"text": figures.wrap_title(f"{label} – {where}"), "x": 0, "font": {"size": 15}},
                         legend={"orientation": "h", "y": -0.25})
    observed = [r for r in rows if r["status"] == "observed"]
    last = rows[-1] if rows else None
    sentence = ""
    if observed and last:
        change = (last["value"] / observed[-1]["value"] - 1) * 100 if observed[-1]["value"] else math.nan
        sentence = (f"{label} ({where}) : {persons(observed[-1]['value'])} en {observed[-1]['year']} (observé), "
                    f"{persons(last['value'])} en {last['year']} (projeté), soit {signed_rate(change)} ; l'emploi "
                    f"de la famille suit ce moteur avec une élasticité de {number(inputs.elasticity or 0, 2)}.")
    table = [{"Année": r["year"], "Valeur": persons(r["value"]), "Statut": names[r["status"]]} for r in rows]
    return figure, sentence, table, "Source : " + source
