"""XLSX workbooks for the exports, written as SpreadsheetML text straight into the ZIP.

openpyxl, even in write-only mode, builds a cell object per value and writes it through
lxml: about 9 µs a cell, half a second for the funder's workbook of 60,000 cells. Exports
need little of a spreadsheet — a sheet per table, a frozen header row, column widths, and
values that stay values (numbers, dates, text) — so each cell is one formatted string here.

Text is written as inline strings: it is never a formula, so a value starting with "="
(a formula injection) or "+7 912…" (a phone) stays text as typed. Characters XML cannot
hold (control characters other than tab and newlines) are dropped.
"""

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import quoteattr

from openpyxl.utils import get_column_letter

ROWS_PER_WRITE = 1000  # rows joined into one string before they go to the ZIP
# zlib's level 3 compresses the funder's 4.7 MB of sheets in a third of the default 6's
# time (20 ms, not 60) into a file 15 % larger
COMPRESS_LEVEL = 3
# text → XML in one pass: the markup characters escaped, those XML cannot hold dropped
_AS_XML_TEXT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    | {chr(c): None for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]}
)
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
# Cell styles of styles.xml below: 1 a date, 2 a date and time, in the reader's own format
# (Excel's built-in formats 14 and 22 follow the system's locale).
_DATE_STYLE, _DATETIME_STYLE = 1, 2

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

Sheet = tuple[str, Sequence[str], Iterable[Sequence]]  # title, header, rows


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The XLSX file of the sheets, in order; titles must be valid (webapp.export makes
    them so) and different."""
    out = io.BytesIO()
    titles = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for number, (title, header, rows) in enumerate(sheets, start=1):
            titles.append(title)
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                for chunk in _sheet_xml(header, rows):
                    part.write(chunk.encode("utf-8"))
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/workbook.xml", _workbook_xml(titles))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_relationships(len(titles)))
        archive.writestr("_rels/.rels", _package_relationships())
        archive.writestr("[Content_Types].xml", _content_types(len(titles)))
    return out.getvalue()


def _sheet_xml(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[str]:
    """The worksheet's XML in pieces: the frozen header row, the column widths, the rows."""
    letters = [get_column_letter(index) for index in range(1, len(header) + 1)]
    widths = "".join(
        f'<col min="{index}" max="{index}" width="{max(12, min(40, len(heading) + 4))}"'
        ' customWidth="1"/>'
        for index, heading in enumerate(header, start=1)
    )
    yield (
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
        f"{'<cols>' + widths + '</cols>' if widths else ''}<sheetData>"
    )
    pending = [_row_xml(1, letters, header)]
    for number, row in enumerate(rows, start=2):
        if len(letters) < len(row):  # a row wider than its header
            letters += [get_column_letter(i) for i in range(len(letters) + 1, len(row) + 1)]
        pending.append(_row_xml(number, letters, row))
        if len(pending) >= ROWS_PER_WRITE:
            yield "".join(pending)
            pending.clear()
    pending.append("</sheetData></worksheet>")
    yield "".join(pending)


def _row_xml(number: int, letters: list[str], values: Sequence) -> str:
    cells = "".join(
        [
            _cell_xml(f"{letter}{number}", value)
            for letter, value in zip(letters, values, strict=False)
            if value is not None
        ]
    )
    return f'<row r="{number}">{cells}</row>'


def _cell_xml(reference: str, value) -> str:
    if isinstance(value, str):
        text = value.translate(_AS_XML_TEXT)
        return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, bool):  # before int: a bool is an int
        return f'<c r="{reference}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{reference}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise TypeError("Excel has no time zones: convert the time to a naive local one")
        days = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{reference}" s="{_DATETIME_STYLE}"><v>{days}</v></c>'
    if isinstance(value, date):
        days = (value - _EPOCH.date()).days
        return f'<c r="{reference}" s="{_DATE_STYLE}"><v>{days}</v></c>'
    raise TypeError(f"an export cell cannot hold {type(value).__name__}: {value!r}")


def _workbook_xml(titles: list[str]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(title)} sheetId="{number}" r:id="rId{number}"/>'
        for number, title in enumerate(titles, start=1)
    )
    return (
        f'{_XML_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_relationships(sheets: int) -> str:
    kind = f"{_RELATIONSHIPS}/worksheet"
    links = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    styles = (
        f'<Relationship Id="rId{sheets + 1}" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
    )
    return (
        f'{_XML_HEAD}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">{links}{styles}'
        "</Relationships>"
    )


def _package_relationships() -> str:
    return (
        f'{_XML_HEAD}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )


def _content_types(sheets: int) -> str:
    spreadsheet = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml"'
        f' ContentType="{spreadsheet}.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{spreadsheet}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{spreadsheet}.styles+xml"/>'
        f"{overrides}</Types>"
    )
