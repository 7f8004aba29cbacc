"""« Besoins et ressources »: a département's need (people aged 75+ and 85+, APA, PCH, ASE) beside its workforce
(BMO projects and difficulty for the social métiers, the département's social staff and foster carers), against
its région and France; the need-vs-difficulty chart of every département; a map of the need ratios. Figures come
from `observatory.needs`; the view's state (département, ratio on the map) lives in the URL."""
from __future__ import annotations

from dataclasses import replace

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dash_table, dcc, html

from observatory import catalogue, figures, needs, queries, urlstate, views
from observatory import status as statuses
from observatory.formatting import number, with_unit
from observatory.urlstate import Filters
from pages._components import ui

dash.register_page(__name__, path="/besoins", name="Besoins et ressources",
                   title="Besoins et ressources – Observatoire", order=5.2)
DEFAULT = Filters(needs.RATIOS[0], level="departement")
INTRO = ("Où le besoin grandit-il le plus vite pendant que le recrutement est le plus difficile ? Pour un "
         "département : ses besoins (personnes âgées, APA, PCH, enfants accueillis à l'ASE) à côté de ses "
         "ressources (projets de recrutement et part jugée difficile, personnel social du département, assistants "
         "familiaux), comparés à sa région et à la France. Chaque chiffre dit son année, sa source et son statut.")
LABELS = {
    "people_75plus": "Personnes de 75 ans ou plus", "people_85plus": "Personnes de 85 ans ou plus",
    "apa_recipients": catalogue.get("apa_recipients").label, "pch_recipients": catalogue.get("pch_recipients").label,
    "ase_children": catalogue.get("ase_children").label, "dept_social_staff": catalogue.get("dept_social_staff").label,
    "foster_carers": catalogue.get("foster_carers").label,
}
UNITS = {"people_75plus": ("personnes", 0), "people_85plus": ("personnes", 0)}


def _label(key: str, professions: dict[str, str]) -> str:
    if ":" in key:
        kind, profession = key.split(":", 1)
        entry = catalogue.get("recruitment_projects" if kind == "projects" else "recruitment_difficulty_share")
        return f"{entry.label} – {professions.get(profession, profession)}"
    return LABELS[key]


def _unit(key: str) -> tuple[str, int]:
    if key in UNITS:
        return UNITS[key]
    entry = catalogue.get(needs.MEASURES[key][0])
    return entry.unit, entry.decimals


def departements() -> list[dict]:
    territories = queries.dimensions(ui.store()).territories
    deps = territories[territories.level == "departement"].sort_values("code")
    return [{"label": f"{r.name} ({r.code})", "value": r.territory_id} for r in deps.itertuples()]


def layout(**query):
    options = departements()
    filters = urlstate.decode(query, DEFAULT)
    if filters.territory not in {o["value"] for o in options} and options:
        filters = Filters(filters.indicator, territory=options[0]["value"], level="departement")
    ratio = filters.indicator if filters.indicator in needs.RATIOS else DEFAULT.indicator
    ratio_options = [{"label": catalogue.NEED_RATIOS[r].label, "value": r} for r in needs.RATIOS]
    return html.Div([
        ui.page_header("Besoins et ressources", INTRO),
        html.Div([ui.dropdown("bes-territory", "Département", options, filters.territory)],
                 className="obs-card obs-filters"),
        ui.copy_link(),
        ui.export_buttons("bes"),
        html.Div([
            html.H2(id="bes-title", className="h4"),
            html.P(id="bes-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Div(id="bes-profile", className="table-responsive"),
            html.P(id="bes-sources", className="obs-source"),
        ], className="obs-card"),
        html.Div([
            html.H2("Besoin qui grandit, recrutement difficile : tous les départements", className="h4"),
            ui.described_chart(dcc.Loading(dcc.Graph(id="bes-scatter", config=figures.GRAPH_CONFIG)),
                               "bes-scatter-summary", "bes-scatter-table"),
            html.P(id="bes-scatter-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"),
                          dash_table.DataTable(id="bes-scatter-table", page_size=15, sort_action="native",
                                               style_table={"overflowX": "auto"})], className="obs-data"),
        ], className="obs-card"),
        html.Div([
            html.H2("Évolution sur dix ans", className="h4"),
            ui.described_chart(dcc.Graph(id="bes-trend", config=figures.GRAPH_CONFIG), "bes-trend-summary",
                               "bes-profile"),
            html.P(id="bes-trend-summary", className="obs-summary"),
        ], className="obs-card"),
        html.Div([
            html.H2("Carte d'un rapport besoin / ressource", className="h4"),
            ui.dropdown("bes-ratio", "Rapport", ratio_options, ratio),
            html.P(id="bes-ratio-definition", className="obs-source obs-definition"),
            ui.described_chart(dcc.Graph(id="bes-map", config=figures.GRAPH_CONFIG), "bes-map-summary",
                               "bes-map-table", min_width=320),
            html.P(id="bes-map-summary", className="obs-summary", **{"aria-live": "polite"}),
            html.Details([html.Summary("Voir les données"),
                          dash_table.DataTable(id="bes-map-table", page_size=15, sort_action="native",
                                               style_table={"overflowX": "auto"})], className="obs-data"),
        ], className="obs-card"),
    ])


