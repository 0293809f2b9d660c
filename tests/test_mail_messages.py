"""The mail of a registration's life, delivered through a real SMTP server on loopback and
read with the `email` package: the confirmation (HTML and text, the QR code and the .ics
attached), the waiting list with its position, promotion, cancellation, and the reminders
that follow a session when it moves or is cancelled."""

from datetime import timedelta

import pytest
import vobject
from sqlalchemy import select

from courses import services as course_services
from events.models import AttendanceMethod, RegistrationStatus
from events.services import editing, notifications, seats
from tests.conftest import make_user
from tests.events_support import make_event
from tests.mail_support import CollectingHandler, smtp_server, use_smtp
from webapp import outbox
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus, Role

REMINDER = "events/mail/reminder"


@pytest.fixture
def mailbox(app, app_ctx, monkeypatch):
    """Received messages; `deliver()` runs the sender and returns what arrived since."""
    handler = CollectingHandler()
    with smtp_server(handler) as server:
        use_smtp(app, monkeypatch, server.port)

        def deliver(now=None):
            seen = len(handler.messages)
            outbox.send_due(now=now)
            return handler.messages[seen:]

        yield deliver


def reminders(**about) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(
        OutboxMessage.template == REMINDER, OutboxMessage.status == OutboxStatus.QUEUED
    )
    for name, value in about.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(db.session.scalars(query.order_by(OutboxMessage.due_at)))


def test_the_enrolment_confirmation_has_both_parts_the_qr_code_and_the_calendar(
    mailbox, make_course
):
    course = make_course(title="Аудит социального проекта", sessions=2)
    anna = make_user("anna@example.org", Role.PARTICIPANT, name="Анна Смирнова")

    course_services.enrol(course, anna)
    [message] = mailbox()

    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "Ваш билет: Аудит социального проекта"
    assert "=?utf-8?" in message.as_string().lower()  # the Cyrillic subject, encoded
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    registration = course_services.my_registration(course, anna)
    ticket = f"http://tropa.test/t/{registration.ticket_secret}"
    assert "Анна Смирнова" in text and ticket in text
    assert f'href="{ticket}"' in html
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {"ticket.png", "event.ics"}
    assert attachments["ticket.png"].get_content()[:4] == b"\x89PNG"
    calendar = vobject.readOne(attachments["event.ics"].get_content())
    assert {entry.uid.value for entry in calendar.vevent_list} == {
        f"session-{session.id}@tropa.test" for session in course.sessions
    }


def test_mail_is_in_the_recipients_language(mailbox, make_course):
    course = make_course(title="Аудит")
    john = make_user("john@example.org", Role.PARTICIPANT, name="John")
    john.locale = "en"
    db.session.commit()

    course_services.enrol(course, john)
    [message] = mailbox()

    assert message["Subject"] == "Your ticket: Аудит"
    assert "You are registered for «Аудит»." in message.get_body(("plain",)).get_content()


def english_user(address: str, name: str):
    """New strings are checked in English: the Russian catalogue is the translators' own."""
    user = make_user(address, Role.PARTICIPANT, name=name)
    user.locale = "en"
    db.session.commit()
    return user


def register(event, user):
    return seats.register(
        event.id,
        full_name=user.full_name,
        email=user.email,
        user_id=user.id,
        mail_ticket=True,
    ).registration


def test_waiting_list_promotion_and_cancellation_are_each_told_once(mailbox, app_ctx):
    event = make_event(title="Форум", capacity=1)
    first = register(event, english_user("first@example.org", "First"))
    second = register(event, english_user("second@example.org", "Second"))
    assert second.status == RegistrationStatus.WAITLISTED

    confirmed, waitlisted = mailbox()
    assert confirmed["To"] == "first@example.org"
    text = waitlisted.get_body(("plain",)).get_content()
    assert "you are on the waiting list" in text
    assert "Your place in the queue: 1." in text
    assert not list(waitlisted.iter_attachments())  # no ticket to show yet

    seats.cancel(first.id)
    messages = mailbox()
    assert [(m["To"], m["Subject"]) for m in messages] == [
        ("first@example.org", "Registration cancelled: Форум"),
        ("second@example.org", "A place is yours: Форум"),
    ]
    assert mailbox() == []  # never twice


