"""Certificate PDFs: text (Cyrillic, extractable), the QR code decoding to the verification
URL, long names and emoji fitted, bad layouts and bad backgrounds refused clearly."""

import io
import struct
import threading
import zlib

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from certificates import rendering
from certificates.layout import LayoutError, validate_layout
from certificates.models import CertificateTemplate, TemplateKind
from certificates.rendering import (
    SAMPLE_SNAPSHOT,
    BackgroundError,
    background_from_file,
    field_values,
    fit_text,
    render_certificate,
    render_certificates,
)
from certificates.services.templates import default_template
from tests.events_support import decode, pdf_page_images
from webapp import storage
from webapp.extensions import db

pytestmark = pytest.mark.usefixtures("english_messages")  # assertions read the English texts

VERIFY_URL = "http://tropa.test/verify/7k2m9q4x8r1t5v3w6y0z2b4d6f"


def snapshot(**changes) -> dict:
    return {**SAMPLE_SNAPSHOT, **changes}


def page_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text().replace("\xa0", " ")


@pytest.fixture
def course_template(app_ctx) -> CertificateTemplate:
    template = default_template(TemplateKind.COURSE)
    db.session.commit()
    return template


def test_the_default_course_certificate_shows_the_person_course_and_serial(course_template):
    pdf = render_certificate(course_template, snapshot(), VERIFY_URL)
    text = page_text(pdf)
    assert "Иванова Мария Сергеевна" in text
    assert "Социальное проектирование: от идеи до грантовой заявки" in text
    assert "2026-000123" in text
    assert "16 марта 2026 г." in text  # the issue date, in Russian
    assert "с 12 по 14 марта 2026 г." in text
    assert "в объёме 24 академических часов" in text
    assert "Центр поддержки социальных проектов" in text
    width, height = (float(v) for v in PdfReader(io.BytesIO(pdf)).pages[0].mediabox[2:])
    assert (round(width), round(height)) == (842, 595)  # landscape A4


def test_the_qr_code_decodes_to_the_verification_url(course_template):
    pdf = render_certificate(course_template, snapshot(), VERIFY_URL)
    [page] = pdf_page_images(pdf, dpi=150)
    assert decode(page) == [VERIFY_URL]


def test_the_qr_code_is_vector_not_a_bitmap(course_template):
    pdf = render_certificate(course_template, snapshot(), VERIFY_URL)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        images = [obj for obj in document.objects if obj.get("/Subtype") == "/Image"]
    assert images == []


def test_the_event_certificate_leaves_out_what_the_event_does_not_have(app_ctx):
    template = default_template(TemplateKind.EVENT)
    pdf = render_certificate(
        template,
        snapshot(kind="event", programme="", hours=None, trainers=[], ends_on="2026-03-12"),
        VERIFY_URL,
    )
    text = page_text(pdf)
    assert "участника" in text
    assert "12 марта 2026 г." in text
    assert "программы" not in text and "часов" not in text and "Тренеры" not in text


def test_many_certificates_share_one_template_load(course_template):
    items = [(snapshot(holder_name=f"Участник Номер {n}"), f"{VERIFY_URL}{n}") for n in range(3)]
    pdfs = list(render_certificates(course_template, items))
    assert all(f"Участник Номер {n}" in page_text(pdf) for n, pdf in enumerate(pdfs))


def test_a_long_name_shrinks_then_wraps_and_stays_in_its_box(course_template):
    name = " ".join(["Константинопольская-Воскресенская Александра-Мария"] * 6)[:300]
    pdf = render_certificate(course_template, snapshot(holder_name=name), VERIFY_URL)
    text = page_text(pdf).replace("\n", " ")
    assert "Константинопольская-Воскресенская" in text
    [page] = pdf_page_images(pdf, dpi=150)
    assert decode(page) == [VERIFY_URL]  # nothing spilled over the code

    field = next(f for f in course_template.layout["fields"] if f["type"] == "holder_name")
    height = field["height"] * mm
    fitted = fit_text(name, field["font"], field["size"], field["width"] * mm, height)
    assert fitted.size >= field["size"] * rendering.SHRINK_TO
    assert len(fitted.lines) * fitted.size * rendering.LEADING <= height
    assert fitted.lines[-1].endswith("…")


