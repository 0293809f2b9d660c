"""Registration for an outreach event through its public form: guests and users, custom
questions, the organisation block, consent, one registration per e-mail, capacity,
waiting list and approval, and the event list and API."""

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from events.models import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from events.services import seats
from tests.conftest import login
from tests.events_support import EVERY_KIND, field_name, make_event, register, secret_from
from webapp import caching, outbox
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType
from webapp.services import inn_error, with_check_digits
from webapp.types import utcnow

Status = RegistrationStatus
GOOD_INN = with_check_digits("532100123")  # 10 digits: an organisation
BAD_INN = GOOD_INN[:-1] + str((int(GOOD_INN[-1]) + 1) % 10)


def registrations(event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .order_by(Registration.queue_number)
        )
    )


def mails(app) -> list[str]:
    """The mails sent so far (no SMTP server in tests: .eml files), recipient and text, in
    order; the outbox sender runs first."""
    with app.app_context():
        outbox.send_due()
    folder = Path(app.config["TROPA_MAIL_DIR"])
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(f"To: {message['To']}\n{message.get_body().get_content()}")
    return found


@pytest.fixture
def english(client):
    client.get("/lang/en")
    return client


# --- the form ------------------------------------------------------------------------------


def test_a_guest_answers_every_kind_of_question_and_gets_a_ticket(app, english):
    client = english
    event = make_event(questions=EVERY_KIND)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    for label, *_ in EVERY_KIND:
        assert label in page
    assert 'href="/privacy"' in page and "Online" not in page  # no online link here
    mails_before = len(mails(app))

    response = register(
        client,
        event,
        organisation_type="sonko",
        organisation_name='АНО "Вместе"',
        inn=f" {GOOD_INN} ",
    )
    assert response.status_code == 302
    secret = secret_from(response)
    assert response.headers["Location"].endswith(f"/t/{secret}#ticket")

    [registration] = registrations(event)
    assert registration.ticket_secret == secret
    assert registration.status == Status.CONFIRMED and registration.user_id is None
    assert registration.full_name == "Петрова Мария Ивановна"
    assert registration.phone == "+7 (921) 123-45-67"
    assert registration.consent_at is not None
    assert registration.consent_policy_version == app.config["TROPA_POLICY_VERSION"]
    assert registration.organisation.inn == GOOD_INN
    assert registration.organisation.type == OrganisationType.SONKO
    answers = {answer.question.kind: answer.value for answer in registration.answers}
    assert answers == {
        QuestionKind.CHOICE: "НКО",
        QuestionKind.MULTIPLE: "Очно\nОнлайн",
        QuestionKind.YESNO: "yes",
        QuestionKind.NUMBER: "2.5",
        QuestionKind.TEXT: "Как найти партнёров?",
    }
    new_mails = mails(app)[mails_before:]
    assert len(new_mails) == 1 and f"/t/{secret}" in new_mails[0]


def test_optional_questions_may_stay_empty(english):
    event = make_event(questions=EVERY_KIND)
    number, text = event.questions[3], event.questions[4]
    response = register(english, event, **{field_name(number): "", field_name(text): ""})
    assert response.status_code == 302
    [registration] = registrations(event)
    assert {answer.question_id for answer in registration.answers} == {
        q.id for q in event.questions[:3]
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"question:0": None}, "Please answer this question."),
        ({"question:1": None}, "Choose at least one."),
        ({"question:2": None}, "Please answer this question."),
        ({"question:0": "Нет такого"}, "Not a valid choice."),
        ({"question:3": "12abc"}, "Give a number, for example 12 or 2.5."),
        ({"question:3": "1e400000"}, "Give a number, for example 12 or 2.5."),
        ({"question:3": "NaN"}, "Give a number, for example 12 or 2.5."),
        ({"consent": None}, "Consent is required to register."),
        ({"email": "not-an-address"}, "Invalid email address."),
        ({"full_name": ""}, "This field is required."),
        ({"full_name": "Я" * 201}, "Field cannot be longer than 200 characters."),
        ({"phone": "call me"}, "Digits, spaces, brackets and dashes only, please."),
        ({"inn": "12345"}, "An INN has 10 digits (organisation) or 12 digits (person)."),
        ({"organisation_type": "sonko", "organisation_name": ""}, "Give the organisation"),
        ({"organisation_type": "nonsense"}, "Not a valid choice."),
    ],
)
def test_bad_input_is_a_form_error_and_registers_nothing(english, change, message):
    event = make_event(questions=EVERY_KIND)
    overrides = {}
    for key, value in change.items():
        if key.startswith("question:"):
            key = field_name(event.questions[int(key.split(":")[1])])
        overrides[key] = value
    response = register(english, event, **overrides)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert registrations(event) == []
    assert db.session.scalar(select(func.count(Organisation.id))) == 0