def _cell(value: float | None, unit: str, decimals: int, period, status) -> str:
    if value is None or value != value:
        return "—"
    word = statuses.SHORT.get(status)
    return f"{with_unit(value, unit, decimals)} ({period}{', ' + word if word else ''})"


def _change(value) -> str:
    return "—" if value is None or value != value else f"{'+' if value >= 0 else ''}{number(value, 1)} %"


def places(territory: str) -> tuple[str, str | None, str]:
    """The département, its région and France (ids)."""
    territories = queries.dimensions(ui.store()).territories.set_index("territory_id")
    region = territories["parent_id"].get(territory)
    return territory, region if isinstance(region, str) else None, "FR"


def profile_table(territory: str) -> tuple[html.Table, list[str], dict]:
    """The need and resources of a département, its région and France: one row per measure, each cell with its
    year and status, and the change over five years; the sources quoted."""
    ids = [t for t in places(territory) if t]
    names = views.names.labels(ui.store(), "territory")
    professions = views.names.labels(ui.store(), "profession")
    frame = needs.profile(ui.store(), tuple(ids))
    cells = {(r.key, r.territory_id): r for r in frame.itertuples(index=False)}
    head = html.Thead(html.Tr([html.Th("Mesure", scope="col"),
                               *[html.Th(names.get(t, t), scope="col") for t in ids],
                               *[html.Th(f"Évolution sur 5 ans – {names.get(t, t)}", scope="col") for t in ids[:1]],
                               html.Th("Évolution sur 5 ans – France", scope="col")]))
    body = []
    for group, keys in (("Besoins", [k for k, *_ in needs.NEED]), ("Ressources", [k for k, *_ in needs.RESOURCES])):
        body.append(html.Tr(html.Th(group, colSpan=len(ids) + 3, scope="colgroup"), className="obs-group"))
        for key in keys:
            if not any((key, t) in cells for t in ids):
                continue
            unit, decimals = _unit(key)
            row = [html.Th(_label(key, professions), scope="row")]
            for t in ids:
                c = cells.get((key, t))
                row.append(html.Td(_cell(c.value, unit, decimals, c.period, c.status) if c else "—",
                                   className="obs-value", **{"data-key": key, "data-territory": t}))
            first, france = cells.get((key, ids[0])), cells.get((key, "FR"))
            row += [html.Td(_change(first.change_5y if first else None)),
                    html.Td(_change(france.change_5y if france else None))]
            body.append(html.Tr(row))
    sources = views.names.source_names(ui.store())
    quoted = sorted({sources.get(s, s) for s in frame["source_id"]})
    table = html.Table([html.Caption(f"Besoins et ressources – {names.get(territory, territory)}, sa région et la "
                                     "France (année de chaque chiffre entre parenthèses)"), head, html.Tbody(body)],
                       id="bes-profile-table", className="table table-sm obs-phone-table")
    return table, quoted, cells


def summary(territory: str, cells: dict) -> str:
    names = views.names.labels(ui.store(), "territory")
    where = names.get(territory, territory)
    parts = []
    old, old_fr = cells.get(("people_75plus", territory)), cells.get(("people_75plus", "FR"))
    if old is not None:
        parts.append(f"{with_unit(old.value, 'personnes', 0)} de 75 ans ou plus au 1er janvier {old.period} "
                     f"({_change(old.change_5y)} en cinq ans ; France {_change(old_fr.change_5y if old_fr else None)})")
    apa = cells.get(("apa_recipients", territory))
    if apa is not None:
        parts.append(f"{with_unit(apa.value, 'bénéficiaires', 0)} de l'APA en {apa.period}")
    share = cells.get((f"difficulty:{needs.SCATTER_PROFESSION}", territory))
    share_fr = cells.get((f"difficulty:{needs.SCATTER_PROFESSION}", "FR"))
    if share is not None:
        parts.append(f"{with_unit(share.value, '%', 1)} des projets de recrutement d'aides à domicile jugés "
                     f"difficiles en {share.period} (France {with_unit(share_fr.value, '%', 1) if share_fr else '—'})")
    return f"{where} : " + " ; ".join(parts) + "." if parts else f"{where} : aucune donnée de besoin dans l'entrepôt."


