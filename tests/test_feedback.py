"""Feedback: invitations after the session or event, answers by the personal link, anonymous
forms that keep no link, results and their exports."""

from sqlalchemy import func, inspect, select, text

from courses import services as course_services
from events.models import AttendanceStatus, Event, Session
from events.services import seats
from feedback import results, services
from feedback.models import FeedbackAnswer, FeedbackInvitation, FeedbackResponse
from tests.conftest import login
from tests.outcomes_support import end_sessions, invite_now, make_form, mark
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.outbox import parts
from webapp.types import utcnow


def guests(event, count: int, status=AttendanceStatus.PRESENT, prefix="guest"):
    """`count` guests registered for the event and marked at its first session."""
    registrations = []
    for number in range(count):
        registration = seats.register(
            event.id, full_name=f"Гость {number}", email=f"{prefix}{number}@example.org"
        ).registration
        mark(registration, event.sessions[0], status)
        registrations.append(registration)
    return registrations


def forum(sessions=1) -> Event:
    from datetime import timedelta

    event = Event(kind="event", title="Форум «Вместе»", capacity=50, visibility="published")
    start = utcnow() + timedelta(days=1)
    for number in range(sessions):
        begins = start + timedelta(days=number)
        event.sessions.append(Session(starts_at=begins, ends_at=begins + timedelta(hours=3)))
    db.session.add(event)
    db.session.commit()
    return event


def invitations(form_id=None) -> list[FeedbackInvitation]:
    query = select(FeedbackInvitation).order_by(FeedbackInvitation.id)
    if form_id:
        query = query.where(FeedbackInvitation.form_id == form_id)
    return list(db.session.scalars(query))


def test_attendees_are_invited_once_after_the_event_ends(users, english_messages):
    event = forum(sessions=2)
    present, late = guests(event, 2)
    db.session.execute(text("UPDATE attendance SET status = 'late' WHERE registration_id = :r"),
                       {"r": late.id})  # fmt: skip
    db.session.commit()
    (absent,) = guests(forum(), 1)  # another event's guest
    (excused,) = guests(event, 1, AttendanceStatus.EXCUSED, prefix="excused")
    form = make_form(event, users["organiser"], template="event_nps")
    assert services.invite_attendees() == 0  # the event has not ended
    end_sessions(event)
    assert services.invite_attendees() == 2
    assert services.invite_attendees() == 0  # once per form and person
    sent = invitations(form.id)
    assert {i.registration_id for i in sent} == {present.id, late.id}
    assert absent.id not in {i.registration_id for i in sent}
    assert excused.id not in {i.registration_id for i in sent}
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template.like("feedback/%"))
    ).all()  # noqa: E501
    assert len(mails) == 2
    body = "".join(parts(m.content)["plain"] for m in mails)
    for invitation in sent:
        assert f"/f/{invitation.token}" in body
        assert len(invitation.token) >= 26  # 130 bits


def test_a_session_form_waits_for_its_session_and_an_inactive_form_for_nobody(users, course):
    registration = course_services.enrol(course, users["participant"]).registration
    first, second = course.sessions[0], course.sessions[1]
    mark(registration, first)
    draft = make_form(course, users["organiser"], active=False, session_id=first.id)
    form = make_form(course, users["organiser"], session_id=first.id)
    later = make_form(course, users["organiser"], session_id=second.id)
    assert services.invite_attendees() == 0
    first.starts_at, first.ends_at = utcnow().replace(year=2025), utcnow().replace(year=2025)
    db.session.commit()
    assert services.invite_attendees() == 1
    assert [i.form_id for i in invitations()] == [form.id]
    assert draft.id != form.id != later.id


