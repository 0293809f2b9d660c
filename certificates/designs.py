"""The shipped designs: a decorative background drawn with reportlab and a layout, one for
courses (a certificate of completion) and one for events (of participation).

The background is stored like an uploaded one, so the shipped design renders by the same
path as a designer's, and an organiser can edit its fields or swap its background.
"""

import io
import math

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from certificates.models import TemplateKind

PAPER = (0.992, 0.980, 0.953)
GOLD = (0.690, 0.553, 0.235)
PALE_GOLD = (0.925, 0.886, 0.780)
# the accent: navy for courses, deep teal for events
ACCENTS = {TemplateKind.COURSE: (0.122, 0.227, 0.373), TemplateKind.EVENT: (0.114, 0.361, 0.388)}
ACCENT_HEX = {TemplateKind.COURSE: "#1f3a5f", TemplateKind.EVENT: "#1d5c63"}

# where the name line and the seal sit, shared by the drawing and the layout (mm from top)
NAME_LINE_Y = 99.0
SEAL_CENTRE = (148.5, 168.0)


def background_pdf(kind: TemplateKind) -> bytes:
    """A landscape A4 page: paper tone, a double frame with corner ornaments, a faint
    guilloche rosette behind the text, a rule under the name and a seal."""
    width, height = landscape(A4)
    accent = ACCENTS[kind]
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(width, height))
    pdf.setCreator("Tropa")
    pdf.setFillColorRGB(*PAPER)
    pdf.rect(0, 0, width, height, stroke=0, fill=1)

    _rosette(pdf, width / 2, height / 2 + 6 * mm, 78 * mm, PALE_GOLD, petals=48, line=0.35)
    _frame(pdf, width, height, accent)
    for corner in range(4):
        _corner_ornament(pdf, width, height, corner, accent)

    # a short gold rule with a diamond under the heading, and the line the name sits on
    heading_rule_y = height - 64 * mm
    pdf.setStrokeColorRGB(*GOLD)
    pdf.setLineWidth(0.8)
    pdf.line(width / 2 - 45 * mm, heading_rule_y, width / 2 - 4 * mm, heading_rule_y)
    pdf.line(width / 2 + 4 * mm, heading_rule_y, width / 2 + 45 * mm, heading_rule_y)
    _diamond(pdf, width / 2, heading_rule_y, 2.2 * mm, GOLD)
    name_line_y = height - NAME_LINE_Y * mm
    pdf.setLineWidth(0.6)
    pdf.line(45 * mm, name_line_y, width - 45 * mm, name_line_y)

    seal_x, seal_y = SEAL_CENTRE[0] * mm, height - SEAL_CENTRE[1] * mm
    _seal(pdf, seal_x, seal_y, accent)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _frame(pdf: Canvas, width: float, height: float, accent) -> None:
    pdf.setStrokeColorRGB(*accent)
    pdf.setLineWidth(3)
    pdf.rect(9 * mm, 9 * mm, width - 18 * mm, height - 18 * mm)
    pdf.setLineWidth(0.6)
    pdf.rect(11 * mm, 11 * mm, width - 22 * mm, height - 22 * mm)
    pdf.setStrokeColorRGB(*GOLD)
    pdf.setLineWidth(1.2)
    pdf.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)


def _corner_ornament(pdf: Canvas, width: float, height: float, corner: int, accent) -> None:
    """Nested gold arcs and a diamond in the inner frame's corner, mirrored per corner."""
    x = 14 * mm if corner in (0, 3) else width - 14 * mm
    y = 14 * mm if corner in (0, 1) else height - 14 * mm
    sx = 1 if corner in (0, 3) else -1
    sy = 1 if corner in (0, 1) else -1
    pdf.saveState()
    pdf.translate(x, y)
    pdf.scale(sx, sy)
    pdf.setStrokeColorRGB(*GOLD)
    for radius, line in ((9, 1.0), (13, 0.5), (17, 0.35)):
        pdf.setLineWidth(line)
        pdf.arc(-radius * mm, -radius * mm, radius * mm, radius * mm, 0, 90)
    pdf.setLineWidth(0.5)
    pdf.line(17 * mm, 0, 40 * mm, 0)
    pdf.line(0, 17 * mm, 0, 40 * mm)
    pdf.restoreState()
    _diamond(pdf, x + sx * 6 * mm, y + sy * 6 * mm, 2.4 * mm, accent)


def _diamond(pdf: Canvas, x: float, y: float, half: float, colour) -> None:
    path = pdf.beginPath()
    path.moveTo(x, y + half)
    path.lineTo(x + half, y)
    path.lineTo(x, y - half)
    path.lineTo(x - half, y)
    path.close()
    pdf.setFillColorRGB(*colour)
    pdf.drawPath(path, stroke=0, fill=1)


