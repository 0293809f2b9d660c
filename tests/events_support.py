"""Outreach events, their registration form and QR decoding, for the events tests."""

import io
import re
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import zxingcpp
from PIL import Image, ImageDraw

from events.models import Event, Question, QuestionKind, Session, Visibility
from webapp.extensions import db
from webapp.services import search_key
from webapp.types import utcnow

# One question of each kind: (label, kind, required, options).
EVERY_KIND = [
    ("Какая секция вам интересна?", QuestionKind.CHOICE, True, "НКО\nБизнес\nВласть"),
    ("Какие форматы удобны?", QuestionKind.MULTIPLE, True, "Очно\nОнлайн\nВ записи"),
    ("Нужна ли парковка?", QuestionKind.YESNO, True, ""),
    ("Сколько человек придёт?", QuestionKind.NUMBER, False, ""),
    ("Ваш вопрос спикерам", QuestionKind.TEXT, False, ""),
]


def make_event(
    title="Форум НКО",
    *,
    capacity=100,
    sessions=1,
    starts_in=timedelta(days=7),
    questions=(),
    **fields,
) -> Event:
    """A published outreach event with one or more two-hour sessions a day apart."""
    event = Event(
        title=title,
        description=fields.pop("description", "Встреча **НКО** региона."),
        capacity=capacity,
        visibility=fields.pop("visibility", Visibility.PUBLISHED),
        timezone=fields.pop("timezone", "Europe/Moscow"),
        venue=fields.pop("venue", "Конгресс-центр"),
        address=fields.pop("address", "ул. Великая, 16"),
        search_text=search_key(title),
        **fields,
    )
    first = utcnow().replace(second=0, microsecond=0) + starts_in
    for number in range(sessions):
        begins = first + timedelta(days=number)
        event.sessions.append(
            Session(starts_at=begins, ends_at=begins + timedelta(hours=2), room=f"Зал {number + 1}")
        )
    for position, (label, kind, required, options) in enumerate(questions):
        event.questions.append(
            Question(position=position, label=label, kind=kind, required=required, options=options)
        )
    db.session.add(event)
    db.session.commit()
    return event


def field_name(question: Question) -> str:
    return f"question_{question.id}"


def form_data(event: Event, **overrides) -> dict:
    """A complete, valid registration form for the event; keyword arguments replace fields
    (None removes one)."""
    data = {
        "full_name": "Петрова Мария Ивановна",
        "email": "maria@example.org",
        "phone": "+7 (921) 123-45-67",
        "consent": "y",
    }
    answers = {
        QuestionKind.CHOICE: lambda q: q.choices[0],
        QuestionKind.MULTIPLE: lambda q: q.choices[:2],
        QuestionKind.YESNO: lambda q: "yes",
        QuestionKind.NUMBER: lambda q: "2,5",
        QuestionKind.TEXT: lambda q: "Как найти партнёров?",
    }
    for question in event.questions:
        data[field_name(question)] = answers[question.kind](question)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def register(client, event: Event, **overrides):
    return client.post(f"/events/{event.id}", data=form_data(event, **overrides))


def secret_from(response) -> str:
    """The ticket secret of a redirect to /t/<secret>."""
    match = re.search(r"/t/([0-9a-z]+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


# --- reading QR codes back ------------------------------------------------------------------


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def decode_png(data: bytes) -> list[str]:
    return decode(Image.open(io.BytesIO(data)))


_SQUARE = re.compile(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z")


def svg_to_image(svg: str, scale: int = 10) -> Image.Image:
    """Paint the module squares of qrcode's SVG path (M x,y H x2 V y2 H x z) on white."""
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    image = Image.new("L", (round(width * scale),) * 2, 255)
    draw = ImageDraw.Draw(image)
    squares = _SQUARE.findall(svg)
    assert squares, "no module squares found in the SVG path"
    for x1, y1, x2, y2 in squares:
        box = [float(x1) * scale, float(y1) * scale, float(x2) * scale - 1, float(y2) * scale - 1]
        draw.rectangle(box, fill=0)
    return image


def pdf_page_images(pdf: bytes, dpi: int = 150) -> list[Image.Image]:
    """The PDF's pages rendered by poppler's pdftoppm."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "ticket.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(source), str(Path(folder) / "page")],
            check=True,
            timeout=60,
        )
        return [Image.open(page).copy() for page in sorted(Path(folder).glob("page*.png"))]