def test_a_wrong_inn_is_explained_in_the_users_language(client):
    event = make_event()
    for language in ("ru", "en"):
        client.get(f"/lang/{language}")
        with force_locale(language):
            expected = inn_error(BAD_INN)
        response = register(client, event, organisation_type="sonko", inn=BAD_INN)
        assert response.status_code == 200
        assert expected in response.get_data(as_text=True)
    with force_locale("ru"):
        russian = inn_error(BAD_INN)
    with force_locale("en"):
        assert inn_error(BAD_INN) != russian  # the message really is translated
    assert registrations(event) == []


def test_the_organisation_block_is_left_out_when_the_event_does_not_ask(english):
    event = make_event(asks_organisation=False)
    page = english.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'name="inn"' not in page
    response = register(english, event, organisation_type="sonko", inn=BAD_INN)
    assert response.status_code == 302  # the block's fields are ignored, not validated
    assert registrations(event)[0].organisation_id is None


def test_the_organisation_is_found_by_inn_not_duplicated(english):
    event = make_event()
    existing = Organisation(name='АНО "Вместе"', type=OrganisationType.SONKO, inn=GOOD_INN)
    db.session.add(existing)
    db.session.commit()
    register(english, event, organisation_type="sonko", organisation_name="Вместе", inn=GOOD_INN)
    assert registrations(event)[0].organisation_id == existing.id
    assert db.session.scalar(select(func.count(Organisation.id))) == 1


def test_a_signed_in_user_finds_the_form_filled_in_and_the_registration_linked(client, users):
    user = users["participant"]
    user.phone = "+7 (900) 000-00-01"
    user.organisation = Organisation(name="Фонд «Открытые сердца»", type="sonko", inn=GOOD_INN)
    db.session.commit()
    login(client, user)
    event = make_event()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    for value in (user.full_name, user.email, "+7 (900) 000-00-01", GOOD_INN, "Открытые сердца"):
        assert value in page

    response = client.post(
        f"/events/{event.id}",
        data={
            "full_name": user.full_name,
            "email": user.email,
            "phone": user.phone,
            "organisation_type": "sonko",
            "organisation_name": "Фонд «Открытые сердца»",
            "inn": GOOD_INN,
            "consent": "y",
        },
    )
    assert response.status_code == 302
    [registration] = registrations(event)
    assert registration.user_id == user.id
    assert registration.organisation_id == user.organisation_id


# --- once per e-mail -----------------------------------------------------------------------


def test_a_second_try_from_the_same_browser_leads_to_the_same_ticket(english):
    event = make_event()
    first = register(english, event)
    second = register(english, event, email="  MARIA@example.org ", full_name="Мария")
    assert second.status_code == 302
    assert secret_from(second) == secret_from(first)
    page = english.get(second.headers["Location"]).get_data(as_text=True)
    assert "You are already registered for this event" in page
    assert len(registrations(event)) == 1
    assert registrations(event)[0].full_name == "Петрова Мария Ивановна"  # unchanged
    # Back on the event page, this browser sees its ticket instead of the form.
    page = english.get(f"/events/{event.id}").get_data(as_text=True)
    assert f"/t/{secret_from(first)}" in page and 'name="full_name"' not in page


def test_someone_else_typing_a_registered_address_gets_no_ticket_the_owner_gets_a_mail(
    app, app_ctx, english
):
    event = make_event()
    secret = secret_from(register(english, event))
    stranger = app_ctx.test_client()
    stranger.get("/lang/en")
    mails_before = len(mails(app))
    response = register(stranger, event)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}")
    page = stranger.get(response.headers["Location"]).get_data(as_text=True)
    assert "already registered" in page and secret not in page
    [mail] = mails(app)[mails_before:]
    assert "To: maria@example.org" in mail and f"/t/{secret}" in mail
    assert len(registrations(event)) == 1


def test_a_signed_in_user_registering_again_is_led_to_the_ticket(client, users):
    user = users["participant"]
    event = make_event()
    registration = seats.register(
        event.id, full_name=user.full_name, email=user.email, user_id=user.id
    ).registration
    login(client, user)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f"/t/{registration.ticket_secret}" in page and 'name="full_name"' not in page
    response = register(client, event, email="other@example.org")
    assert secret_from(response) == registration.ticket_secret


# --- places, waiting list, approval --------------------------------------------------------


