"""Certificate PDFs: a template's background page with its fields drawn over it.

A template is a background (a one-page PDF; uploaded images are converted to one on upload,
so there is one code path) and a layout (certificates.layout: its schema and validation):
fields placed on the page, each a box in millimetres from the page's top-left corner with a
font, size, alignment and colour. What
is drawn is a Design: a template's current one, or the version an issued certificate
recorded (see certificates.services.issuing.designs_of).

Speed (bench/bench_certificates.py): what is the same on every certificate — the background,
signature images, free text without placeholders — is drawn once per design into a
"static layer" and kept; per certificate, reportlab draws only the person's text and the
vector QR code on an empty page, and pikepdf lays the static layer under it as one form
XObject. The QR code uses a fixed mask pattern: choosing the best of eight costs ~4 ms a
code and any mask decodes the same.

Text that does not fit its box shrinks (to 60 % of its size), then wraps onto as many lines
as the box holds, and is cut with "…" as a last resort; characters the font lacks (emoji)
are dropped, so the PDF never shows empty boxes.
"""

import io
import json
import threading
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Protocol

import pikepdf
import qrcode
from babel.dates import format_date
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

import webapp
from certificates.layout import FONT_SIZES, FONTS, PLACEHOLDER, validate_layout
from webapp.storage import JPEG, PDF, PNG, stored_path

FONTS_DIR = Path(webapp.__file__).resolve().parent / "static" / "fonts"
SHRINK_TO = 0.6  # a text shrinks to this share of its size before it wraps
LEADING = 1.2

# backgrounds
A4_RATIO = 297 / 210
A4_RATIO_TOLERANCE = 0.05
MAX_IMAGE_PIXELS = 50_000_000  # ~ A4 at 600 dpi; larger is refused before it is decoded
BACKGROUND_LONG_SIDE_PX = 2480  # images are scaled down to ~210 dpi on A4: sharp and small

SAMPLE_SNAPSHOT = {
    "holder_name": "Иванова Мария Сергеевна",
    "title": "Социальное проектирование: от идеи до грантовой заявки",
    "kind": "course",
    "programme": "Школа социального предпринимательства",
    "hours": 24,
    "starts_on": "2026-03-12",
    "ends_on": "2026-03-14",
    "issued_on": "2026-03-16",
    "serial": "2026-000123",
    "issuer": "Центр поддержки социальных проектов Новгородской области",
    "trainers": ["Петров Алексей Викторович", "Смирнова Ольга Николаевна"],
    "template_version": 1,
    "version": 1,
}
# an event's certificate: one day, no programme, hours or trainers
SAMPLE_EVENT_SNAPSHOT = {
    **SAMPLE_SNAPSHOT,
    "title": "Форум социальных инициатив «Новгородская тропа»",
    "kind": "event",
    "programme": "",
    "hours": None,
    "starts_on": "2026-04-02",
    "ends_on": "2026-04-02",
    "issued_on": "2026-04-03",
    "trainers": [],
}
SAMPLE_VERIFY_URL = "https://tropa.example/verify/sample0000000000000000000000"


class Design(Protocol):
    """What a certificate is drawn from: a CertificateTemplate (its current design) or a
    CertificateTemplateVersion (the design an issued certificate recorded)."""

    landscape: bool
    layout: dict
    background_storage_name: str | None


class BackgroundError(ValueError):
    """A background file that cannot be used, with the message for the person who sent it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- what a certificate says ---------------------------------------------------------------


def _russian_date(value: str | None) -> str:
    """'12 марта 2026 г.', with a plain no-break space before 'г.' (babel's narrow one is
    missing from many fonts)."""
    if not value:
        return ""
    return format_date(date.fromisoformat(value), "long", locale="ru").replace("\u202f", "\xa0")


def _hours_phrase(hours: int | None) -> str:
    """'в объёме 24 академических часов' (genitive: 1, 21, 31… take the singular)."""
    if not hours:
        return ""
    singular = hours % 10 == 1 and hours % 100 != 11
    return f"в объёме {hours} академическ{'ого часа' if singular else 'их часов'}"


def _dates_phrase(starts_on: str | None, ends_on: str | None) -> str:
    """'12 марта 2026 г.' for one day; 'с 12 по 14 марта 2026 г.', 'с 30 марта по 2 апреля
    2026 г.' or with both years for a longer span."""
    if not starts_on or not ends_on or starts_on == ends_on:
        return _russian_date(starts_on or ends_on)
    start, end = date.fromisoformat(starts_on), date.fromisoformat(ends_on)
    if start.year != end.year:
        return f"с {_russian_date(starts_on)} по {_russian_date(ends_on)}"
    if start.month != end.month:
        return f"с {format_date(start, 'd MMMM', locale='ru')} по {_russian_date(ends_on)}"
    return f"с {start.day} по {_russian_date(ends_on)}"