def scatter(territory: str) -> tuple[go.Figure, str, list[dict]]:
    """Need growth (x) against recruitment difficulty for home care (y), one point per département, the chosen
    one highlighted and named; its sentence and table."""
    data = needs.need_vs_difficulty(ui.store())
    names = views.names.labels(ui.store(), "territory")
    data = data.assign(name=data["territory_id"].map(lambda t: names.get(t, t)))
    known = data[data["growth_75plus"].notna()]
    figure = go.Figure(layout={**figures.LAYOUT, "height": 460})
    if known.empty:
        return figure, "Pas de données pour ce graphique dans l'entrepôt.", []
    need_year, share_year = int(known["need_year"].max()), int(known["difficulty_year"].max())
    others = known[known["territory_id"] != territory]
    chosen = known[known["territory_id"] == territory]
    hover = "%{text}<br>75 ans ou plus : %{x:.1f} % en cinq ans<br>projets difficiles : %{y:.1f} %<extra></extra>"
    figure.add_scatter(x=others["growth_75plus"], y=others["difficulty_share"], text=others["name"], mode="markers",
                       name="départements",
                       marker={"color": figures.POINT_COLOUR, "size": 8, "opacity": figures.POINT_OPACITY},
                       hovertemplate=hover)
    figure.add_scatter(x=chosen["growth_75plus"], y=chosen["difficulty_share"], text=chosen["name"],
                       mode="markers+text", textposition="top center", name=names.get(territory, territory),
                       marker={"color": figures.CHOSEN_POINT_COLOUR, "size": 15,
                               "line": {"color": "#000", "width": 1.5}},
                       hovertemplate=hover)
    x_mid, y_mid = float(known["growth_75plus"].median()), float(known["difficulty_share"].median())
    figure.add_vline(x=x_mid, line={"dash": "dot", "color": figures.MEDIAN_LINE_COLOUR})
    figure.add_hline(y=y_mid, line={"dash": "dot", "color": figures.MEDIAN_LINE_COLOUR})
    title = (f"Évolution des 75 ans ou plus ({need_year - 5}-{need_year}, Insee) et part des projets d'aides à "
             f"domicile jugés difficiles ({share_year}, France Travail BMO)")
    figure.update_layout(title={"text": figures.wrap_title(title), "x": 0, "font": {"size": 15}},
                         xaxis={"title": "Évolution des 75 ans ou plus sur cinq ans (%)"},
                         yaxis={"title": "Projets jugés difficiles (%)"},
                         legend={"orientation": "h", "y": -0.2}, margin={"t": 80})
    sentence = f"{len(known)} départements ; pointillés : médianes ({number(x_mid, 1)} % et {number(y_mid, 1)} %)."
    if len(chosen):
        row = chosen.iloc[0]
        rank_x = int((known["growth_75plus"] > row["growth_75plus"]).sum()) + 1
        rank_y = int((known["difficulty_share"] > row["difficulty_share"]).sum()) + 1
        quadrant = ("besoin en hausse plus rapide et recrutement plus difficile que la médiane"
                    if row["growth_75plus"] > x_mid and row["difficulty_share"] > y_mid else
                    "besoin en hausse plus rapide que la médiane" if row["growth_75plus"] > x_mid else
                    "recrutement plus difficile que la médiane" if row["difficulty_share"] > y_mid else
                    "sous les deux médianes")
        sentence = (f"{row['name']} : {_change(row['growth_75plus'])} de 75 ans ou plus en cinq ans "
                    f"({rank_x}e sur {len(known)}), {with_unit(row['difficulty_share'], '%', 1)} de projets d'aides "
                    f"à domicile jugés difficiles ({rank_y}e) : {quadrant}. " + sentence)
    rows = [{"Département": r.name, f"75 ans ou plus ({need_year})": int(r.people_75plus),
             "Évolution sur 5 ans (%)": round(r.growth_75plus, 1),
             f"Projets d'aides à domicile ({share_year})": None if r.projects != r.projects else int(r.projects),
             "Part jugée difficile (%)": round(r.difficulty_share, 1),
             "Statut": statuses.label(r.difficulty_status)} for r in known.itertuples()]
    return figure, sentence, rows


