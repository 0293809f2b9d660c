"""Enrolment: places, waiting list, promotion, cancellation, organiser moves."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from events.models import Registration, RegistrationStatus
from events.services import seats
from tests.conftest import login, make_user
from webapp import outbox
from webapp.extensions import db
from webapp.types import utcnow

Status = RegistrationStatus


def enrol_people(course, count, prefix="p"):
    people = [make_user(f"{prefix}{n}@example.org") for n in range(count)]
    results = [
        seats.register(course.id, full_name=u.full_name, email=u.email, user_id=u.id)
        for u in people
    ]
    return people, [r.registration for r in results]


def statuses(course):
    return list(
        db.session.scalars(
            select(Registration.status)
            .where(Registration.event_id == course.id)
            .order_by(Registration.queue_number)
        )
    )


def test_places_then_waiting_list_in_order(make_course):
    course = make_course(capacity=3)
    _, registrations = enrol_people(course, 5)
    assert statuses(course) == [Status.CONFIRMED] * 3 + [Status.WAITLISTED] * 2
    positions = seats.waitlist_positions(r.id for r in registrations)
    assert [positions.get(r.id) for r in registrations] == [None, None, None, 1, 2]


def test_registering_twice_returns_the_first_registration(course, users):
    user = users["participant"]
    first = seats.register(course.id, full_name=user.full_name, email=user.email, user_id=user.id)
    again = seats.register(
        course.id, full_name=user.full_name, email=user.email.upper(), user_id=user.id
    )
    assert first.created and not again.created
    assert again.registration.id == first.registration.id
    assert len(statuses(course)) == 1


def test_cancelling_promotes_the_head_of_the_waiting_list(make_course):
    course = make_course(capacity=2)
    _, registrations = enrol_people(course, 4)
    promoted = seats.cancel(registrations[0].id)
    assert [r.id for r in promoted] == [registrations[2].id]
    db.session.expire_all()
    assert db.session.get(Registration, registrations[2].id).status == Status.CONFIRMED
    assert db.session.get(Registration, registrations[3].id).status == Status.WAITLISTED
    assert seats.waitlist_positions([registrations[3].id]) == {registrations[3].id: 1}


def test_promotion_is_told_by_mail(make_course, app):
    course = make_course(capacity=1)
    _, registrations = enrol_people(course, 2)
    mail_dir = app.config["TROPA_MAIL_DIR"]
    from pathlib import Path

    before = set(Path(mail_dir).glob("*.eml")) if Path(mail_dir).exists() else set()
    seats.cancel(registrations[0].id)
    outbox.send_due()
    new = sorted(set(Path(mail_dir).glob("*.eml")) - before)
    # The cancelled person is told, then the promoted one.
    assert len(new) == 2
    assert registrations[0].email in new[0].read_bytes().decode("utf-8", "replace")
    assert registrations[1].email in new[1].read_bytes().decode("utf-8", "replace")


def test_raising_capacity_promotes_and_lowering_keeps_confirmed(make_course):
    course = make_course(capacity=2)
    _, registrations = enrol_people(course, 5)
    promoted = seats.set_capacity(course.id, 4)
    assert [r.id for r in promoted] == [registrations[2].id, registrations[3].id]
    seats.set_capacity(course.id, 1)
    # Nobody already confirmed loses the place; new people wait.
    assert statuses(course).count(Status.CONFIRMED) == 4


def test_cancelled_person_comes_back_at_the_end_of_the_queue(make_course):
    course = make_course(capacity=1)
    people, registrations = enrol_people(course, 3)
    seats.cancel(registrations[1].id)
    again = seats.register(
        course.id, full_name=people[1].full_name, email=people[1].email, user_id=people[1].id
    )
    assert again.created and again.registration.id == registrations[1].id
    assert again.registration.status == Status.WAITLISTED
    assert seats.waitlist_positions([registrations[2].id, registrations[1].id]) == {
        registrations[2].id: 1,
        registrations[1].id: 2,
    }


def test_organiser_cannot_confirm_beyond_capacity(make_course):
    course = make_course(capacity=1)
    _, registrations = enrol_people(course, 2)
    with pytest.raises(seats.RegistrationRefused) as refused:
        seats.change_status(registrations[1].id, Status.CONFIRMED)
    assert refused.value.reason == "no_places"
    seats.change_status(registrations[0].id, Status.WAITLISTED)
    # The freed place goes to the head of the queue, and the moved person goes to the end.
    db.session.expire_all()
    assert db.session.get(Registration, registrations[1].id).status == Status.CONFIRMED
    assert db.session.get(Registration, registrations[0].id).status == Status.WAITLISTED


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"visibility": "draft"}, "not_published"),
        ({"registration_opens_at": utcnow() + timedelta(days=1)}, "not_open_yet"),
        ({"registration_closes_at": utcnow() - timedelta(minutes=1)}, "closed"),
    ],
)
def test_closed_enrolment_is_refused_with_a_reason(make_course, users, fields, reason):
    course = make_course(**fields)
    user = users["participant"]
    with pytest.raises(seats.RegistrationRefused) as refused:
        seats.register(course.id, full_name=user.full_name, email=user.email, user_id=user.id)
    assert refused.value.reason == reason
    assert statuses(course) == []


def test_enrol_and_cancel_through_the_pages(client, users, make_course):
    course = make_course(capacity=1)
    make_user("first@example.org")
    seats.register(course.id, full_name="Первый", email="first@example.org")
    login(client, users["participant"])
    client.get("/lang/en")
    page = client.post(f"/courses/{course.id}/enrol", follow_redirects=True).get_data(True)
    assert "number 1 on the waiting list" in page
    assert "complete your profile" in page
    page = client.get("/my/learning").get_data(True)
    assert course.title in page and "Waiting list: number 1" in page
    page = client.post(f"/courses/{course.id}/cancel", follow_redirects=True).get_data(True)
    assert "Your enrolment is cancelled" in page
    assert statuses(course) == [Status.CONFIRMED, Status.CANCELLED]


def test_enrolment_page_for_closed_course_says_why(client, users, make_course):
    course = make_course(registration_opens_at=utcnow() + timedelta(days=3))
    login(client, users["participant"])
    client.get("/lang/en")
    page = client.get(f"/courses/{course.id}").get_data(True)
    assert "Enrolment opens on" in page
    response = client.post(f"/courses/{course.id}/enrol", follow_redirects=True)
    assert "Registration has not opened yet" in response.get_data(True)


def test_a_waitlisted_course_offers_to_leave_the_list_and_shows_no_next_session(
    client, make_course, users
):
    course = make_course(capacity=1)
    enrol_people(course, 1)
    participant = users["participant"]
    seats.register(
        course.id, full_name=participant.full_name, email=participant.email, user_id=participant.id
    )
    login(client, participant)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "Покинуть лист ожидания" in page and "Отменить запись" not in page
    learning = client.get("/my/learning").get_data(as_text=True)
    assert "Лист ожидания: № 1" in learning
    assert "Следующее занятие" not in learning