def sample_snapshot(kind: str) -> dict:
    """Sample data for a preview of a template of this kind ("course" or "event")."""
    return SAMPLE_EVENT_SNAPSHOT if kind == "event" else SAMPLE_SNAPSHOT


def field_values(snapshot: dict) -> dict[str, str]:
    """What each text field type prints for this snapshot, in Russian ('' = nothing)."""
    serial = snapshot.get("serial") or ""
    return {
        "holder_name": snapshot.get("holder_name") or "",
        "title": snapshot.get("title") or "",
        "programme": snapshot.get("programme") or "",
        "hours": _hours_phrase(snapshot.get("hours")),
        "dates": _dates_phrase(snapshot.get("starts_on"), snapshot.get("ends_on")),
        "issued_on": _russian_date(snapshot.get("issued_on")),
        "serial": f"№ {serial}" if serial else "",
        "issuer": snapshot.get("issuer") or "",
        "trainers": ", ".join(snapshot.get("trainers") or []),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    """A free text with its placeholders filled; '' when one of them has no value (no
    programme, no hours), so 'в рамках программы «{programme}»' is left out, not half-said."""
    names = PLACEHOLDER.findall(text)
    if any(not values.get(name) for name in names):
        return ""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _is_static(field: dict) -> bool:
    """Printed the same on every certificate: drawn once into the template's static layer."""
    return field["type"] == "signature" or (
        field["type"] == "text" and not PLACEHOLDER.search(field["text"])
    )


# --- fonts and text ------------------------------------------------------------------------


@cache
def _register_fonts() -> dict[str, frozenset[int]]:
    """Register the bundled DejaVu fonts once per process; the code points each one has.

    Also turns off reportlab's ASCII85 wrapping of binary streams (for 7-bit mail of the
    1990s): it costs ~4 ms a certificate and makes every PDF a quarter larger."""
    rl_config.useA85 = 0
    covered = {}
    for name, (registered, file_name) in FONTS.items():
        font = TTFont(registered, str(FONTS_DIR / file_name))
        pdfmetrics.registerFont(font)
        covered[name] = frozenset(font.face.charToGlyph)
    return covered


def printable(text: str, font: str) -> str:
    """The text with what the font cannot draw (emoji, control characters) left out."""
    covered = _register_fonts()[font]
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c if ord(c) in covered else " " if c.isspace() else "" for c in text)
    return " ".join(kept.split())


@dataclass(frozen=True)
class FittedText:
    lines: list[str]
    size: float


