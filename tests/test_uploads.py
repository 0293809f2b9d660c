"""Uploads are judged by their bytes, bounded while copied, stored under random names outside
the static folder, and always served as downloads."""

import io
from pathlib import Path
from urllib.parse import quote

import pytest
from flask_babel import force_locale

from tests.materials_support import (
    EXE_BYTES,
    HTML_BYTES,
    docx_bytes,
    pdf_bytes,
    png_bytes,
    xlsx_bytes,
    zip_bomb_docx,
)
from webapp import storage


def stored_files(app) -> list[Path]:
    return sorted(Path(app.config["TROPA_FILES_DIR"]).glob("*"))


@pytest.fixture
def files(app_ctx):
    before = set(stored_files(app_ctx))
    yield
    for path in set(stored_files(app_ctx)) - before:
        path.unlink()


@pytest.mark.parametrize(
    ("content", "name", "content_type", "shown_as"),
    [
        (pdf_bytes(), "Программа курса.pdf", storage.PDF, "Программа курса.pdf"),
        (png_bytes(), "схема.PNG", storage.PNG, "схема.png"),
        (docx_bytes(), "шаблон.docx", storage.DOCX, "шаблон.docx"),
        (xlsx_bytes(), "бюджет.xlsx", storage.XLSX, "бюджет.xlsx"),
        # the type comes from the bytes: a PDF named .docx is stored as a PDF
        (pdf_bytes(), "устав.docx", storage.PDF, "устав.pdf"),
    ],
)
def test_accepted_files_are_typed_by_content(app_ctx, files, content, name, content_type, shown_as):
    stored = storage.save_upload(io.BytesIO(content), name)
    assert stored.content_type == content_type
    assert stored.original_name == shown_as
    assert stored.size == len(content)
    path = storage.stored_path(stored.storage_name)
    assert path.read_bytes() == content
    assert len(stored.storage_name) == 32 and name not in str(path)
    static = Path(app_ctx.static_folder).resolve()
    assert static not in path.resolve().parents


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (EXE_BYTES, "lecture.pdf", "not accepted"),
        (HTML_BYTES, "page.html", "not accepted"),
        (b"<svg onload=alert(1)>", "logo.png", "not accepted"),
        (zip_bomb_docx(), "bomb.docx", "unpacks to too much"),
        (b"PK\x03\x04 not really a zip", "broken.docx", "not a valid"),
        (b"", "empty.pdf", "empty"),
    ],
)
def test_disguised_and_dangerous_files_are_refused_and_nothing_is_left(
    app, app_ctx, files, content, name, message
):
    before = stored_files(app)
    with force_locale("en"), pytest.raises(storage.UploadRefused) as refused:
        storage.save_upload(io.BytesIO(content), name)
    assert message in refused.value.message
    assert stored_files(app) == before


def test_a_file_over_the_limit_is_refused_while_copying(app, app_ctx, files):
    app.config["TROPA_MAX_UPLOAD_MB"] = 1
    before = stored_files(app)

    class Endless(io.RawIOBase):
        """A stream that never ends: the limit must stop the copy, not the end of file."""

        read_calls = 0

        def read(self, size=-1):
            Endless.read_calls += 1
            return b"%PDF-" + b"0" * (size - 5 if size > 5 else 64 * 1024)

    try:
        with pytest.raises(storage.UploadRefused):
            storage.save_upload(Endless(), "big.pdf")
    finally:
        app.config["TROPA_MAX_UPLOAD_MB"] = 50
    assert Endless.read_calls <= 20
    assert stored_files(app) == before


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system.ini.pdf", "system.ini.pdf"),
        ("/abs/path/отчёт.pdf", "отчёт.pdf"),
        ('\x00\r\nevil".pdf', 'evil".pdf'),
        ("...", "file.pdf"),
        ("", "file.pdf"),
    ],
)
def test_path_tricks_in_names_are_only_a_label(app_ctx, files, given, shown):
    stored = storage.save_upload(io.BytesIO(pdf_bytes()), given)
    assert stored.original_name in (shown, shown.replace("file", "файл"))
    assert storage.stored_path(stored.storage_name).parent == Path(
        app_ctx.config["TROPA_FILES_DIR"]
    )


@pytest.mark.parametrize("name", ["../secret", "a" * 32 + "/..", "", "ABCDEF" * 6])
def test_only_random_storage_names_are_opened(app_ctx, name):
    with pytest.raises(ValueError):
        storage.stored_path(name)


def test_a_download_is_an_attachment_never_a_page(app_ctx, files):
    stored = storage.save_upload(io.BytesIO(pdf_bytes()), 'План "аудита".pdf')
    with app_ctx.test_request_context():
        response = storage.file_response(stored)
        response.direct_passthrough = False
        body = response.get_data()
    assert body == pdf_bytes() or body.startswith(b"%PDF-")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="file.pdf"')
    assert f"filename*=UTF-8''{quote(stored.original_name, safe='')}" in disposition
    assert "sandbox" in response.headers["Content-Security-Policy"]