def test_a_full_event_waitlists_and_a_cancellation_promotes_the_first_in_line(app_ctx):
    event = make_event(capacity=1)
    browsers = [app_ctx.test_client() for _ in range(3)]
    secrets = [
        secret_from(register(browser, event, email=f"p{n}@example.org"))
        for n, browser in enumerate(browsers)
    ]
    assert [r.status for r in registrations(event)] == [
        Status.CONFIRMED, Status.WAITLISTED, Status.WAITLISTED,
    ]  # fmt: skip
    browsers[2].get("/lang/en")
    page = browsers[2].get(f"/t/{secrets[2]}").get_data(as_text=True)
    assert "You are number 2 on the waiting list." in page

    first = browsers[0]
    assert first.get(f"/t/{secrets[0]}/cancel").status_code == 200  # the confirmation step
    assert registrations(event)[0].status == Status.CONFIRMED
    response = first.post(f"/t/{secrets[0]}/cancel")
    assert response.status_code == 302
    assert [r.status for r in registrations(event)] == [
        Status.CANCELLED, Status.CONFIRMED, Status.WAITLISTED,
    ]  # fmt: skip
    page = browsers[2].get(f"/t/{secrets[2]}").get_data(as_text=True)
    assert "You are number 1 on the waiting list." in page


def test_with_approval_a_registration_waits_holding_no_place(english):
    event = make_event(capacity=1, requires_approval=True)
    secrets = [secret_from(register(english, event, email=f"p{n}@example.org")) for n in range(3)]
    assert {r.status for r in registrations(event)} == {Status.PENDING}
    assert seats.seat_counts([event.id])[event.id].confirmed == 0
    assert "Awaiting approval" in english.get(f"/t/{secrets[0]}").get_data(as_text=True)

    first, second, third = registrations(event)
    assert seats.approve(second.id).status == Status.CONFIRMED  # any order the organiser likes
    assert seats.approve(first.id).status == Status.WAITLISTED  # the place is taken
    assert "Confirmed" in english.get(f"/t/{secrets[1]}").get_data(as_text=True)
    seats.cancel(second.id)  # the freed place goes to the waiting list, never to the pending
    assert {r.id: r.status for r in registrations(event)} == {
        first.id: Status.CONFIRMED, second.id: Status.CANCELLED, third.id: Status.PENDING,
    }  # fmt: skip
    with pytest.raises(seats.RegistrationRefused):
        seats.approve(second.id)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cancelled_at": utcnow()}, "The event is cancelled: registration is closed."),
        ({"registration_closes_at": utcnow() - timedelta(hours=1)}, "Registration is closed."),
        ({"registration_opens_at": utcnow() + timedelta(days=1)}, "Registration opens on"),
        ({"starts_in": -timedelta(days=3)}, "The event is over."),
    ],
)
def test_a_closed_event_shows_why_instead_of_the_form(english, fields, message):
    event = make_event(**fields)
    page = english.get(f"/events/{event.id}").get_data(as_text=True)
    assert message in page and 'name="full_name"' not in page
    response = register(english, event)
    assert response.status_code == 200
    assert registrations(event) == []


def test_a_draft_is_hidden_from_the_public_and_a_course_is_not_an_event(client, users, make_course):
    draft = make_event(visibility="draft")
    course = make_course()
    assert client.get(f"/events/{draft.id}").status_code == 404
    assert client.get(f"/events/{course.id}").status_code == 404
    assert client.get("/events/999999").status_code == 404
    login(client, users["organiser"])
    client.get("/lang/en")
    page = client.get(f"/events/{draft.id}").get_data(as_text=True)
    assert "Draft: only organisers see this page." in page
    assert "Registration is not open: the event is not published yet." in page


# --- the list and the API ------------------------------------------------------------------


def test_the_list_shows_upcoming_and_past_events_not_drafts_or_courses(english, make_course):
    soon = make_event("Скоро", starts_in=timedelta(days=2), capacity=10)
    make_event("Позже", starts_in=timedelta(days=20))
    make_event("Было", starts_in=-timedelta(days=30))
    make_event("Черновик", visibility="draft")
    make_course(title="Курс, не событие")
    seats.register(soon.id, full_name="А", email="a@example.org")

    upcoming = english.get("/events/").get_data(as_text=True)
    assert upcoming.index("Скоро") < upcoming.index("Позже")
    assert "Было" not in upcoming and "Черновик" not in upcoming and "Курс" not in upcoming
    assert "Places left: 9 of 10" in upcoming
    assert "Конгресс-центр" in upcoming
    old = english.get("/events/?when=past").get_data(as_text=True)
    assert "Было" in old and "Скоро" not in old
    home = english.get("/").get_data(as_text=True)
    assert "Скоро" in home and "Было" not in home