def test_an_invited_person_answers_and_changes_the_answers(client, users, english_messages):
    event = forum()
    (registration,) = guests(event, 1)
    form = make_form(event, users["organiser"], template="session_satisfaction")
    token = invite_now(form, registration)
    rating, useful, clear, pace, improve = form.questions
    page = client.get(f"/f/{token}")
    assert page.status_code == 200
    assert rating.label in page.get_data(as_text=True)
    answer = {f"q{rating.id}": "5", f"q{useful.id}": "4", f"q{clear.id}": "3",
              f"q{pace.id}": "right", f"q{improve.id}": "Больше практики"}  # fmt: skip
    assert client.post(f"/f/{token}", data=answer).status_code == 302
    answer[f"q{rating.id}"] = "2"
    assert client.post(f"/f/{token}", data=answer).status_code == 302
    (response,) = db.session.scalars(select(FeedbackResponse)).all()
    assert response.invitation_id is not None  # a named form: the person edits their answer
    marks = {a.question_id: a.number for a in response.answers}
    assert marks[rating.id] == 2
    assert db.session.scalar(select(func.count()).select_from(FeedbackAnswer)) == 5
    again = client.get(f"/f/{token}").get_data(as_text=True)
    assert 'value="2" autocomplete="off" checked' in again
    outcome = results.results(form)
    assert (outcome.invited, outcome.answered, outcome.response_rate) == (1, 1, 1.0)
    assert outcome.questions[0].average == 2
    assert outcome.questions[4].texts == ["Больше практики"]


def test_bad_answers_are_refused_with_a_message(client, users, english):
    event = forum()
    (registration,) = guests(event, 1)
    form = make_form(event, users["organiser"], template="event_nps")
    token = invite_now(form, registration)
    nps_question = form.questions[0]
    for value in ("11", "x", ""):
        page = client.post(f"/f/{token}", data={f"q{nps_question.id}": value})
        assert page.status_code == 400
        assert "Choose a mark on the scale" in page.get_data(as_text=True) or value == ""
    assert client.get("/f/not-a-token").status_code == 404
    assert client.get("/f/" + "a" * 26).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(FeedbackResponse)) == 0


def test_an_anonymous_form_stores_no_link_between_person_and_answer(client, users):
    event = forum()
    people = guests(event, 3)
    form = make_form(event, users["organiser"], template="event_nps", anonymous=True)
    tokens = [invite_now(form, person) for person in people]
    recommend, overall, liked = form.questions
    for number, token in enumerate(tokens[:2]):
        data = {f"q{recommend.id}": str(8 + number), f"q{overall.id}": "5", f"q{liked.id}": "Всё"}
        assert client.post(f"/f/{token}", data=data).status_code == 302
    # a second answer by the same link is refused: nothing ties the first one to it
    again = client.post(f"/f/{tokens[0]}", data={f"q{recommend.id}": "0", f"q{overall.id}": "1"})
    assert again.status_code == 200
    rows = db.session.execute(text("SELECT * FROM feedback_responses")).mappings().all()
    assert len(rows) == 2
    assert all(row["invitation_id"] is None for row in rows)
    # no column of the answers' tables points at an invitation, a registration or a person
    for table in ("feedback_responses", "feedback_answers"):
        foreign = {fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys(table)}
        assert foreign <= {"feedback_forms", "feedback_invitations", "feedback_responses",
                           "feedback_questions"}  # fmt: skip
    # the invitation says only "responded", with no time to match against
    columns = {c["name"] for c in inspect(db.engine).get_columns("feedback_invitations")}
    assert not {"responded_at", "response_id", "answered_at"} & columns
    assert [i.responded for i in invitations(form.id)] == [True, True, False]
    outcome = results.results(form)
    assert outcome.response_rate == 2 / 3
    assert outcome.questions[0].nps == 50  # one 9 (promoter), one 8 (passive)
    header, export = results.export_rows(form)
    assert "E-mail" not in header and len(export) == 2


def test_the_link_shows_on_the_ticket_and_in_my_learning(client, users, course):
    registration = course_services.enrol(course, users["participant"]).registration
    form = make_form(course, users["organiser"], title="Итоги курса", template="course_end")
    token = invite_now(form, registration)
    ticket = client.get(f"/t/{registration.ticket_secret}").get_data(as_text=True)
    assert f"/f/{token}" in ticket
    login(client, users["participant"])
    learning = client.get("/my/learning").get_data(as_text=True)
    assert f"/f/{token}" in learning and "Итоги курса" in learning


