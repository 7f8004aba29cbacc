"""Read-only HTTP API: `/api/v1/indicators`, `/api/v1/observations`, `/api/v1/openapi.json`.

The same query layer as the pages (`queries.Selection`), the same exports as the pages' buttons. JSON is
paginated with the total count; CSV is streamed (memory stays flat whatever the size); XLSX carries a
metadata sheet. An unknown parameter or value is a 400 naming it; nothing is ever truncated silently.
"""
from __future__ import annotations

import json
from dataclasses import asdict

from flask import Flask, Response, request, stream_with_context

from observatory import catalogue, exports, queries
from observatory.schema import TERRITORY_LEVELS

FILTERS = ("indicator", "profession", "territory", "level", "period", "source", "breakdown")
OPTIONS = ("format", "sep", "page", "page_size")
MAX_PAGE_SIZE = 10_000


class BadRequest(Exception):
    pass


def parse_selection(args) -> tuple[queries.Selection, dict]:
    """A Selection from query parameters (filters may repeat); BadRequest names what is wrong."""
    unknown = sorted(set(args) - set(FILTERS) - set(OPTIONS))
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}; accepted: {', '.join(FILTERS + OPTIONS)}")
    dims = queries.dimensions()
    values = {name: [v for v in args.getlist(name) if v != ""] for name in FILTERS}
    known = {"indicator": set(catalogue.BY_ID), "profession": set(dims.profession_key),
             "territory": set(dims.territory_key), "level": set(TERRITORY_LEVELS),
             "source": set(dims.sources.loc[dims.sources.scope == "published", ["source_id", "series"]].stack())}
    for name, allowed in known.items():
        wrong = [v for v in values[name] if v not in allowed]
        if wrong:
            raise BadRequest(f"unknown {name} value(s): {', '.join(wrong)}")
    periods = []
    for value in values["period"]:
        if not value.isdigit() or len(value) != 4:
            raise BadRequest(f"period must be a year (4 digits), not {value!r}")
        periods.append(int(value))
    breakdowns = []
    for value in values["breakdown"]:
        if value == "total":
            breakdowns.append("")
        elif value.startswith("esms:") and value[5:].isdigit():
            breakdowns.append(value)
        else:
            raise BadRequest(f"breakdown must be 'total' or 'esms:<category code>', not {value!r}")
    selection = queries.Selection(
        indicators=tuple(values["indicator"]) or None,
        # a series id (`ft_bmo`) stands for every vintage of it
        sources=tuple(s for v in values["source"] for s in queries.series_sources(v)) or None,
        professions=tuple(values["profession"]) or None, territories=tuple(values["territory"]) or None,
        levels=tuple(values["level"]) or None, periods=tuple(periods) or None,
        breakdowns=tuple(breakdowns) or None,
    )
    return selection, {k: v for k, v in values.items() if v}


def _error(message: str, status: int = 400) -> Response:
    return Response(json.dumps({"error": message}, ensure_ascii=False), status=status,
                    mimetype="application/json")


def observations_response() -> Response:
    try:
        selection, filters = parse_selection(request.args)
        fmt = request.args.get("format", "json")
        if fmt not in ("json", "csv", "xlsx"):
            raise BadRequest(f"format must be json, csv or xlsx, not {fmt!r}")
        sep = request.args.get("sep", "comma")
        if sep not in ("comma", "semicolon"):
            raise BadRequest(f"sep must be comma or semicolon, not {sep!r}")
        page = _integer("page", 1, minimum=1)
        page_size = _integer("page_size", 1000, minimum=1, maximum=MAX_PAGE_SIZE)
    except BadRequest as error:
        return _error(str(error))
    total = exports.count(selection)
    headers = {"X-Total-Count": str(total)}
    if fmt == "csv":
        body = exports.csv_chunks(exports.stream_chunks(selection), semicolon=sep == "semicolon")
        headers["Content-Disposition"] = 'attachment; filename="observations.csv"'
        return Response(stream_with_context(body), mimetype="text/csv; charset=utf-8", headers=headers)
    if fmt == "xlsx":
        try:
            content = exports.xlsx_bytes(exports.stream_rows(selection), filters=filters, permalink=request.url,
                                         total=total)
        except ValueError as error:
            return _error(str(error))
        headers["Content-Disposition"] = 'attachment; filename="observations.xlsx"'
        return Response(content, headers=headers,
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = [dict(zip(exports.COLUMNS, row)) for row in
            exports.stream_rows(selection, offset=(page - 1) * page_size, limit=page_size)]
    pages = max(1, -(-total // page_size))
    next_url = None
    if page < pages:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page + 1)]
        from urllib.parse import urlencode

        next_url = f"{request.base_url}?{urlencode(args, doseq=True)}"
    body = {"total": total, "page": page, "page_size": page_size, "pages": pages, "next": next_url,
            "filters": filters, "columns": list(exports.COLUMNS), "rows": rows}
    return Response(json.dumps(body, ensure_ascii=False, default=str), mimetype="application/json", headers=headers)


def _integer(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        raise BadRequest(f"{name} must be an integer from {minimum}" + (f" to {maximum}" if maximum else ""))
    return int(raw)


def openapi() -> dict:
    filters = [{"name": name, "in": "query", "required": False, "explode": True,
                "schema": {"type": "array", "items": {"type": "integer" if name == "period" else "string"}},
                "description": description} for name, description in (
        ("indicator", "indicator_id (see /api/v1/indicators); may repeat"),
        ("profession", "profession_id; may repeat"), ("territory", "territory_id (FR, REG-84, DEP-69…); may repeat"),
        ("level", f"territory level: {', '.join(TERRITORY_LEVELS)}; may repeat"), ("period", "year; may repeat"),
        ("source", "source_id; may repeat"), ("breakdown", "'total' or 'esms:<code>'; may repeat"))]
    options = [
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"],
                                                      "default": "json"}},
        {"name": "sep", "in": "query", "schema": {"type": "string", "enum": ["comma", "semicolon"],
                                                   "default": "comma"},
         "description": "CSV only: semicolon also writes decimal commas (French spreadsheets)"},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "page_size", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 1000}},
    ]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Observatoire des métiers du social – API", "version": "1.0.0",
                 "description": "Read-only access to the observatory's indicators and observations."},
        "paths": {
            "/api/v1/indicators": {"get": {"summary": "The indicator catalogue", "responses": {
                "200": {"description": "catalogue", "content": {"application/json": {}}}}}},
            "/api/v1/observations": {"get": {
                "summary": "Observations, filtered (JSON paginated, CSV streamed, XLSX with metadata)",
                "parameters": filters + options,
                "responses": {"200": {"description": "observations", "content": {
                    "application/json": {}, "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
                    "400": {"description": "unknown parameter or value",
                            "content": {"application/json": {}}}}}},
        },
    }


def register(server: Flask) -> None:
    @server.get("/api/v1/indicators")
    def _indicators():
        return Response(json.dumps([asdict(i) for i in catalogue.INDICATORS], ensure_ascii=False),
                        mimetype="application/json")

    @server.get("/api/v1/observations")
    def _observations():
        return observations_response()

    @server.get("/api/v1/openapi.json")
    def _openapi():
        return Response(json.dumps(openapi(), ensure_ascii=False), mimetype="application/json")
