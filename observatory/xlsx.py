"""The export workbook as SpreadsheetML written by hand and streamed: « Données » then « Métadonnées ».

One zip member per part, the data rows a chunk at a time, every text in the shared-string table (so a text cell
is typed text, never a formula, and a label repeated on 800,000 rows is stored once). openpyxl's write-only mode
made an object per cell: 166 s for 811,490 rows. Knows the export's columns (`table.COLUMNS`) only to format
numbers (a value at its indicator's decimals, a count whole when it is whole) and size the columns; what the
rows and the metadata say is the caller's (`exports.xlsx_stream`).
"""
from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from openpyxl.utils import get_column_letter

from observatory import catalogue
from observatory.download import safe_text
from observatory.table import COLUMNS

XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, minus the header
_BATCH = 5000  # shared strings written per block
_VALUE_AT = COLUMNS.index("value")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_STATIC = {
    "[Content_Types].xml": f'<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
    + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SML}.worksheet+xml"/>'
              for i in (1, 2))
    + f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SML}.sharedStrings+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_OFFICE}/extended-properties" Target="docProps/app.xml"/></Relationships>',
    "docProps/app.xml": '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Observatoire des métiers du social</Application></Properties>",
    "xl/workbook.xml": f"<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews><sheets>"
    '<sheet name="Données" sheetId="1" r:id="rId1"/><sheet name="Métadonnées" sheetId="2" r:id="rId2"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_OFFICE}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rId3" Type="{_OFFICE}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId4" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    # cell styles: 0 plain, 1 bold, 2 to 5 "#,##0" with 0 to 3 decimals (a value has its indicator's `decimals`),
    # 6 "#,##0.0##" (a numerator or denominator that is not whole). Never "#,##0.##": Excel shows 859 as « 859. ».
    # The codes are the file format's (`,` grouping, `.` decimals): a French Excel shows « 1 234,5 ».
    "xl/styles.xml": f"<styleSheet {_NS}>"
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="#,##0.0"/><numFmt numFmtId="165" formatCode="#,##0.000"/>'
    '<numFmt numFmtId="166" formatCode="#,##0.0##"/>'
    '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    + "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              for n in (3, 164, 4, 165, 166))
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
}
_VALUE_STYLE = {i.indicator_id: f' s="{2 + min(max(i.decimals, 0), 3)}"' for i in catalogue.INDICATORS}
_WHOLE, _FRACTION = ' s="2"', ' s="6"'
_COUNTS = frozenset(COLUMNS.index(c) for c in ("numerator", "denominator"))
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_LETTERS = [get_column_letter(i) for i in range(1, len(COLUMNS) + 1)]


def _xml_text(value: str) -> str:
    """Text for a `<t>` element: XML-escaped; characters XML cannot hold written `_xHHHH_` (as Excel does)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


class _Sink:
    """A write-only file that hands over what zipfile wrote so far (it has no seek, so zipfile streams)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _sheet_start(widths: list[float], frozen: bool) -> str:
    view = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            if frozen else '<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1))
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_NS_R}>{view}' \
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'


def workbook(header: tuple[str, ...], chunks: Iterable[list[tuple]],
             metadata: Callable[[int], list[tuple]]) -> Iterator[bytes]:
    """The workbook, yielded block by block as the rows come: memory stays flat (what grows is the table of
    distinct texts). `metadata(rows written)` gives the « Métadonnées » lines (code, text) once the data is
    written; a one-cell line is a bold heading, an empty one a blank row."""
    strings: dict[str, int] = {}
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, content in _XLSX_STATIC.items():
            book.writestr(name, content)
        book.writestr("docProps/core.xml", _core_properties())
        yield sink.take()
        widths = {"indicator_label": 34, "profession_label": 40, "territory_label": 28, "source_label": 60}
        written = 0
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_sheet_start([widths.get(c, 14) for c in COLUMNS], frozen=True).encode())
            sheet.write(_xlsx_rows([header], 1, strings, header=True).encode())
            for chunk in chunks:
                if written + len(chunk) > XLSX_MAX_ROWS:  # the store grew after the rows were counted
                    raise ValueError(f"more than {XLSX_MAX_ROWS:,} rows: use CSV")
                sheet.write(_xlsx_rows(chunk, written + 2, strings).encode())
                written += len(chunk)
                yield sink.take()
            sheet.write(b"</sheetData></worksheet>")
        body = []
        for number, line in enumerate(metadata(written), start=1):
            bold = ' s="1"' if len(line) == 1 else ""
            cells = "".join(f'<c r="{"AB"[i]}{number}" t="s"{bold if i == 0 else ""}>'
                            f"<v>{_string(strings, v)}</v></c>" for i, v in enumerate(line) if v is not None)
            body.append(f'<row r="{number}">{cells}</row>')
        book.writestr("xl/worksheets/sheet2.xml", _sheet_start([30, 110], frozen=False) + "".join(body)
                      + "</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w") as table:
            table.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {_NS} count="{len(strings)}" '
                        f'uniqueCount="{len(strings)}">'.encode())
            ordered = list(strings)
            for start in range(0, len(ordered), _BATCH):
                table.write("".join(f'<si><t xml:space="preserve">{_xml_text(safe_text(v))}</t></si>'
                                    for v in ordered[start:start + _BATCH]).encode())
            table.write(b"</sst>")
    yield sink.take()


def _string(strings: dict[str, int], value: object) -> int:
    value = str(value)
    index = strings.get(value)
    if index is None:
        index = strings[value] = len(strings)
    return index


def _style(j: int, v: float, value_style: str) -> str:
    """The number format of column `j`: a value its indicator's decimals, a count whole when it is whole."""
    if j == _VALUE_AT:
        return value_style
    if j in _COUNTS:
        return _WHOLE if float(v).is_integer() else _FRACTION
    return ""


def _xlsx_rows(rows: list[tuple], first: int, strings: dict[str, int], header: bool = False) -> str:
    """SpreadsheetML of rows numbered from `first`: texts are shared strings (type s), numbers are numbers,
    value / numerator / denominator formatted by unit; an empty or non-finite number is an empty cell."""
    out = []
    append = out.append
    letters = _LETTERS
    get = strings.get
    isfinite = math.isfinite
    bold = ' s="1"' if header else ""
    for number, row in enumerate(rows, start=first):
        n = str(number)
        append(f'<row r="{n}">')
        value_style = _VALUE_STYLE.get(row[0], _FRACTION)
        for j, v in enumerate(row):
            kind = v.__class__
            if kind is str:
                index = get(v)
                if index is None:
                    index = strings[v] = len(strings)
                append(f'<c r="{letters[j]}{n}" t="s"{bold}><v>{index}</v></c>')
            elif kind is float:
                if isfinite(v):
                    append(f'<c r="{letters[j]}{n}"{_style(j, v, value_style)}><v>{v!r}</v></c>')
            elif kind is int:
                append(f'<c r="{letters[j]}{n}"{_style(j, v, value_style)}><v>{v}</v></c>')
            elif v is not None:  # a Decimal, a numpy number, a date…
                try:
                    number_value = float(v)
                except (TypeError, ValueError):
                    append(f'<c r="{letters[j]}{n}" t="s"><v>{_string(strings, v)}</v></c>')
                    continue
                if isfinite(number_value):
                    append(f'<c r="{letters[j]}{n}"{_style(j, number_value, value_style)}><v>{number_value!r}</v></c>')
        append("</row>")
    return "".join(out)


def _core_properties() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>Observatoire des métiers du social'
            f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>')