def test_results_cost_the_same_queries_however_many_answers(client, users, count_queries):
    event = forum()
    people = guests(event, 12)
    form = make_form(event, users["organiser"], template="course_end")
    login(client, users["organiser"])

    def answer(person):
        token = invite_now(form, person)
        satisfied, recommend, helped, parts, changed = form.questions
        services.submit_answers(token, {satisfied.id: ["4"], recommend.id: ["10"],
                                        helped.id: ["yes"], parts.id: ["practice", "materials"],
                                        changed.id: ["Нашли партнёров"]})  # fmt: skip

    answer(people[0])
    with count_queries() as few:
        assert client.get(f"/feedback/{form.id}/results").status_code == 200
    for person in people[1:]:
        answer(person)
    with count_queries() as many:
        page = client.get(f"/feedback/{form.id}/results")
    assert many.count == few.count
    html = page.get_data(as_text=True)
    assert 'id="response-rate"' in html and "chart-" in html
    csv = client.get(f"/feedback/{form.id}/results.csv").get_data(as_text=True)
    assert csv.count("Нашли партнёров") == 12
    assert client.get(f"/feedback/{form.id}/results.xlsx").status_code == 200
    assert client.get("/feedback/").status_code == 200


def test_organisers_build_a_form_from_the_library_and_add_questions(client, users, english):
    event = forum()
    login(client, users["organiser"])
    page = client.post(
        f"/manage/events/{event.id}/feedback",
        data={"template": "session_satisfaction", "title": "Оценка", "session_id": ""},
    )
    assert page.status_code == 302
    (form,) = services.forms_of_event(event.id)
    assert len(form.questions) == 5
    added = client.post(
        f"/manage/feedback/{form.id}",
        data={"what": "question", "q-label": "Любимый спикер?", "q-kind": "choice",
              "q-options": "Анна"},
    )  # fmt: skip
    assert added.status_code == 400
    assert "at least two choices" in added.get_data(as_text=True)
    client.post(
        f"/manage/feedback/{form.id}",
        data={"what": "question", "q-label": "Любимый спикер?", "q-kind": "choice",
              "q-options": "Анна\nОлег"},
    )  # fmt: skip
    db.session.expire_all()
    assert [q.label for q in services.forms_of_event(event.id)[0].questions][
        -1
    ] == "Любимый спикер?"
    client.post(f"/manage/feedback/{form.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert services.forms_of_event(event.id)[0].active


def test_guessing_answer_links_is_rate_limited(make_app):
    limited = make_app({"RATELIMIT_ENABLED": True, "TROPA_FEEDBACK_RATE_LIMIT": "3 per minute"})
    client = limited.test_client()
    answers = [client.get("/f/" + "a" * 26).status_code for _ in range(5)]
    assert answers == [404, 404, 404, 429, 429]


def test_a_persons_named_answers_are_in_their_data_and_their_text_goes_with_them(
    client, users, course
):
    from webapp.services import delete_account, export_personal_data

    registration = course_services.enrol(course, users["participant"]).registration
    form = make_form(course, users["organiser"], template="course_end")
    token = invite_now(form, registration)
    satisfied, recommend, helped, _parts, changed = form.questions
    services.submit_answers(token, {satisfied.id: ["5"], recommend.id: ["9"], helped.id: ["yes"],
                                    changed.id: ["Я, Анна, нашла работу"]})  # fmt: skip
    exported = export_personal_data(users["participant"])["feedback"]
    assert {"form": form.title, "question": changed.label}.items() <= exported[-1].items()
    delete_account(users["participant"])
    values = db.session.scalars(select(FeedbackAnswer.value)).all()
    assert "Я, Анна, нашла работу" not in values and "5" in values