def test_a_name_that_fits_when_smaller_stays_on_one_line():
    fitted = fit_text("Иванова-Петрова Мария-Антуанетта Сергеевна", "serif-bold", 30, 600, 50)
    assert len(fitted.lines) == 1 and fitted.size < 30


def test_emoji_and_control_characters_are_left_out(course_template):
    pdf = render_certificate(
        course_template, snapshot(holder_name="Мария 🎓 Иванова\u0007 ✨"), VERIFY_URL
    )
    assert "Мария Иванова" in page_text(pdf)
    assert rendering.printable("🎉🎉", "serif-bold") == ""


def test_a_certificate_of_only_emoji_still_renders(course_template):
    pdf = render_certificate(course_template, snapshot(holder_name="🎉🎉🎉"), VERIFY_URL)
    assert "2026-000123" in page_text(pdf)


def test_russian_phrases_for_hours_and_dates():
    def values_of(**changes):
        values = field_values(snapshot(**changes))
        return {name: value.replace("\xa0", " ") for name, value in values.items()}

    values = values_of(hours=21, starts_on="2026-03-30", ends_on="2026-04-02")
    assert values["hours"] == "в объёме 21 академического часа"
    assert values["dates"] == "с 30 марта по 2 апреля 2026 г."
    values = values_of(hours=11, starts_on="2025-12-29", ends_on="2026-01-10")
    assert values["hours"] == "в объёме 11 академических часов"
    assert values["dates"] == "с 29 декабря 2025 г. по 10 января 2026 г."
    assert values_of(hours=None, starts_on=None, ends_on=None)["dates"] == ""


# --- layouts -----------------------------------------------------------------------------------


def text_field(**changes) -> dict:
    return {
        "type": "holder_name",
        "x": 10,
        "y": 10,
        "width": 100,
        "height": 20,
        "font": "serif-bold",
        "size": 20,
        "align": "center",
        "color": "#112233",
        **changes,
    }


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (text_field(type="photo"), "unknown field type"),
        (text_field(x=250), "off the page"),
        (text_field(y=-1), "off the page"),
        (text_field(color="red"), "colour"),
        (text_field(font="Comic Sans"), "unknown font"),
        (text_field(size=500), "font size"),
        (text_field(align="justify"), "alignment"),
        (text_field(width="wide"), "number of millimetres"),
        (text_field(type="text", text="Выдан {nickname}"), "unknown placeholder {nickname}"),
        (text_field(type="text", text="  "), "needs its text"),
        (text_field(type="signature"), "needs an uploaded image"),
    ],
)
def test_a_bad_layout_is_refused_with_a_clear_message(app_ctx, field, message):
    with pytest.raises(LayoutError) as error:
        validate_layout({"fields": [text_field(), field]}, is_landscape=True)
    assert len(error.value.messages) == 1
    assert error.value.messages[0].startswith("Field 2: ")
    assert message in error.value.messages[0]


def test_a_layout_is_normalised_and_a_portrait_page_is_narrower(app_ctx):
    layout = validate_layout({"fields": [text_field(x=10.04, extra="dropped")]}, True)
    assert layout == {"fields": [text_field(x=10.0, size=20.0)]}
    with pytest.raises(LayoutError):
        validate_layout({"fields": [text_field(x=150)]}, is_landscape=False)
    with pytest.raises(LayoutError):
        validate_layout({"fields": "nope"}, True)


def test_free_text_with_an_empty_placeholder_is_left_out(course_template):
    course_template.layout = {
        "fields": [
            text_field(type="text", text="в рамках программы «{programme}»", y=50),
            text_field(type="text", text="Выдан: {issued_on}", y=80),
        ]
    }
    text = page_text(render_certificate(course_template, snapshot(programme=""), VERIFY_URL))
    assert "программы" not in text
    assert "Выдан: 16 марта 2026 г." in text


# --- backgrounds ---------------------------------------------------------------------------------


def close_to(colour, expected) -> bool:
    return all(abs(a - b) <= 3 for a, b in zip(colour, expected, strict=True))


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def pdf_pages(*sizes) -> bytes:
    buffer = io.BytesIO()
    pdf = Canvas(buffer)
    for size in sizes:
        pdf.setPageSize(size)
        pdf.rect(20, 20, 100, 100, fill=1)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def image_bytes(size, mode="RGB", fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 180, 120) if mode == "RGB" else None).save(buffer, format=fmt)
    return buffer.getvalue()


