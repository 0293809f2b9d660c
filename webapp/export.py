"""CSV and XLSX downloads of a table, shared by every list that exports."""

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response

from webapp.xlsx import workbook_bytes

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def attachment_disposition(filename: str, fallback: str = "export") -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name, so Cyrillic names survive. Quotes,
    backslashes and control characters never reach the header."""
    ascii_name = "".join(
        c for c in filename.encode("ascii", "ignore").decode() if c.isprintable() and c not in '"\\'
    )
    if not any(c.isalnum() for c in ascii_name.rsplit(".", 1)[0]):
        ascii_name = fallback
    utf8_name = quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name.strip()}\"; filename*=UTF-8''{utf8_name}"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    disposition = attachment_disposition(filename)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """UTF-8 with BOM and semicolons: what Excel in a Russian locale opens correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell("" if v is None else v) for v in row])
    return _download(out.getvalue().encode("utf-8"), "text/csv", filename)


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    return xlsx_workbook_response(filename, [(None, header, rows)])


def xlsx_workbook_response(
    filename: str, sheets: Iterable[tuple[str | None, Sequence[str], Iterable[Sequence]]]
) -> Response:
    """A workbook of one sheet per (title, header, rows) (webapp.xlsx: text stays text, never
    a formula); a title is cut to Excel's 31 characters and freed of the characters Excel
    refuses in one; a sheet without one is "Sheet", "Sheet2"…"""
    titles: list[str] = []

    def titled(sheet):
        title, header, rows = sheet
        titles.append(unique_title(sheet_title(title) if title else "Sheet", titles))
        return titles[-1], [str(h) for h in header], rows

    return _download(workbook_bytes(map(titled, sheets)), XLSX_MIME, filename)


def sheet_title(title: str) -> str:
    """Excel's rules for a sheet's name (31 characters, none of []:*?/\\); a long one is cut
    after a whole word, with an ellipsis."""
    title = " ".join("".join(" " if c in "[]:*?/\\" else c for c in str(title)).split())
    if len(title) <= 31:
        return title
    cut = title[:30].rsplit(" ", 1)[0] if " " in title[:30] else title[:30]
    return cut.rstrip(" ,;.—-") + "…"


def unique_title(title: str, taken: list[str]) -> str:
    """Excel refuses two sheets of one name (whatever the case): the second gets a number."""
    used = {name.casefold() for name in taken}
    candidate, number = title, 2
    while candidate.casefold() in used:
        suffix = str(number)
        candidate, number = title[: 31 - len(suffix)] + suffix, number + 1
    return candidate


def table_response(fmt: str, filename_stem: str, header, rows) -> Response:
    if fmt == "xlsx":
        return xlsx_response(f"{filename_stem}.xlsx", header, rows)
    return csv_response(f"{filename_stem}.csv", header, rows)
