"""Name badges: A4 sheets of 2 × 4 badges (90 × 65 mm, cut along the grey lines), each with
the person's name, organisation and the ticket's QR code (the door scanner reads it), for
the confirmed people of an event in alphabetical order."""

import io

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from events.models import Event, Registration
from events.services.door_list import confirmed_alphabetically
from events.services.tickets import BOLD, REGULAR, draw_qr, register_fonts, ticket_url

COLUMNS, ROWS = 2, 4
WIDTH, HEIGHT = 90 * mm, 65 * mm
PADDING = 5 * mm
QR_SIZE = 28 * mm
NAME_SIZES = (17, 15, 13, 11)
ORGANISATION_LINES = 4  # a long name shrinks before it wraps onto a third line


def badges_pdf(event: Event) -> bytes:
    register_fonts()
    people = confirmed_alphabetically(event)
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4)
    pdf.setTitle(_("Badges: %(title)s", title=event.title))
    pdf.setAuthor(_("Tropa"))
    left = (A4[0] - COLUMNS * WIDTH) / 2
    top = A4[1] - (A4[1] - ROWS * HEIGHT) / 2
    per_page = COLUMNS * ROWS
    for index, registration in enumerate(people):
        if index and index % per_page == 0:
            pdf.showPage()
        place = index % per_page
        x = left + (place % COLUMNS) * WIDTH
        y = top - (place // COLUMNS + 1) * HEIGHT
        _badge(pdf, event, registration, x, y)
    if not people:
        pdf.setFont(REGULAR, 12)
        pdf.drawString(20 * mm, A4[1] - 30 * mm, _("Nobody is confirmed yet."))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _badge(pdf: Canvas, event: Event, registration: Registration, x: float, y: float) -> None:
    pdf.setStrokeColor(colors.lightgrey)
    pdf.setLineWidth(0.5)
    pdf.rect(x, y, WIDTH, HEIGHT, stroke=1, fill=0)
    text_width = WIDTH - 2 * PADDING
    cursor = y + HEIGHT - PADDING
    pdf.setFillColor(colors.HexColor("#2f5d50"))
    title = simpleSplit(event.title, REGULAR, 8, text_width)[:1]
    for line in title:
        cursor -= 8
        pdf.setFont(REGULAR, 8)
        pdf.drawString(x + PADDING, cursor, line)
    pdf.setFillColor(colors.black)
    cursor -= 3 * mm
    size, lines = _fitted(registration.full_name, text_width)
    for line in lines:
        cursor -= size * 1.15
        pdf.setFont(BOLD, size)
        pdf.drawString(x + PADDING, cursor, line)
    organisation = registration.organisation.name if registration.organisation else ""
    beside_qr = WIDTH - 2 * PADDING - QR_SIZE - 2 * mm
    cursor -= 2 * mm
    lines = simpleSplit(organisation, REGULAR, 9, beside_qr)
    if len(lines) > ORGANISATION_LINES:  # the rest of a long name is cut, visibly
        lines = [*lines[: ORGANISATION_LINES - 1], lines[ORGANISATION_LINES - 1] + "…"]
    for line in lines:
        cursor -= 11
        pdf.setFont(REGULAR, 9)
        pdf.drawString(x + PADDING, cursor, line)
    draw_qr(
        pdf,
        ticket_url(registration.ticket_secret),
        x + WIDTH - PADDING - QR_SIZE + 2 * mm,  # the code's own quiet zone is margin enough
        y + PADDING - 2 * mm,
        QR_SIZE,
    )


def _fitted(name: str, width: float) -> tuple[float, list[str]]:
    for size in NAME_SIZES:
        lines = simpleSplit(name, BOLD, size, width)
        if len(lines) <= 2:
            return size, lines
    return NAME_SIZES[-1], simpleSplit(name, BOLD, NAME_SIZES[-1], width)[:3]