def test_a_multi_page_pdf_gives_its_first_page_and_says_so(app_ctx, tmp_path):
    path = write(tmp_path, "bg.pdf", pdf_pages((842, 595), (595, 842), (595, 842)))
    background = background_from_file(path, storage.PDF)
    assert background.landscape is True
    assert "3 pages" in background.note
    with pikepdf.open(io.BytesIO(background.pdf)) as document:
        assert len(document.pages) == 1


def test_an_image_becomes_a_one_page_pdf_of_its_orientation(app_ctx, tmp_path):
    path = write(tmp_path, "bg.jpg", image_bytes((1240, 1754), fmt="JPEG"))
    background = background_from_file(path, storage.JPEG)
    assert background.landscape is False
    with pikepdf.open(io.BytesIO(background.pdf)) as document:
        [page] = document.pages
        assert [round(float(v)) for v in page.mediabox] == [0, 0, 595, 842]


def test_a_transparent_png_is_laid_on_white(app_ctx, tmp_path):
    path = write(tmp_path, "bg.png", image_bytes((842, 595), mode="RGBA"))
    background = background_from_file(path, storage.PNG)
    [page] = pdf_page_images(background.pdf, dpi=20)
    assert close_to(page.convert("RGB").getpixel((50, 50)), (255, 255, 255))


def test_a_background_renders_under_the_fields(course_template, tmp_path):
    path = write(tmp_path, "bg.png", image_bytes((842, 595)))
    background = background_from_file(path, storage.PNG)
    stored = storage.save_upload(io.BytesIO(background.pdf), "bg.pdf")
    course_template.background_storage_name = stored.storage_name
    pdf = render_certificate(course_template, snapshot(), VERIFY_URL)
    [page] = pdf_page_images(pdf, dpi=40)
    assert close_to(page.convert("RGB").getpixel((20, 200)), (200, 180, 120))
    assert "Иванова Мария Сергеевна" in page_text(pdf)


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"),
    [
        ("broken.pdf", b"%PDF-1.7\n garbage", storage.PDF, "damaged"),
        ("letter.pdf", pdf_pages((612, 612)), storage.PDF, "proportions of an A4"),
        ("broken.png", b"\x89PNG\r\n\x1a\n not really", storage.PNG, "damaged"),
        ("square.png", image_bytes((500, 500)), storage.PNG, "proportions of an A4"),
        ("doc.docx", b"PK", storage.DOCX, "PDF, PNG or JPEG"),
    ],
)
def test_bad_backgrounds_are_refused_clearly(app_ctx, tmp_path, name, data, content_type, message):
    with pytest.raises(BackgroundError) as error:
        background_from_file(write(tmp_path, name, data), content_type)
    assert message in error.value.message


def test_an_encrypted_pdf_is_refused(app_ctx, tmp_path):
    with pikepdf.open(io.BytesIO(pdf_pages((842, 595)))) as document:
        buffer = io.BytesIO()
        document.save(buffer, encryption=pikepdf.Encryption(owner="o", user="secret"))
    with pytest.raises(BackgroundError) as error:
        background_from_file(write(tmp_path, "locked.pdf", buffer.getvalue()), storage.PDF)
    assert "password" in error.value.message


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds no pixels: opening it reads only this."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(10_000, 7_071), (40_000, 28_284)])
def test_a_huge_image_is_refused_before_it_is_decoded(app_ctx, tmp_path, size):
    """60 megapixels: over our limit; 1.1 gigapixels: over Pillow's decompression-bomb
    limit too. Both A4-shaped, both refused from the header."""
    path = write(tmp_path, "huge.png", png_header(*size))
    with pytest.raises(BackgroundError) as error:
        background_from_file(path, storage.PNG)
    assert "too large" in error.value.message


def test_threads_render_the_same_template_at_once(app, course_template):
    """Each thread keeps its own static layer: qpdf objects are not shared between threads."""
    template_id = course_template.id
    results: list[str] = []

    def render(number: int) -> None:
        with app.app_context():
            template = db.session.get(CertificateTemplate, template_id)
            items = [
                (snapshot(holder_name=f"Поток {number} Номер {n}"), VERIFY_URL) for n in range(5)
            ]
            results.extend(page_text(pdf) for pdf in render_certificates(template, items))
            db.session.remove()

    threads = [threading.Thread(target=render, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert all("2026-000123" in text for text in results)
