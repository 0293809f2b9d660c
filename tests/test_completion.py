"""The completion service: a course's rules checked for a participant, with the reasons
missing, the same one by one and for a whole course in constant queries."""

from datetime import timedelta

import pytest
from flask_babel import force_locale

from courses.models import AnswerStatus, CompletionRule, CourseCompletion, MaterialKind
from courses.services import completion
from courses.services import materials as learning
from events.models import Attendance, AttendanceMethod, AttendanceStatus
from tests.certificates_support import writes_seen
from tests.conftest import make_user
from tests.materials_support import add_material, add_module, enrol, sign_in
from webapp.extensions import db
from webapp.types import utcnow


@pytest.fixture
def held(make_course, users):
    """A course of four sessions, all held, with a page, a checklist and a task."""
    course = make_course(sessions=4)
    for number, session in enumerate(course.sessions):
        session.starts_at = utcnow() - timedelta(days=30 - 7 * number)
        session.ends_at = session.starts_at + timedelta(hours=2)
    course.trainers.append(users["trainer"])
    module = add_module(course)
    add_material(module, title="Введение")
    add_material(module, title="Чек-лист", completion=CompletionRule.MARKED_DONE)
    add_material(module, MaterialKind.TASK, title="Задание 2")
    add_material(module, title="Дополнительно", required=False)
    course.min_attendance_rate = 75
    course.requires_materials = True
    course.requires_tasks = True
    db.session.commit()
    return course


def attend(registration, course, statuses) -> None:
    for session, status in zip(course.sessions, statuses, strict=False):
        db.session.add(
            Attendance(
                registration_id=registration.id,
                session_id=session.id,
                status=status,
                method=AttendanceMethod.MANUAL,
            )
        )
    db.session.commit()


def material(course, title):
    return next(
        m for module in learning.modules_of(course) for m in module.materials if m.title == title
    )


P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)


def test_the_reasons_missing_are_spelled_out(held, users):
    registration = enrol(held, users["participant"])
    attend(registration, held, [P, L, E, A])  # excused and absent do not count: 2 of 4
    with force_locale("en"):
        state = completion.completion_state(registration)
    assert not state.complete
    assert state.attendance_rate == 50
    assert state.summary == (
        "attendance 50% of 75% required; not complete: «Введение», «Чек-лист»; "
        "tasks not accepted: «Задание 2»"
    )
    assert state.completed_at is None


def test_complete_once_every_rule_is_met_and_the_date_is_kept(held, users):
    registration = enrol(held, users["participant"])
    attend(registration, held, [P, P, L, A])
    learning.record_view(registration, material(held, "Введение"))
    learning.mark_done(registration, material(held, "Чек-лист"))
    answer = learning.submit_answer(registration, material(held, "Задание 2"), "Ответ")
    assert not completion.completion_state(registration).complete
    learning.review_answer(answer, users["trainer"], AnswerStatus.ACCEPTED, "")
    state = completion.completion_state(registration)
    assert state.complete and state.reasons == [] and state.attendance_rate == 75
    first_date = state.completed_at
    assert first_date is not None
    assert db.session.get(CourseCompletion, registration.id).completed_at == first_date
    assert completion.completion_state(registration).completed_at == first_date


def test_the_trainers_sign_off(held, users, client):
    held.min_attendance_rate = None
    held.requires_materials = held.requires_tasks = False
    held.requires_signoff = True
    db.session.commit()
    registration = enrol(held, users["participant"])
    with force_locale("en"):
        assert completion.completion_state(registration).summary == "no trainer's sign-off"
    sign_in(client, users["trainer"])
    client.post(f"/manage/registrations/{registration.id}/sign-off")
    assert completion.completion_state(registration).complete


def test_no_sessions_held_yet(make_course, users):
    course = make_course()
    course.min_attendance_rate = 50
    db.session.commit()
    registration = enrol(course, users["participant"])
    with force_locale("en"):
        assert completion.completion_state(registration).summary == "no sessions have been held yet"


def test_a_course_without_rules_is_complete(make_course, users):
    registration = enrol(make_course(), users["participant"])
    assert completion.completion_state(registration).complete


def test_the_participant_and_the_trainer_see_the_same_reasons(client, held, users):
    registration = enrol(held, users["participant"])
    attend(registration, held, [P, A, A, A])
    sign_in(client, users["participant"])
    mine = client.get(f"/courses/{held.id}/materials").get_data(as_text=True)
    sign_in(client, users["trainer"])
    grid = client.get(f"/manage/courses/{held.id}/progress").get_data(as_text=True)
    summary = completion.completion_state(registration).summary
    assert summary.split(";")[0] in mine and summary.split(";")[0] in grid


def test_the_batch_runs_a_constant_number_of_queries(held, count_queries):
    def add(count, start):
        for number in range(start, start + count):
            registration = enrol(held, make_user(f"b{number}@example.org"))
            attend(registration, held, [P, P, L, A])
            learning.record_view(registration, material(held, "Введение"))

    add(3, 0)
    with count_queries() as few:
        completion.completion_states(held)
    add(12, 3)
    with count_queries() as many:
        states = completion.completion_states(held)
    assert len(states) == 15
    assert few.count == many.count


def test_organisers_set_the_rules(client, held, users):
    sign_in(client, users["organiser"])
    client.post(
        f"/manage/courses/{held.id}/completion-rules",
        data={"min_attendance_rate": "60", "requires_signoff": "y"},
    )
    db.session.refresh(held)
    assert held.min_attendance_rate == 60 and held.requires_signoff
    assert not held.requires_materials
    response = client.post(
        f"/manage/courses/{held.id}/completion-rules", data={"min_attendance_rate": "150"}
    )
    assert response.status_code == 302
    db.session.refresh(held)
    assert held.min_attendance_rate == 60


def test_pages_show_a_completion_reached_without_writing_it(client, held, users):
    """Reading never writes: the participant's and the trainer's pages show a completion
    reached just now (attendance came in directly) and record nothing; the worker does."""
    registration = enrol(held, users["participant"])
    attend(registration, held, [P, P, L, P])
    learning.record_view(registration, material(held, "Введение"))
    learning.mark_done(registration, material(held, "Чек-лист"))
    answer = learning.submit_answer(registration, material(held, "Задание 2"), "Ответ")
    answer.status = AnswerStatus.ACCEPTED  # accepted behind the services' back
    db.session.commit()
    sign_in(client, users["participant"])
    with writes_seen() as writes:
        assert client.get(f"/courses/{held.id}/materials").status_code == 200
    sign_in(client, users["trainer"])
    with writes_seen() as more:
        assert client.get(f"/manage/courses/{held.id}/progress").status_code == 200
        assert client.get(f"/manage/courses/{held.id}/progress.csv").status_code == 200
    assert writes == more == []
    assert db.session.get(CourseCompletion, registration.id) is None
    assert completion.completion_state(registration).complete

    completion._next_time_check.clear()  # this process looked a moment ago in another test
    assert completion.record_completions_by_time() == 1  # the worker's round
    assert db.session.get(CourseCompletion, registration.id).completed_at is not None
    assert completion.record_completions_by_time() == 0  # and not again for a few minutes