def _rosette(pdf, x: float, y: float, radius: float, colour, petals: int, line: float) -> None:
    """A guilloche-like rosette: ellipses turned around the centre."""
    pdf.saveState()
    pdf.translate(x, y)
    pdf.setStrokeColorRGB(*colour)
    pdf.setLineWidth(line)
    for petal in range(petals):
        pdf.saveState()
        pdf.rotate(petal * 180 / petals)
        pdf.ellipse(-radius, -radius * 0.38, radius, radius * 0.38, stroke=1, fill=0)
        pdf.restoreState()
    pdf.restoreState()


def _seal(pdf: Canvas, x: float, y: float, accent) -> None:
    """A round seal: a scalloped gold edge, rings and a rosette, a star at the centre."""
    outer = 15 * mm
    scallops = 36
    path = pdf.beginPath()
    for step in range(scallops * 2 + 1):
        angle = math.pi * step / scallops
        radius = outer if step % 2 == 0 else outer * 0.93
        point = (x + radius * math.cos(angle), y + radius * math.sin(angle))
        path.moveTo(*point) if step == 0 else path.lineTo(*point)
    path.close()
    pdf.setFillColorRGB(*GOLD)
    pdf.drawPath(path, stroke=0, fill=1)
    pdf.setFillColorRGB(*PAPER)
    pdf.circle(x, y, outer * 0.84, stroke=0, fill=1)
    pdf.setStrokeColorRGB(*accent)
    pdf.setLineWidth(0.8)
    pdf.circle(x, y, outer * 0.78, stroke=1, fill=0)
    pdf.setLineWidth(0.3)
    pdf.circle(x, y, outer * 0.72, stroke=1, fill=0)
    _rosette(pdf, x, y, outer * 0.62, GOLD, petals=18, line=0.3)
    star = pdf.beginPath()
    for point in range(11):
        angle = math.pi / 2 + math.pi * point / 5
        radius = outer * (0.26 if point % 2 == 0 else 0.11)
        coords = (x + radius * math.cos(angle), y + radius * math.sin(angle))
        star.moveTo(*coords) if point == 0 else star.lineTo(*coords)
    star.close()
    pdf.setFillColorRGB(*accent)
    pdf.drawPath(star, stroke=0, fill=1)


def _box(kind: str, x: float, y: float, width: float, height: float) -> dict:
    return {"type": kind, "x": x, "y": y, "width": width, "height": height}


def _field(kind, x, y, width, height, size, font="sans", color="#4a4a4a", align="center"):
    """A text field: the snapshot's value of `kind`, or a free text (_text)."""
    style = {"font": font, "size": size, "align": align, "color": color}
    return {**_box(kind, x, y, width, height), **style}


def _text(text: str, *args, **style) -> dict:
    return {**_field("text", *args, **style), "text": text}


def layout(kind: TemplateKind) -> dict:
    """The shipped layout on a landscape A4 page (297 × 210 mm), for its background."""
    accent = ACCENT_HEX[kind]
    course = kind == TemplateKind.COURSE
    subtitle = "о прохождении обучения" if course else "участника"
    lead_in = "прошёл(а) обучение по курсу" if course else "принял(а) участие в мероприятии"
    return {
        "fields": [
            _field("issuer", 40, 22, 217, 9, 10.5, color="#5b6472"),
            _text("СЕРТИФИКАТ", 40, 32, 217, 18, 40, font="serif-bold", color=accent),
            _text(subtitle, 40, 50, 217, 9, 16, font="serif", color="#8a6d2b"),
            _text("Настоящим подтверждается, что", 40, 70, 217, 7, 11.5),
            _field("holder_name", 30, 80, 237, 18, 30, font="serif-bold", color=accent),
            _text(lead_in, 40, 102, 217, 7, 11.5),
            _field("title", 35, 110, 227, 15, 17, font="serif-bold", color="#2b2b2b"),
            _text("в рамках программы «{programme}»", 40, 126, 217, 7, 11),
            # an event has no programme: its dates and hours move up into that line
            _field("dates", 40, 133 if course else 127, 217, 6, 11),
            _field("hours", 40, 139 if course else 133, 217, 6, 11),
            _text("Дата выдачи: {issued_on}", 24, 160, 95, 6, 9.5, align="left"),
            _text("Сертификат {serial}", 24, 166, 95, 6, 9.5, align="left"),
            _text("Тренеры: {trainers}", 24, 171, 95, 9, 9, align="left"),
            _box("qr", 240, 150, 32, 32),
            _text("Проверка подлинности", 226, 182, 60, 5, 7, color="#5b6472"),
        ]
    }
