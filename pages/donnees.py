"""Data explorer: the observations behind the charts, with the current filters, as a table."""
from __future__ import annotations

from dataclasses import replace

import dash
from dash import Input, Output, callback, ctx, dash_table, html

from observatory import catalogue, figures, queries, table, urlstate, views
from observatory.formatting import number
from observatory.urlstate import Filters
from pages._components import ui

dash.register_page(__name__, path="/donnees", name="Données", title="Données – Observatoire", order=7)
DEFAULT = Filters("recruitment_projects", profession="travail_social", territory="", level="region")
LEVELS = catalogue.level_options(("nation", "region", "departement", "bassin"))
LEVEL_WORDS = {level: t.by for level, t in catalogue.TERRITORY_LEVELS.items()}
# Rows sent to the screen's table (issue 19: no response over 300 KB; a row weighs up to about 460 bytes):
# the whole selection is in the export links, whose count the page gives.
MAX_ROWS = 500
PROFESSION_COLUMN = "Filière, groupe ou métier"  # the dropdown's label and the table's column say the same name


def layout(**query):
    f = urlstate.decode(query, DEFAULT)
    indicators = tuple(i.indicator_id for i in catalogue.INDICATORS)
    territories = [{"label": "Tous les territoires du niveau choisi", "value": ""}, *ui.territory_options(ui.store())]
    return html.Div([
        ui.page_header("Explorer les données", "Les observations de l'entrepôt, telles que les graphiques les "
                       "utilisent : valeur, numérateur et dénominateur, statut et source."),
        ui.illustrative_banner("data-banner"),
        html.Div([
            ui.dropdown("data-indicator", "Indicateur", ui.indicator_options(indicators), f.indicator),
            ui.dropdown("data-profession", PROFESSION_COLUMN,
                        ui.profession_options(ui.store(), indicator_id=f.indicator), f.profession),
            html.Div([html.Label("Niveau territorial", htmlFor="data-level"),
                      ui.french_dropdown("data-level", LEVELS, f.level)]),
            ui.dropdown("data-territory", "Territoire", territories, f.territory),
            ui.dropdown("data-period", "Année", [], f.period, clearable=True, placeholder="Toutes les années"),
            ui.dropdown("data-source", "Source", [], f.source),
        ], className="obs-card obs-filters"),
        ui.copy_link(),
        ui.export_buttons("data"),
        html.P(id="data-count", className="obs-summary", **{"aria-live": "polite"}),
        html.Div(dash_table.DataTable(id="data-table", page_size=25, sort_action="native", filter_action="native",
                                      filter_options={"placeholder_text": "Filtrer…", "case": "insensitive"},
                                      style_table={"overflowX": "auto"},
                                      style_cell={"fontFamily": "Arial", "fontSize": 13, "textAlign": "left"}),
                 className="obs-card"),
    ])


def selection_for(f: Filters) -> queries.Selection:
    """The page's selection (`urlstate.selection`): the table shows it, the export links ask the API for it."""
    return urlstate.selection(ui.store(), f)


def frame_for(f: Filters):
    """The observations the page shows for its filters (all of them; the screen shows the first MAX_ROWS)."""
    if not f.source:
        return queries.select(ui.store(), queries.Selection(indicators=()))
    return queries.select(ui.store(), selection_for(f))


def resolve(indicator, profession, level, period, source, territory=None) -> Filters:
    indicator = ui.choice(indicator, {i.indicator_id for i in catalogue.INDICATORS}, DEFAULT.indicator)
    profession = ui.choice(profession, queries.dimensions(ui.store()).profession_key, DEFAULT.profession)
    level = ui.choice(level, {option["value"] for option in LEVELS}, DEFAULT.level)
    source = views.explorer.source_for(ui.store(), indicator, source)
    periods = queries.periods_for(ui.store(), indicator, source) if source else ()
    territory = ui.choice(territory, queries.dimensions(ui.store()).territory_key, "")
    return Filters(indicator, profession=profession or DEFAULT.profession, level=level or DEFAULT.level,
                   territory=territory, period=ui.choice(period, periods, None), source=source)


def rows(f: Filters) -> tuple[list[dict], int, bool]:
    """The table for the filters: rows (at most MAX_ROWS, said on screen), total count, illustrative flag."""
    if not f.source:
        return [], 0, False
    frame = frame_for(f)
    entry = catalogue.get(f.indicator)
    out = [{"Territoire": r["territory_label"], "Code": r["territory_id"], PROFESSION_COLUMN: r["profession_label"],
            "Année": r["period"], "Valeur": number(r["value"], entry.decimals), "Numérateur": number(r["numerator"], 1),
            "Dénominateur": number(r["denominator"], 1), "Unité": r["unit"], "Statut": table.status_label(r["status"]),
            "Calculé": "oui" if r["is_derived"] else "non", "Source": r["source_id"],
            "Rupture de série": r["series_break"] or ""}
           for r in views.names.named_rows(ui.store(), frame.head(MAX_ROWS))]  # the export's names (`table.named`)
    return out, len(frame), figures.is_illustrative(frame)


def published_profession(f: Filters) -> str:
    """The profession to show for an indicator just chosen: the one selected when the source publishes it here,
    else the page's default family, else the root (TDBMS publishes only « Personnel permanent des ESMS »)."""
    if not f.source:
        return f.profession
    for profession in dict.fromkeys((f.profession, DEFAULT.profession, "ensemble")):
        if len(queries.select(ui.store(), selection_for(replace(f, profession=profession)))):
            return profession
    return f.profession


