"""The printable door list: the confirmed people of an event, alphabetical, with a box to
tick at the door, on A4 pages (for a door without a phone or a network)."""

import io

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from events.models import Event, Registration, RegistrationStatus
from events.services.tickets import BOLD, REGULAR, a4_document, register_fonts
from webapp.extensions import db
from webapp.filters import local_date, local_datetime
from webapp.models import search_key
from webapp.types import utcnow

Status = RegistrationStatus
BOX = "☐"  # DejaVu has it: an empty box to tick with a pen


def confirmed_alphabetically(event: Event) -> list[Registration]:
    """The event's confirmed registrations with their organisations, in one query, sorted
    by name as people read it (any case, ё as е)."""
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
        )
        .options(joinedload(Registration.organisation))
    ).all()
    return sorted(registrations, key=lambda r: (search_key(r.full_name), r.id))


def door_list_pdf(event: Event) -> bytes:
    register_fonts()
    people = confirmed_alphabetically(event)
    cell = ParagraphStyle("cell", fontName=REGULAR, fontSize=10, leading=12)
    title = ParagraphStyle("title", fontName=BOLD, fontSize=15, leading=18, spaceAfter=2 * mm)
    note = ParagraphStyle("note", fontName=REGULAR, fontSize=9, leading=11, spaceAfter=4 * mm)
    starts = event.sessions[0].starts_at if event.sessions else None
    heading = [
        Paragraph(_("Door list: %(title)s", title=_escape(event.title)), title),
        Paragraph(
            " · ".join(
                filter(
                    None,
                    [
                        local_date(starts, event.tz) if starts else "",
                        _("Confirmed: %(n)s", n=len(people)),
                        _("printed %(when)s", when=local_datetime(utcnow(), event.tz)),
                    ],
                )
            ),
            note,
        ),
    ]
    rows = [[BOX, "№", _("Full name"), _("Organisation")]]
    for number, registration in enumerate(people, 1):
        organisation = registration.organisation.name if registration.organisation else ""
        rows.append(
            [
                BOX,
                str(number),
                Paragraph(_escape(registration.full_name), cell),
                Paragraph(_escape(organisation), cell),
            ]
        )
    table = Table(rows, colWidths=[9 * mm, 11 * mm, 75 * mm, 80 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 10),
                ("FONT", (0, 0), (-1, 0), BOLD, 10),
                ("FONTSIZE", (0, 1), (0, -1), 14),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9efed")),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    buffer = io.BytesIO()
    document = a4_document(buffer, _("Door list: %(title)s", title=event.title))
    document.build([*heading, table], onLaterPages=_page_number, onFirstPage=_page_number)
    return buffer.getvalue()


def _page_number(canvas, document) -> None:
    canvas.setFont(REGULAR, 8)
    canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, str(document.page))


def _escape(text: str) -> str:
    """Paragraph text is a little markup language: names must not be read as tags."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