def trend(territory: str) -> tuple[go.Figure, str]:
    """People aged 75+ and APA recipients, index 100 ten years before the latest year, département and France."""
    data = needs.measures(ui.store())
    names = views.names.labels(ui.store(), "territory")
    figure = go.Figure(layout={**figures.LAYOUT, "height": 380})
    said = []
    for key, dash_style in (("people_75plus", "solid"), ("apa_recipients", "dash")):
        series = data[(data["key"] == key) & data["value"].notna()]
        if series.empty:
            continue
        last = int(series["period"].max())
        for t, colour in ((territory, "#c0392b"), ("FR", "#34495e")):
            s = series[(series["territory_id"] == t) & (series["period"] >= last - 10)].sort_values("period")
            if s.empty:
                continue
            base = s["value"].iloc[0]
            index = s["value"] / base * 100
            figure.add_scatter(x=s["period"], y=index, mode="lines+markers", name=f"{_label(key, {})} – "
                               f"{names.get(t, t)}", line={"color": colour, "dash": dash_style})
            if t == territory:
                label = _label(key, {})
                said.append(f"{label[0].lower()}{label[1:]} : indice {number(index.iloc[-1], 0)} en "
                            f"{int(s['period'].iloc[-1])} (base 100 en {int(s['period'].iloc[0])})")
    figure.update_layout(title={"text": figures.wrap_title("Évolution, base 100 dix ans avant la dernière année "
                                                           "(Insee, DREES)"), "x": 0, "font": {"size": 15}},
                         yaxis={"title": "indice"}, legend={"orientation": "h", "y": -0.25})
    return figure, f"{names.get(territory, territory)} : " + " ; ".join(said) + "." if said else ""


def ratio_map(ratio_id: str) -> tuple[dict, str, list[dict], str]:
    entry = catalogue.NEED_RATIOS[ratio_id]
    frame = needs.ratio(ui.store(), ratio_id)
    names = views.names.labels(ui.store(), "territory")
    deps = frame[frame["territory_id"].str.startswith("DEP-")]
    period = int(frame["period"].max()) if len(frame) else None
    title = f"{entry.label}, par département ({period})"
    figure = figures.choropleth_figure("departement", title)
    values = figures.map_values(deps, "departement", names, entry.unit, entry.decimals, False)
    for trace, update in zip(figure["data"], [values, *figures.map_overlays(values, "departement", deps)]):
        trace.update(update)
    france = frame[frame["territory_id"] == "FR"]
    sentence = f"{entry.label} en {period} : {len(deps)} départements."
    if len(france):
        sentence += f" France : {with_unit(france['value'].iloc[0], entry.unit, entry.decimals)}."
    if len(deps):
        top = deps.loc[deps["value"].idxmax()]
        sentence += (f" Le plus élevé : {names.get(top['territory_id'])} "
                     f"({with_unit(top['value'], entry.unit, entry.decimals)}).")
    rows = [{"Territoire": names.get(r.territory_id, r.territory_id), "Année": int(r.period),
             "Valeur": round(r.value, entry.decimals) if r.value == r.value else None,
             "Numérateur": r.numerator, "Dénominateur": r.denominator, "Statut": statuses.label(r.status)}
            for r in frame.sort_values("territory_id").itertuples()]
    return figure, sentence, rows, entry.definition


@callback(Output("bes-title", "children"), Output("bes-summary", "children"), Output("bes-profile", "children"),
          Output("bes-sources", "children"), Output("bes-scatter", "figure"), Output("bes-scatter-summary", "children"),
          Output("bes-scatter-table", "data"), Output("bes-trend", "figure"), Output("bes-trend-summary", "children"),
          Output("bes-map", "figure"), Output("bes-map-summary", "children"), Output("bes-map-table", "data"),
          Output("bes-ratio-definition", "children"),
          Output("url", "search", allow_duplicate=True), Output("bes-export-csv", "href"),
          Output("bes-export-xlsx", "href"),
          Input("bes-territory", "value"), Input("bes-ratio", "value"), prevent_initial_call="initial_duplicate")
def update(territory, ratio_id):
    """Thin: every block from `observatory.needs`, the link and the exports from the same choice."""
    options = [o["value"] for o in departements()]
    territory = territory if territory in options else (options[0] if options else "FR")
    ratio_id = ratio_id if ratio_id in needs.RATIOS else DEFAULT.indicator
    names = views.names.labels(ui.store(), "territory")
    table, quoted, cells = profile_table(territory)
    scatter_figure, scatter_sentence, scatter_rows = scatter(territory)
    trend_figure, trend_sentence = trend(territory)
    map_figure, map_sentence, map_rows, definition = ratio_map(ratio_id)
    search = urlstate.encode(Filters(ratio_id, territory=territory, level="departement"),
                             Filters(DEFAULT.indicator, territory="", level="departement"))
    ids = tuple(t for t in places(territory) if t)
    selection = needs.selection()
    csv, xlsx = ui.export_links(replace(selection, territories=ids), "/besoins" + search)
    return (f"{names.get(territory, territory)} : besoins et ressources, comparés à la région et à la France",
            summary(territory, cells), table, "Sources : " + " ; ".join(quoted) + ".", scatter_figure,
            scatter_sentence, scatter_rows, trend_figure, trend_sentence, map_figure, map_sentence, map_rows,
            definition, search, csv, xlsx)