def fit_text(text: str, font: str, size: float, width: float, height: float) -> FittedText:
    """Lines and a font size (points) that fit the box (points): one line at the given size
    or smaller down to SHRINK_TO of it; else wrapped, as many lines as the box holds, the
    last cut with '…' if even that is not enough."""
    name = FONTS[font][0]
    smallest = max(FONT_SIZES[0], size * SHRINK_TO)
    step = max(0.5, size / 40)
    candidate = size
    while candidate >= smallest:
        if pdfmetrics.stringWidth(text, name, candidate) <= width:
            return FittedText([text], candidate)
        candidate -= step
    candidate = size
    while candidate >= smallest:
        lines = simpleSplit(text, name, candidate, width)
        if len(lines) * candidate * LEADING <= height:
            return FittedText(lines, candidate)
        candidate -= step
    room = max(1, int(height // (smallest * LEADING)))
    lines = simpleSplit(text, name, smallest, width)
    if len(lines) > room:
        lines = lines[:room]
        last = lines[-1]
        while last and pdfmetrics.stringWidth(last + "…", name, smallest) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return FittedText(lines, smallest)


def _draw_text(pdf: Canvas, field: dict, text: str, page_height: float) -> None:
    text = printable(text, field["font"])
    if not text:
        return
    x, width, height = field["x"] * mm, field["width"] * mm, field["height"] * mm
    top = page_height - field["y"] * mm
    fitted = fit_text(text, field["font"], field["size"], width, height)
    line_height = fitted.size * LEADING
    # the lines are centred vertically in the box; a line's baseline sits ~0.8 em below
    # its top, the rest is the descent and the leading
    block_top = top - (height - line_height * len(fitted.lines)) / 2
    colour = field["color"]
    pdf.setFillColorRGB(*(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)))
    pdf.setFont(FONTS[field["font"]][0], fitted.size)
    for number, line in enumerate(fitted.lines):
        baseline = block_top - number * line_height - fitted.size * 0.95
        if field["align"] == "left":
            pdf.drawString(x, baseline, line)
        elif field["align"] == "right":
            pdf.drawRightString(x + width, baseline, line)
        else:
            pdf.drawCentredString(x + width / 2, baseline, line)


# --- QR code and images --------------------------------------------------------------------


def _draw_qr(pdf: Canvas, text: str, field: dict, page_height: float) -> None:
    """A vector QR code, square, centred in its box, with a white quiet zone: one path of
    one rectangle per run of dark modules, written in module units and scaled by the
    transformation matrix (short integers keep the content stream small and fast)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    quiet = 2  # modules of white around the code, inside the box
    box = min(field["width"], field["height"]) * mm
    module = box / (modules + 2 * quiet)
    left = field["x"] * mm + (field["width"] * mm - box) / 2
    top = page_height - field["y"] * mm - (field["height"] * mm - box) / 2
    pdf.saveState()
    pdf.setFillColorRGB(1, 1, 1)
    pdf.rect(left, top - box, box, box, stroke=0, fill=1)
    pdf.transform(module, 0, 0, -module, left + quiet * module, top - quiet * module)
    runs = []
    for row_number, row in enumerate(matrix):
        column = 0
        while column < modules:
            if row[column]:
                run_end = column
                while run_end < modules and row[run_end]:
                    run_end += 1
                runs.append(f"{column} {row_number} {run_end - column} 1 re")
                column = run_end
            else:
                column += 1
    pdf.setFillColorRGB(0, 0, 0)
    pdf.addLiteral("\n".join(runs) + "\nf")
    pdf.restoreState()


def _draw_image(pdf: Canvas, field: dict, page_height: float) -> None:
    """A signature image scaled into its box, keeping its proportions, centred."""
    try:
        reader = ImageReader(str(stored_path(field["image"])))
    except (OSError, ValueError):
        return  # a deleted image: the certificate is still printed, without it
    width, height = field["width"] * mm, field["height"] * mm
    pdf.drawImage(
        reader,
        field["x"] * mm,
        page_height - field["y"] * mm - height,
        width,
        height,
        mask="auto",
        preserveAspectRatio=True,
        anchor="c",
    )


# --- the page ------------------------------------------------------------------------------


def _page_points(is_landscape: bool) -> tuple[float, float]:
    return landscape(A4) if is_landscape else A4


def _draw_fields(pdf: Canvas, fields: list[dict], values: dict, verify_url: str) -> None:
    page_height = pdf._pagesize[1]
    for field in fields:
        kind = field["type"]
        if kind == "qr":
            _draw_qr(pdf, verify_url, field, page_height)
        elif kind == "signature":
            _draw_image(pdf, field, page_height)
        elif kind == "text":
            _draw_text(pdf, field, _fill(field["text"], values), page_height)
        else:
            _draw_text(pdf, field, values[kind], page_height)


def _reportlab_page(is_landscape: bool, fields: list[dict], values: dict, url: str) -> bytes:
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=_page_points(is_landscape), pageCompression=1)
    pdf.setCreator("Tropa")
    _draw_fields(pdf, fields, values, url)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class _StaticLayer:
    """The part of a template printed the same on every certificate, as one form XObject:
    the background page (scaled to A4 keeping its proportions) and the static fields."""

    def __init__(self, design: Design, fields: list[dict]):
        static = [field for field in fields if _is_static(field)]
        self.empty = not static and not design.background_storage_name
        if self.empty:
            return
        layer = pikepdf.open(io.BytesIO(_reportlab_page(design.landscape, static, {}, "")))
        if design.background_storage_name:
            with pikepdf.open(stored_path(design.background_storage_name)) as background:
                page = layer.pages[0]
                page.add_underlay(layer.copy_foreign(background.pages[0].as_form_xobject()))
        # every stream compressed once here, so a certificate is saved without compressing
        compressed = io.BytesIO()
        layer.save(compressed, compress_streams=True)
        self.pdf = pikepdf.open(compressed)
        self.xobject = self.pdf.pages[0].as_form_xobject()
        self.xobject.write(
            zlib.compress(self.xobject.read_bytes()), filter=pikepdf.Name.FlateDecode
        )


# Per thread: qpdf objects must not be used by two threads at once, and a certificate's
# save reads the layer's streams. A few designs per thread is a few hundred KB.
_kept = threading.local()
_STATIC_LAYERS_KEPT = 8


def _static_layer(design: Design, fields: list[dict]) -> _StaticLayer:
    """The design's static layer, built once per thread and kept while the design (its
    background and static fields, not its version: a preview of unsaved changes, or another
    version with the same static part, has the same) is the same."""
    key = json.dumps(
        [
            design.background_storage_name,
            design.landscape,
            [f for f in fields if _is_static(f)],
        ],
        sort_keys=True,
    )
    layers: OrderedDict[str, _StaticLayer] = _kept.__dict__.setdefault("layers", OrderedDict())
    layer = layers.get(key)
    if layer is None:
        layer = layers[key] = _StaticLayer(design, fields)
        while len(layers) > _STATIC_LAYERS_KEPT:
            layers.popitem(last=False)
    layers.move_to_end(key)
    return layer


def render_certificates(design: Design, items: Iterable[tuple[dict, str]]) -> Iterator[bytes]:
    """One one-page PDF per (snapshot, verification URL), the design loaded once."""
    _register_fonts()
    fields = validate_layout(design.layout, design.landscape)["fields"]
    dynamic = [field for field in fields if not _is_static(field)]
    layer = _static_layer(design, fields)
    for snapshot, verify_url in items:
        page = _reportlab_page(design.landscape, dynamic, field_values(snapshot), verify_url)
        if layer.empty:
            yield page
            continue
        with pikepdf.open(io.BytesIO(page)) as pdf:
            # the layer is drawn first, under the fields; both pages have the same size. Not
            # pikepdf's add_underlay: it merges the page's streams into one uncompressed one.
            page = pdf.pages[0]
            name = page.add_resource(pdf.copy_foreign(layer.xobject), pikepdf.Name.XObject)
            page.contents_add(b"q " + bytes(name.unparse()) + b" Do Q\n", prepend=True)
            buffer = io.BytesIO()
            # every stream is compressed already (by reportlab, or once in the static layer):
            # written as they are, a save takes ~1 ms instead of ~10
            pdf.save(
                buffer,
                compress_streams=False,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
            )
        yield buffer.getvalue()


def render_certificate(design: Design, snapshot: dict, verify_url: str) -> bytes:
    """A one-page PDF certificate."""
    return next(render_certificates(design, [(snapshot, verify_url)]))


def render_plain(design: Design, snapshot: dict, verify_url: str) -> bytes:
    """The design's fields on a page without its background and with nothing kept between
    calls: the baseline the benchmark compares render_certificates with."""
    _register_fonts()
    fields = validate_layout(design.layout, design.landscape)["fields"]
    return _reportlab_page(design.landscape, fields, field_values(snapshot), verify_url)


# --- backgrounds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    pdf: bytes  # one page
    landscape: bool
    note: str = ""  # e.g. that only the first of several pages is used


def background_from_file(path: Path, content_type: str) -> Background:
    """A stored upload (PDF, PNG or JPEG, as detected by webapp.storage) as a one-page A4
    background, or BackgroundError saying why it cannot be one."""
    if content_type == PDF:
        return _background_from_pdf(path)
    if content_type in (PNG, JPEG):
        return _background_from_image(path)
    raise BackgroundError(_("A background must be a PDF, PNG or JPEG file."))


def _check_a4(width: float, height: float) -> bool:
    """Whether the page has A4's proportions; returns True for landscape."""
    if width <= 0 or height <= 0:
        raise BackgroundError(_("The background page has no size."))
    ratio = max(width, height) / min(width, height)
    if abs(ratio - A4_RATIO) / A4_RATIO > A4_RATIO_TOLERANCE:
        raise BackgroundError(
            _("The background must have the proportions of an A4 page, portrait or landscape.")
        )
    return width > height


