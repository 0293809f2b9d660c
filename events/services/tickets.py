"""Tickets: finding one by its secret and its QR code (SVG, PNG, inside a one-page PDF);
its calendar is events.services.calendars.ticket_calendar.

The QR code holds the ticket's URL, webapp.urls.absolute_url("/t/<secret>"): short, it opens the
ticket on any phone, and the door scanner takes the secret from it
(events.services.checkin.secret_from_scan).
"""

import io
from functools import cache
from pathlib import Path

import qrcode
from flask_babel import gettext as _
from qrcode.image.svg import SvgPathFillImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate
from sqlalchemy import select
from sqlalchemy.orm import joinedload

import webapp
from events.models import Event, Registration, RegistrationStatus
from events.services import seats
from webapp.extensions import db
from webapp.filters import local_datetime, local_time, timezone_note
from webapp.services import SECRET_ALPHABET
from webapp.types import utcnow
from webapp.urls import absolute_url

FONTS_DIR = Path(webapp.__file__).resolve().parent / "static" / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
# random_secret() gives 26 characters; a little room either way costs nothing.
SECRET_LENGTHS = range(20, 41)


def ticket_url(secret: str) -> str:
    return absolute_url(f"/t/{secret}")


def find_ticket(secret: str) -> Registration | None:
    """The registration with this secret, its event and sessions loaded; None for an
    unknown or malformed one (never a database error)."""
    secret = (secret or "").strip().lower()
    if len(secret) not in SECRET_LENGTHS or not set(secret) <= set(SECRET_ALPHABET):
        return None
    return db.session.scalar(
        select(Registration)
        .where(Registration.ticket_secret == secret)
        .options(joinedload(Registration.event).selectinload(Event.sessions))
    )


def waitlist_position(registration: Registration) -> int | None:
    return seats.waitlist_positions([registration.id]).get(registration.id)


def may_cancel(registration: Registration) -> bool:
    """A person may cancel their own registration until the event is over."""
    if registration.status == RegistrationStatus.CANCELLED:
        return False
    ends = [session.ends_at for session in registration.event.sessions]
    return not ends or max(ends) > utcnow()


# --- QR code -------------------------------------------------------------------------------


def _qr(text: str) -> qrcode.QRCode:
    # Level M survives a crease or a scratched phone screen and keeps a URL's code small.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_svg(text: str) -> str:
    """The code as one SVG path on white: vector, sharp at any size, inline in a page."""
    return _qr(text).make_image(image_factory=SvgPathFillImage).to_string(encoding="unicode")


def qr_png(text: str, box_size: int = 10) -> bytes:
    code = _qr(text)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


# --- PDF ticket ----------------------------------------------------------------------------


@cache
def register_fonts() -> None:
    """DejaVu, bundled with the app: the PDF's Cyrillic must not depend on the machine's
    fonts. Registered once per process."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))


def a4_document(buffer, title: str) -> SimpleDocTemplate:
    """An A4 document of flowing pages with 15 mm margins (door lists, roadmaps)."""
    margin = 15 * mm
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=_("Tropa"),
    )


def session_line(session, tz) -> str:
    """'27 November 2026, 10:00–13:00' in the event's zone and the reader's language."""
    starts, ends = session.starts_at, session.ends_at
    if starts.astimezone(tz).date() == ends.astimezone(tz).date():
        return f"{local_datetime(starts, tz)}–{local_time(ends, tz)}"
    return f"{local_datetime(starts, tz)} – {local_datetime(ends, tz)}"


def status_text(registration: Registration, position: int | None) -> str:
    if registration.status == RegistrationStatus.WAITLISTED and position:
        return _("Waiting list, number %(n)d", n=position)
    return registration.status.label


def ticket_pdf(registration: Registration) -> bytes:
    """One A4 page to print: the event, its dates, the person, the status, a big vector QR
    code and the ticket's address."""
    register_fonts()
    event = registration.event
    url = ticket_url(registration.ticket_secret)
    buffer = io.BytesIO()
    page_width, page_height = A4
    margin = 20 * mm
    width = page_width - 2 * margin
    pdf = Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"{_('Ticket')}: {event.title}")
    pdf.setAuthor(_("Tropa"))

    y = page_height - margin

    def write(text: str, size: float, font: str = REGULAR, gap: float = 1.35) -> None:
        nonlocal y
        for line in simpleSplit(text, font, size, width):
            y -= size * gap
            pdf.setFont(font, size)
            pdf.drawString(margin, y, line)

    write(_("Ticket"), 12)
    write(event.title, 22, BOLD)
    y -= 4 * mm
    if event.cancelled_at:
        write(_("The event is cancelled."), 14, BOLD)
    for session in event.sessions:
        write(session_line(session, event.tz) + (f" · {session.room}" if session.room else ""), 12)
    write(timezone_note(event.timezone), 9)
    for place in (event.venue, event.address):
        if place:
            write(place, 12)
    if event.online_url and registration.status == RegistrationStatus.CONFIRMED:
        write(_("Online: %(url)s", url=event.online_url), 11)
    y -= 6 * mm
    write(registration.full_name, 18, BOLD)
    write(status_text(registration, waitlist_position(registration)), 14)

    qr_size = min(110 * mm, y - margin - 20 * mm)
    draw_qr(pdf, url, (page_width - qr_size) / 2, y - 6 * mm - qr_size, qr_size)
    y -= 6 * mm + qr_size
    pdf.setFont(REGULAR, 10)
    pdf.drawCentredString(page_width / 2, y - 5 * mm, url)
    pdf.drawCentredString(
        page_width / 2, y - 11 * mm, _("Show this code at the entrance, printed or on a phone.")
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def draw_qr(pdf: Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR code as one filled vector path, its quiet zone included in `size`.

    One path, not a square per module: a viewer draws no hairline seams between modules.
    """
    matrix = _qr(text).get_matrix()  # with the border: True is a dark module
    module = size / len(matrix)
    top = y + size
    path = pdf.beginPath()
    for row_number, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            run_end = column  # one rectangle for a run of dark modules: a smaller file
            while run_end < len(row) and row[run_end]:
                run_end += 1
            bottom = top - (row_number + 1) * module
            path.rect(x + column * module, bottom, (run_end - column) * module, module)
            column = run_end
    pdf.setFillColorRGB(0, 0, 0)
    pdf.drawPath(path, stroke=0, fill=1)