def test_the_list_pages_by_twelve(english, app):
    for number in range(app.config["PAGE_SIZE"] + 3):
        make_event(f"Событие {number:02d}", starts_in=timedelta(days=number + 1))
    first = english.get("/events/").get_data(as_text=True)
    second = english.get("/events/?page=2").get_data(as_text=True)
    assert "Событие 00" in first and "Событие 12" not in first
    assert "Событие 12" in second and "Событие 00" not in second


def _make_events(count: int) -> None:
    for number in range(count):
        event = make_event(f"Событие {number}", capacity=5, sessions=2)
        seats.register(event.id, full_name="Гость", email=f"g{number}@example.org")


@pytest.mark.parametrize("url", ["/events/", "/api/v1/events", "/"])
def test_list_queries_do_not_grow_with_the_number_of_events(english, count_queries, url):
    _make_events(5)
    english.get(url)
    caching.clear_all()  # the list's page is built again, not the one kept a few seconds
    with count_queries() as few:
        assert english.get(url).status_code == 200
    _make_events(25)
    caching.clear_all()
    with count_queries() as many:
        assert english.get(url).status_code == 200
    assert many.count == few.count, many.statements


def test_the_api_gives_counts_checked_in_and_sessions(client, users):
    event = make_event(capacity=2, sessions=2)
    make_event("Черновик", visibility="draft")
    people = [
        seats.register(event.id, full_name=f"Гость {n}", email=f"g{n}@example.org").registration
        for n in range(3)
    ]
    first, second = event.sessions
    marks = [
        (people[0], first, AttendanceStatus.PRESENT),
        (people[0], second, AttendanceStatus.LATE),  # one person at two sessions counts once
        (people[1], first, AttendanceStatus.ABSENT),  # not checked in
    ]
    for registration, session, status in marks:
        db.session.add(
            Attendance(
                registration=registration,
                session=session,
                status=status,
                method=AttendanceMethod.DOOR,
            )
        )
    db.session.commit()

    body = client.get("/api/v1/events").json
    assert body["total"] == 1
    [item] = body["events"]
    assert item["id"] == event.id and item["title"] == "Форум НКО"
    assert item["url"].endswith(f"/events/{event.id}")
    assert item["starts_at"] == first.starts_at.isoformat()
    assert item["capacity"] == 2 and item["confirmed"] == 2 and item["waitlisted"] == 1
    assert item["places_left"] == 0 and item["registration_open"] is True
    assert item["checked_in"] == 1
    assert "sessions" not in item
    assert "g0@example.org" not in client.get("/api/v1/events").get_data(as_text=True)

    single = client.get(f"/api/v1/events/{event.id}").json
    assert single["checked_in"] == 1
    assert [s["id"] for s in single["sessions"]] == [first.id, second.id]
    assert single["sessions"][1]["ends_at"] == second.ends_at.isoformat()


def test_the_api_refuses_unknown_drafts_courses_and_bad_filters_in_json(client, make_course):
    draft = make_event(visibility="draft")
    course = make_course()
    for url in (f"/api/v1/events/{draft.id}", f"/api/v1/events/{course.id}", "/api/v1/events/0"):
        response = client.get(url)
        assert response.status_code == 404 and response.json["reason"] == "not_found"
    response = client.get("/api/v1/events?when=tomorrow")
    assert response.status_code == 400 and response.json["status"] == "error"
    past = make_event(starts_in=-timedelta(days=5))
    assert [e["id"] for e in client.get("/api/v1/events?when=past").json["events"]] == [past.id]
    assert client.get("/api/v1/events?when=all").json["total"] == 1


def test_deleting_an_account_erases_phone_and_free_text_answers(app_ctx, users):
    """Regression: anonymisation kept the phone and free-text answers of registrations."""
    from webapp.services import delete_account

    event = make_event(questions=EVERY_KIND)
    by_kind = {q.kind: q for q in event.questions}
    user = users["participant"]
    registration = seats.register(
        event.id,
        full_name=user.full_name,
        email=user.email,
        user_id=user.id,
        phone="+7 912 000-00-00",
        answers={by_kind["text"].id: "Меня зовут Анна", by_kind["choice"].id: "НКО"},
    ).registration
    delete_account(user)
    db.session.expire_all()
    registration = db.session.get(Registration, registration.id)
    answers = {a.question.kind: a.value for a in registration.answers}
    assert registration.phone is None and "Анна" not in registration.full_name
    assert answers == {"text": "", "choice": "НКО"}