def _background_from_pdf(path: Path) -> Background:
    try:
        with pikepdf.open(path) as source:
            if len(source.pages) == 0:
                raise BackgroundError(_("The PDF has no pages."))
            first = source.pages[0]
            box = [float(value) for value in first.mediabox]
            width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
            if int(first.obj.get("/Rotate", 0)) % 180:
                width, height = height, width
            is_landscape = _check_a4(width, height)
            note = ""
            if len(source.pages) > 1:
                note = _(
                    "The PDF has %(n)d pages; its first page is the background.",
                    n=len(source.pages),
                )
            single = pikepdf.new()
            single.pages.append(first)
            buffer = io.BytesIO()
            single.save(buffer)  # not encrypted, only what page 1 uses
    except pikepdf.PasswordError as error:
        raise BackgroundError(_("The PDF is protected with a password.")) from error
    except (pikepdf.PdfError, ValueError, TypeError, KeyError) as error:
        if isinstance(error, BackgroundError):
            raise
        raise BackgroundError(_("The PDF file is damaged and cannot be read.")) from error
    return Background(buffer.getvalue(), is_landscape, note)


def _background_from_image(path: Path) -> Background:
    try:
        with Image.open(path) as image:
            width, height = image.size  # read from the header: nothing decoded yet
            if width * height > MAX_IMAGE_PIXELS:
                raise BackgroundError(
                    _(
                        "The image is too large (%(w)d × %(h)d pixels); at most %(mp)d megapixels.",
                        w=width,
                        h=height,
                        mp=MAX_IMAGE_PIXELS // 1_000_000,
                    )
                )
            is_landscape = _check_a4(width, height)
            image.load()
            picture = _scaled_for_print(image)
    except Image.DecompressionBombError as error:  # Pillow's own, far larger limit
        raise BackgroundError(_("The image is too large.")) from error
    except (UnidentifiedImageError, OSError) as error:
        raise BackgroundError(_("The image file is damaged and cannot be read.")) from error
    # JPEG goes into the PDF as it is (DCTDecode): a few hundred KB, not megabytes of pixels
    encoded = io.BytesIO()
    picture.save(encoded, format="JPEG", quality=90)
    encoded.seek(0)
    buffer = io.BytesIO()
    page_width, page_height = _page_points(is_landscape)
    pdf = Canvas(buffer, pagesize=(page_width, page_height))
    pdf.setCreator("Tropa")
    pdf.drawImage(ImageReader(encoded), 0, 0, page_width, page_height)
    pdf.showPage()
    pdf.save()
    return Background(buffer.getvalue(), is_landscape)


def _scaled_for_print(image: Image.Image) -> Image.Image:
    """The image at no more than BACKGROUND_LONG_SIDE_PX on its long side, in RGB (a
    transparent image is laid on white: a certificate is printed on white paper)."""
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image)
    image = image.convert("RGB")
    if max(image.size) > BACKGROUND_LONG_SIDE_PX:
        image.thumbnail((BACKGROUND_LONG_SIDE_PX, BACKGROUND_LONG_SIDE_PX), Image.LANCZOS)
    return image
