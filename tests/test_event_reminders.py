"""Reminders per event day: an outreach event's agenda items of one day share the day's two
reminders (the day before and an hour before its first item); a course keeps one pair per
session (tests/test_mail_messages.py)."""

from datetime import datetime, timedelta

from sqlalchemy import select

from events.models import Session
from events.services import editing, notifications, seats
from tests.events_support import make_event
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus
from webapp.types import utcnow

REMINDER = "events/mail/reminder"


def queued_reminders() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == REMINDER, OutboxMessage.status == OutboxStatus.QUEUED)
            .order_by(OutboxMessage.recipient, OutboxMessage.due_at)
        )
    )


def one_day_forum(items: int = 4):
    """A forum of `items` agenda items on one day, 10:00, 11:30, 13:00... in Moscow."""
    event = make_event(sessions=0)
    day = (utcnow() + timedelta(days=10)).date()
    first = datetime(day.year, day.month, day.day, 10, 0, tzinfo=event.tz)
    for number in range(items):
        starts = first + timedelta(minutes=90 * number)
        event.sessions.append(Session(starts_at=starts, ends_at=starts + timedelta(hours=1)))
    db.session.commit()
    return event


def register(event, number: int):
    return seats.register(event.id, full_name=f"Гость {number}", email=f"g{number}@example.org")


def test_a_one_day_forum_of_four_items_sends_two_reminders_per_person(app_ctx):
    event = one_day_forum(4)
    register(event, 1)
    register(event, 2)

    queued = queued_reminders()
    first = event.sessions[0]
    assert len(queued) == 4, "2 people × (the day before, an hour before)"
    assert {row.session_id for row in queued} == {first.id}
    assert [row.due_at for row in queued[:2]] == [
        first.starts_at - timedelta(hours=24),
        first.starts_at - timedelta(hours=1),
    ]


def test_each_day_of_a_two_day_event_has_its_pair_and_they_follow_the_agenda(app_ctx):
    event = one_day_forum(2)
    day_two = [
        Session(starts_at=s.starts_at + timedelta(days=1), ends_at=s.ends_at + timedelta(days=1))
        for s in event.sessions
    ]
    event.sessions.extend(day_two)
    db.session.commit()
    register(event, 1)
    assert len(queued_reminders()) == 4

    # The day's first item moves after the second: the second now opens the day.
    opening, second = event.sessions[0], event.sessions[1]
    editing.save_session(
        event,
        opening,
        opening.starts_at + timedelta(hours=5),
        opening.ends_at + timedelta(hours=5),
        opening.room or "",
    )
    queued = queued_reminders()
    assert len(queued) == 4
    assert second.id in {row.session_id for row in queued}
    assert opening.id not in {row.session_id for row in queued}

    # Day two is cancelled item by item: only day one's pair is left.
    for session in day_two:
        editing.set_session_cancelled(session, True)
    assert [row.session_id for row in queued_reminders()] == [second.id, second.id]

    # The day's opening item is deleted: the next one opens the day.
    editing.delete_session(event, second)
    assert {row.session_id for row in queued_reminders()} == {opening.id}


def test_a_course_keeps_a_pair_of_reminders_per_session(app_ctx, make_course):
    from courses import services as course_services
    from tests.conftest import make_user
    from webapp.models import Role

    course = make_course(sessions=3)
    course_services.enrol(course, make_user("anna@example.org", Role.PARTICIPANT))
    notifications.send_due_mail()  # the worker's round: the ticket brings its reminders
    assert len(queued_reminders()) == 6
