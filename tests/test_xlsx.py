"""The exports' XLSX writer (webapp.xlsx): what a spreadsheet reads back from it."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.conftest import database_independent
from webapp.export import xlsx_workbook_response
from webapp.xlsx import workbook_bytes

pytestmark = database_independent


def read(body: bytes):
    return load_workbook(io.BytesIO(body))


def test_values_come_back_as_the_values_they_were():
    rows = [
        ["Анна <Смирнова> & Co", 3, 2.5, Decimal("4.25"), True, date(2026, 5, 14)],
        ['=HYPERLINK("http://x")', -1, None, 0, False, datetime(2026, 5, 14, 10, 30)],
        ["+7 912 000-00-00", None, None, None, None, None],
        ["bell\x07 and tab\tand\nnewline"],
    ]
    sheet = read(workbook_bytes([("Лист", ["Имя", "a", "b", "c", "d", "Дата"], rows)])).active
    assert sheet.title == "Лист"
    found = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert found[0] == ["Имя", "a", "b", "c", "d", "Дата"]
    assert found[1] == ["Анна <Смирнова> & Co", 3, 2.5, 4.25, True, datetime(2026, 5, 14)]
    assert found[2] == ['=HYPERLINK("http://x")', -1, None, 0, False, datetime(2026, 5, 14, 10, 30)]
    assert sheet.cell(row=3, column=1).data_type == "s"  # text, never a formula
    assert found[3][0] == "+7 912 000-00-00"
    assert found[4][0] == "bell and tab\tand\nnewline"  # XML holds no bell
    assert sheet.cell(row=2, column=6).is_date
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 12
    assert sheet.max_row == 5


def test_sheets_keep_their_order_and_get_names_excel_accepts():
    sheets = [
        ("Посещаемость: курс [весна]", ["a"], [[1]]),
        ("Посещаемость курс весна", ["a"], [[2]]),
        (None, ["a"], [[3]]),
        ('Tom & Jerry\'s "list"', ["a"], []),
    ]
    workbook = read(xlsx_workbook_response("x.xlsx", sheets).get_data())
    assert workbook.sheetnames == [
        "Посещаемость курс весна",
        "Посещаемость курс весна2",
        "Sheet",
        'Tom & Jerry\'s "list"',
    ]
    assert [ws.cell(row=2, column=1).value for ws in workbook.worksheets[:3]] == [1, 2, 3]
    assert workbook.worksheets[3].max_row == 1


def test_a_time_with_a_zone_or_an_unknown_type_is_refused():
    with pytest.raises(TypeError):
        workbook_bytes([("a", ["t"], [[datetime(2026, 5, 14, tzinfo=UTC)]])])
    with pytest.raises(TypeError):
        workbook_bytes([("a", ["t"], [[object()]])])