def _years(periods) -> str:
    periods = sorted({int(p) for p in periods})
    if not periods:
        return ""
    return str(periods[0]) if len(periods) == 1 else f"{periods[0]}–{periods[-1]}"


def _where(f: Filters) -> str:
    if f.territory:
        name = views.names.labels(ui.store(), "territory").get(f.territory, f.territory)
        return "en France" if f.territory == "FR" else f"pour {name} ({f.territory})"
    return LEVEL_WORDS.get(f.level, f.level)


def empty_hint(f: Filters) -> str:
    """Why a selection has no rows and what to try, from what the store holds (never a hard-coded year)."""
    entry = catalogue.get(f.indicator)
    who = views.names.population_labels(ui.store(), f.indicator).get(f.profession, f.profession)
    head = (f"Aucune donnée pour {entry.label} – {who} – {_where(f)}"
            + (f" en {f.period}" if f.period is not None else "") + " : ")
    if not f.source:
        return head + "aucune source publiée dans l'entrepôt pour cet indicateur ; essayez un autre indicateur."
    selection = selection_for(f)
    every_year = queries.periods_for(ui.store(), f.indicator, f.source)
    reasons, tries = [], []
    latest = (every_year[-1],) if every_year and f.period is None else selection.periods  # bounded: one year
    professions = queries.select(ui.store(), replace(selection, professions=None, periods=latest))
    if len(professions):
        shown = views.names.population_labels(ui.store(), f.indicator)
        present = [p for p in dict.fromkeys(professions.profession_id)]
        names = ", ".join(f"« {shown.get(p, p)} »" for p in present[:3]) + (" …" if len(present) > 3 else "")
        reasons.append(f"cet indicateur n'est pas publié pour « {who} » ici")
        tries.append(f"la filière ou le métier {names}")
    places = queries.select(ui.store(), replace(selection, territories=None, levels=None))
    if len(places):
        territories = queries.dimensions(ui.store()).territories.set_index("territory_id")
        levels = territories.loc[list(dict.fromkeys(places.territory_id)), "level"]
        present = [lv for lv in LEVEL_WORDS if lv in set(levels)]
        reasons.append("il est publié " + ", ".join(LEVEL_WORDS[lv] for lv in present))
        example = next((t for t in places.territory_id if t != "FR"), None)
        tries.append("le niveau « " + " », « ".join(o["label"] for o in LEVELS if o["value"] in present) + " »"
                     + (f" ou {views.names.labels(ui.store(), 'territory').get(example, example)}" if example else ""))
    years = queries.select(ui.store(), replace(selection, periods=None))
    if f.period is not None and len(years):
        reasons.append(f"pas en {f.period} pour cette sélection")
        tries.append(f"une autre année : {_years(years.period)}")
    if not reasons:
        reasons.append("aucune observation ne combine ces filtres")
        tries.append("d'autres filtres")
    if every_year and not any(t.startswith("une autre année") for t in tries):
        tries.append(f"une autre année : {_years(every_year)}")
    return head + " ; ".join(reasons) + ". Essayez " + " ; ".join(tries) + "."


@callback(Output("data-table", "data"), Output("data-table", "columns"), Output("data-count", "children"),
          Output("data-period", "options"), Output("data-source", "options"), Output("data-source", "value"),
          Output("data-banner", "hidden"), Output("url", "search", allow_duplicate=True),
          Output("data-export-csv", "href"), Output("data-export-xlsx", "href"),
          Output("data-profession", "value"), Output("data-profession", "options"),
          Input("data-indicator", "value"), Input("data-profession", "value"), Input("data-level", "value"),
          Input("data-period", "value"), Input("data-source", "value"), Input("data-territory", "value"),
          prevent_initial_call="initial_duplicate")
def update(indicator, profession, level, period, source, territory=None):
    """Thin: filters in, table out. A new indicator keeps the profession when published, else moves to one that
    is, and says so; the profession list names the root as the indicator's population."""
    f = resolve(indicator, profession, level, period, source, territory)
    moved = ""
    if ctx.triggered_id == "data-indicator" or (ctx.triggered_id is None and f.profession == DEFAULT.profession):
        chosen = published_profession(f)
        if chosen != f.profession:
            names = views.names.population_labels(ui.store(), f.indicator)
            moved = (f"« {names.get(f.profession, f.profession)} » n'est pas publié pour "
                     f"{catalogue.get(f.indicator).label.lower()} : affiché pour « {names.get(chosen, chosen)} ». ")
            f = replace(f, profession=chosen)
    sources = queries.sources_for(ui.store(), f.indicator)
    periods = queries.periods_for(ui.store(), f.indicator, f.source) if f.source else ()
    data, total, illustrative = rows(f)
    count = moved + f"{number(total)} observations" + (
        f" ; les {number(MAX_ROWS)} premières affichées, toutes dans l'export CSV ou XLSX" if total > MAX_ROWS
        else "") + "."
    if not total:
        count = moved + empty_hint(f)
    columns = [ui.table_column(c) for c in (data[0] if data else {})]
    search = urlstate.encode(f, DEFAULT)
    csv_href, xlsx_href = ui.export_links(selection_for(f), "/donnees" + search)
    return (data, columns, count, [{"label": str(p), "value": p} for p in reversed(periods)],
            [{"label": views.names.source_label(ui.store(), s), "value": s} for s in sources], f.source,
            not illustrative,
            search, csv_href, xlsx_href, f.profession, ui.profession_options(ui.store(), indicator_id=f.indicator))