def test_reminders_are_queued_before_each_session_and_follow_it(mailbox, make_course):
    course = make_course(sessions=2)
    course_services.enrol(course, english_user("anna@example.org", "Anna"))
    mailbox()  # the confirmation

    first, second = course.sessions
    queued = reminders(session_id=first.id)
    assert [row.due_at for row in queued] == [
        first.starts_at - timedelta(hours=24),
        first.starts_at - timedelta(hours=1),
    ]
    assert len(reminders(session_id=second.id)) == 2

    # The session moves: its reminders move with it, and say the new time.
    day = timedelta(days=1)
    editing.save_session(course, first, first.starts_at + day, first.ends_at + day, "")
    moved = reminders(session_id=first.id)
    assert [row.due_at for row in moved] == [
        first.starts_at - timedelta(hours=24),
        first.starts_at - timedelta(hours=1),
    ]

    # The other session is cancelled: its reminders are dropped.
    editing.set_session_cancelled(second, True)
    assert reminders(session_id=second.id) == []

    # Sent when due, each once.
    arrived = mailbox(now=first.starts_at - timedelta(minutes=30))
    assert len(arrived) == 2
    assert all(m["Subject"].startswith("Reminder: ") for m in arrived)
    assert "http://tropa.test/t/" in arrived[0].get_body(("html",)).get_content()
    assert mailbox(now=first.starts_at) == []


def test_a_cancelled_registration_drops_its_reminders(mailbox, make_course):
    course = make_course(sessions=2)
    anna = make_user("anna@example.org", Role.PARTICIPANT, name="Анна")
    registration = course_services.enrol(course, anna).registration
    notifications.send_due_mail()  # the worker's round: the ticket brings its reminders
    assert len(reminders(registration_id=registration.id)) == 4

    seats.cancel(registration.id)

    assert reminders(registration_id=registration.id) == []


def test_an_organiser_writes_to_the_checked_in_registrants_with_a_preview(client, mailbox, app_ctx):
    from events.services import checkin
    from tests.conftest import login

    organiser = make_user("org@example.org", Role.ORGANISER, name="Организатор")
    event = make_event(title="Форум", capacity=2)
    people = [
        register(event, english_user(f"p{number}@example.org", f"Person {number}"))
        for number in range(3)
    ]
    mailbox()  # the tickets
    session = event.sessions[0]
    answer = checkin.check_in(
        event_id=event.id,
        registration_id=people[0].id,
        session_id=session.id,
        by_user=organiser,
        method=AttendanceMethod.MANUAL,
        now=session.starts_at,
    )
    assert "reason" not in answer, answer
    login(client, organiser)
    client.get("/lang/en")
    url = f"/manage/events/{event.id}/message"
    form = {
        "status": "confirmed",
        "checked_in": "no",
        "subject": "Парковка",
        "body": "Вход с Парковой.",
    }

    preview = client.post(url, data={**form, "preview": "y"}).get_data(as_text=True)
    assert "It goes to 1 people." in preview
    assert "Вход с Парковой." in preview
    assert mailbox() == []  # a preview sends nothing

    response = client.post(url, data={**form, "send": "y"})
    assert response.status_code == 302
    [message] = mailbox()
    assert message["To"] == "p1@example.org"
    assert message["Subject"] == "Форум: Парковка"
    assert "Вход с Парковой." in message.get_body(("plain",)).get_content()
    assert "Вход с Парковой." in message.get_body(("html",)).get_content()

    everyone = {**form, "status": "", "checked_in": "", "send": "y"}
    client.post(url, data=everyone)
    assert sorted(m["To"] for m in mailbox()) == [f"p{n}@example.org" for n in range(3)]


def test_people_added_by_an_import_get_their_ticket_and_reminders_from_the_worker(mailbox):
    """The import renders no mail under its lock; the worker sends each imported person their
    ticket once, confirmed with the QR code, waitlisted with their place, and schedules the
    confirmed ones' reminders."""
    from events.services.registrant_import import import_registrants
    from tests.test_registrants import HEADER, csv_bytes, people_rows

    event = make_event(capacity=2, sessions=2, starts_in=timedelta(days=3))
    report = import_registrants(event.id, csv_bytes([HEADER, *people_rows(3)]))
    assert report.registered == 3
    assert not reminders(), "nothing is rendered inside the import"

    arrived = mailbox()
    assert sorted(message["To"] for message in arrived) == [
        "u0@example.org",
        "u1@example.org",
        "u2@example.org",
    ]
    by_address = {message["To"]: message for message in arrived}
    confirmed = {part.get_filename() for part in by_address["u0@example.org"].iter_attachments()}
    assert confirmed == {"ticket.png", "event.ics"}
    assert "1" in by_address["u2@example.org"].get_body(("plain",)).get_content()
    # two sessions × two reminders for each of the two confirmed people, none for the third
    assert len(reminders()) == 8
    assert {m.recipient for m in reminders()} == {"u0@example.org", "u1@example.org"}
    assert mailbox() == [], "a second round sends nothing again"
    assert notifications.send_due_mail() == 0
