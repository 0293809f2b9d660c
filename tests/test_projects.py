"""Projects and trajectories: registering a project, its steps, roadmap and consultations,
who may do what, level decisions, the auto-ticked step, the exports and the board."""

import io
from datetime import timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from courses.models import Programme
from courses.services import completion
from projects import services
from projects.models import (
    LevelDecision,
    Milestone,
    MilestoneStatus,
    ProgrammeStep,
    Project,
)
from projects.services import board, editing, mentoring, roadmap, steps
from tests.conftest import make_user
from tests.materials_support import enrol, sign_in
from tests.projects_support import (
    INNS,
    add_overdue_milestone,
    give_organisation,
    make_project,
    organisation,
)
from webapp.extensions import db
from webapp.models import Role
from webapp.services import export_personal_data


@pytest.fixture
def programme(course):
    return course.programme


@pytest.fixture
def project(users, programme):
    give_organisation(users["participant"])
    return make_project(users["participant"], programme)


def shown(text: str, message: str) -> bool:
    """The message is on the page (as Jinja escapes it)."""
    return str(escape(message)) in text


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- registering a project --------------------------------------------------------------------


def test_a_participant_registers_a_project_with_a_team_and_the_default_steps(
    client, users, programme
):
    lead = give_organisation(users["participant"])
    colleague = make_user("colleague@example.org", name="Пётр Коллегин")
    sign_in(client, users["participant"])
    response = client.post(
        "/projects/new",
        data={
            "title": "Семейная гостиная",
            "programme_id": programme.id,
            "direction": "parents_children",
            "municipality": "Боровичский район",
            "target_group": "Молодые семьи",
            "description": "Встречи родителей по субботам.",
            "started_on": "2026-09-01",
            "member_emails": "Colleague@Example.org",
        },
    )
    assert response.status_code == 302
    project = db.session.scalars(select(Project)).one()
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.organisation_id == lead.id and project.level == 1
    assert {(m.user_id, m.role) for m in project.members} == {
        (users["participant"].id, "leader"),
        (colleague.id, "member"),
    }
    titles = {level: [s.title for s in project.steps if s.level == level] for level in (1, 2, 3)}
    assert titles[1] == [gettext("Audit done"), gettext("Individual trajectory described"),
                         gettext("First training complete")]  # fmt: skip
    assert len(titles[2]) == 4 and len(titles[3]) == 3
    text = page_text(client.get(f"/projects/{project.id}"))
    assert "Семейная гостиная" in text and "Пётр Коллегин" in text

    # The colleague edits it too.
    sign_in(client, colleague)
    assert client.get(f"/projects/{project.id}/edit").status_code == 200


def test_the_programmes_own_steps_are_copied_and_then_the_projects_own(users, programme, course):
    db.session.add_all(
        [
            ProgrammeStep(programme_id=programme.id, level=1, position=0, title="Аудит"),
            ProgrammeStep(
                programme_id=programme.id, level=1, position=1, title="Курс", course_id=course.id
            ),
        ]
    )
    db.session.commit()
    give_organisation(users["participant"])
    project = make_project(users["participant"], programme)
    assert [(s.title, s.course_id) for s in project.steps] == [("Аудит", None), ("Курс", course.id)]
    steps.save_step(project.steps[0], "Аудит проведён", None)
    assert steps.programme_steps(programme.id)[0].title == "Аудит"  # the programme's stays


def test_a_joint_project_needs_a_partner_found_by_inn_or_exact_name(client, users, programme):
    give_organisation(users["participant"])
    partner = organisation("Фонд «Открытые сердца»", inn=INNS[0])
    other = organisation("Клуб «Волхов»")
    sign_in(client, users["participant"])
    form = {
        "title": "Совместный проект",
        "programme_id": programme.id,
        "direction": "other",
        "started_on": "2026-09-01",
        "is_joint": "y",
    }
    text = page_text(client.post("/projects/new", data=form))
    assert shown(text, gettext("A joint project needs at least one partner organisation."))
    text = page_text(client.post("/projects/new", data={**form, "partners": "Нет такой"}))
    message = "No organisation «%(name)s»: give its INN or its exact name."
    assert shown(text, gettext(message, name="Нет такой"))
    no_partner_needed = {**form, "is_joint": "", "member_emails": "x@y.org"}
    text = page_text(client.post("/projects/new", data=no_partner_needed))
    message = "No account with the e-mail %(emails)s: the team members sign up first."
    assert shown(text, gettext(message, emails="x@y.org"))
    assert db.session.scalar(select(func.count(Project.id))) == 0

    partners = f"{INNS[0]}\nКлуб «Волхов»"
    assert client.post("/projects/new", data={**form, "partners": partners}).status_code == 302
    project = db.session.scalars(select(Project)).one()
    assert project.is_joint and {o.id for o in project.partners} == {partner.id, other.id}


def test_another_team_cannot_see_or_change_the_project(client, users, project):
    stranger = make_user("stranger@example.org")
    other_trainer = make_user("trainer2@example.org", Role.TRAINER)
    step, pid = project.steps[0], project.id
    for user in (stranger, other_trainer):
        sign_in(client, user)
        for url in (f"/projects/{pid}", f"/projects/{pid}/edit", f"/projects/{pid}/roadmap.pdf",
                    f"/projects/{pid}/roadmap.xlsx", f"/projects/{pid}/milestones/new",
                    f"/projects/{pid}/consultations/new"):  # fmt: skip
            assert client.get(url).status_code == 403, f"{url} as {user.email}"
        response = client.post(f"/projects/{pid}/steps/{step.id}", data={"action": "done"})
        assert response.status_code == 403
        response = client.post(f"/projects/{pid}/edit", data={"title": "Чужой"})
        assert response.status_code == 403
    db.session.refresh(step)
    assert step.done_at is None and project.title == "Семейная гостиная"
    sign_in(client, stranger)
    assert "Семейная гостиная" not in page_text(client.get("/my/projects"))


def test_a_persons_data_download_lists_their_projects(users, project):
    data = export_personal_data(users["participant"])
    assert data["projects"] == [{"title": "Семейная гостиная", "role": "leader"}]


def test_the_mentor_ticks_steps_and_logs_consultations_but_does_not_edit(client, users, project):
    mentoring.set_mentor(project, users["trainer"].id)
    step, pid = project.steps[0], project.id
    sign_in(client, users["trainer"])
    assert "Семейная гостиная" in page_text(client.get("/my/projects"))
    client.post(f"/projects/{pid}/steps/{step.id}", data={"action": "done"})
    db.session.refresh(step)
    assert step.done_at is not None and step.done_by_id == users["trainer"].id
    response = client.post(
        f"/projects/{pid}/consultations/new",
        data={
            "held_on": services.today().isoformat(),
            "expert_id": users["trainer"].id,
            "topic": "Аудит идеи",
            "level": 1,
            "next_steps": "Описать траекторию",
        },
    )
    assert response.status_code == 302
    assert [c.topic for c in project.consultations] == ["Аудит идеи"]
    assert client.get(f"/projects/{pid}/edit").status_code == 403
    assert (
        client.post(f"/projects/{pid}/steps/{step.id}", data={"action": "delete"}).status_code
        == 403
    )
    assert client.get(f"/projects/{pid}/level").status_code == 403


def test_the_team_edits_its_steps(client, users, project):
    pid = project.id
    sign_in(client, users["participant"])
    client.post(f"/projects/{pid}/steps", data={"level": 2, "title": "Опрос получателей"})
    added = [s for s in project.steps if s.title == "Опрос получателей"]
    assert added and added[0].level == 2 and added[0].position == 4
    client.post(
        f"/projects/{pid}/steps/{added[0].id}", data={"action": "save", "title": "Опрос семей"}
    )
    db.session.refresh(added[0])
    assert added[0].title == "Опрос семей"
    client.post(f"/projects/{pid}/steps/{added[0].id}", data={"action": "done"})
    client.post(f"/projects/{pid}/steps/{added[0].id}", data={"action": "undone"})
    db.session.refresh(added[0])
    assert added[0].done_at is None
    client.post(f"/projects/{pid}/steps/{added[0].id}", data={"action": "delete"})
    db.session.expire_all()
    assert all(s.title != "Опрос семей" for s in db.session.get(Project, pid).steps)


# --- roadmap ------------------------------------------------------------------------------------


def test_a_milestone_due_before_the_project_started_is_refused(client, users, project):
    sign_in(client, users["participant"])
    before = project.started_on - timedelta(days=1)
    form = {
        "title": "Паспорт проекта",
        "level": 1,
        "due_on": before.isoformat(),
        "status": "planned",
    }
    text = page_text(client.post(f"/projects/{project.id}/milestones/new", data=form))
    message = "The due date is before the project started (%(day)s)."
    assert shown(text, gettext(message, day=services.day(project.started_on)))
    assert db.session.scalar(select(func.count(Milestone.id))) == 0

    form["due_on"] = project.started_on.isoformat()
    assert client.post(f"/projects/{project.id}/milestones/new", data=form).status_code == 302
    # Nor can the project's start move after a milestone it already has.
    with pytest.raises(services.ProjectError):
        editing.update_project(
            project,
            editing.ProjectData(
                title=project.title,
                programme_id=project.programme_id,
                direction=project.direction,
                started_on=project.started_on + timedelta(days=1),
            ),
        )


def test_overdue_means_past_due_and_not_done_or_cancelled(client, users, project):
    late = add_overdue_milestone(project)
    done = add_overdue_milestone(project, "Сделано")
    roadmap.save_milestone(
        project,
        done,
        roadmap.MilestoneData(title="Сделано", level=1, due_on=done.due_on, status="done"),
    )
    assert done.done_on == services.today() and done.status == MilestoneStatus.DONE
    assert services.is_overdue(late) and not services.is_overdue(done)
    assert steps.trajectory(project)[0].overdue == 1
    sign_in(client, users["participant"])
    text = page_text(client.get(f"/projects/{project.id}"))
    assert text.count("milestone-overdue") == 1


# --- levels ----------------------------------------------------------------------------------


def test_a_skip_is_refused_without_the_organisers_confirmation(client, users, project):
    sign_in(client, users["organiser"])
    url = f"/projects/{project.id}/level"
    text = page_text(client.post(url, data={"to_level": 3, "comment": "Готовы"}))
    message = (
        "Level %(to)d skips level %(between)d. Confirm the skip to record it as the "
        "organisers' decision."
    )
    assert shown(text, gettext(message, to=3, between=2))
    page_text(client.post(url, data={"to_level": 2, "comment": " "}))  # a comment is required
    db.session.refresh(project)
    assert project.level == 1 and not project.level_decisions

    response = client.post(
        url, data={"to_level": 3, "comment": "Сильная команда", "confirm_skip": "y"}
    )
    assert response.status_code == 302
    db.session.refresh(project)
    decision = project.level_decisions[-1]
    assert project.level == 3
    assert (decision.from_level, decision.to_level, decision.skipped) == (1, 3, True)
    assert decision.decided_by_id == users["organiser"].id and decision.comment == "Сильная команда"

    # One level back with a comment.
    assert (
        client.post(url, data={"to_level": 2, "comment": "Доработать прототип"}).status_code == 302
    )
    db.session.refresh(project)
    assert project.level == 2 and not project.level_decisions[-1].skipped


def test_participants_cannot_change_the_level(client, users, project):
    sign_in(client, users["participant"])
    url = f"/projects/{project.id}/level"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"to_level": 2, "comment": "Сами"}).status_code == 403
    assert db.session.scalar(select(func.count(LevelDecision.id))) == 0


# --- a course completed ticks its step ---------------------------------------------------------


def test_completing_a_steps_course_ticks_it_for_members_only(users, project, course):
    step = project.steps[2]
    steps.save_step(step, step.title, course.id)
    course.requires_signoff = True
    db.session.commit()
    outsider = make_user("outsider@example.org")
    outsiders = enrol(course, outsider)
    completion.sign_off(outsiders, users["trainer"])
    assert completion.completion_state(outsiders).complete
    db.session.refresh(step)
    assert step.done_at is None  # not a member of the project

    registration = enrol(course, users["participant"])
    assert not completion.completion_state(registration).complete
    completion.sign_off(registration, users["trainer"])
    assert completion.completion_state(registration).complete
    db.session.refresh(step)
    assert step.done_at is not None and step.done_by_id == users["participant"].id


# --- exports -------------------------------------------------------------------------------------


def test_the_roadmap_exports_as_xlsx_and_pdf(client, users, project):
    add_overdue_milestone(project)
    steps.set_step_done(project.steps[0], users["participant"], True)
    mentoring.add_consultation(
        project,
        mentoring.ConsultationData(
            held_on=services.today(), topic="Аудит идеи", level=1, expert_id=users["trainer"].id
        ),
    )
    sign_in(client, users["participant"])
    # The documents are in the reader's language (Russian here, as in the test's gettext).
    response = client.get(f"/projects/{project.id}/roadmap.xlsx")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheets = [gettext(name) for name in ("Project", "Trajectory", "Roadmap", "Consultations")]
    assert workbook.sheetnames == sheets
    summary = {row[0]: row[1] for row in workbook[sheets[0]].iter_rows(values_only=True)}
    assert summary[gettext("Project")] == "Семейная гостиная"
    step_rows = list(workbook[sheets[1]].iter_rows(values_only=True))
    assert step_rows[0][:4] == tuple(gettext(h) for h in ("Level", "Step", "Course", "State"))
    assert step_rows[1][:2] == (1, gettext("Audit done")) and step_rows[1][3] == gettext("done")
    assert step_rows[2][3] == gettext("to do") and len(step_rows) == 1 + len(project.steps)
    roadmap_rows = list(workbook[sheets[2]].iter_rows(values_only=True))
    assert roadmap_rows[1][1] == "Паспорт проекта" and roadmap_rows[1][-1] == gettext("overdue")
    consultations = list(workbook[sheets[3]].iter_rows(values_only=True))
    assert consultations[1][2:4] == ("Олег Трейнеров", "Аудит идеи")

    response = client.get(f"/projects/{project.id}/roadmap.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for expected in ("Семейная гостиная", gettext("Roadmap and technology map"),
                     "Паспорт проекта", "Аудит идеи", gettext("Audit done")):  # fmt: skip
        assert expected in text, expected


# --- the board ---------------------------------------------------------------------------------


def add_projects(programme, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        leader = make_user(f"leader{number}@example.org")
        give_organisation(leader, f"Организация {number}")
        project = make_project(leader, programme, title=f"Проект {number:03d}")
        add_overdue_milestone(project)
        project.level = 1 + number % 3
    db.session.commit()


def test_the_board_runs_a_constant_number_of_queries(client, users, programme, count_queries):
    sign_in(client, users["organiser"])
    add_projects(programme, 3)
    with count_queries() as few:
        page_text(client.get("/projects/board"))
    add_projects(programme, 30, start=3)
    with count_queries() as many:
        text = page_text(client.get("/projects/board"))
    assert many.count == few.count, many.statements
    assert text.count('class="card project-card') == 33  # 11 a level, under the cap
    assert "Проект 032" in text and "Организация 32" in text


def test_the_board_caps_columns_and_filters(client, users, programme):
    sign_in(client, users["organiser"])
    add_projects(programme, 63)
    text = page_text(client.get("/projects/board"))
    assert text.count('class="card project-card') == 3 * board.BOARD_COLUMN_LIMIT
    assert "/projects/board?level=1" in text
    everything = page_text(client.get("/projects/board?level=1"))
    assert everything.count('class="card project-card') == 21
    other = db.session.scalars(select(Project).where(Project.title == "Проект 000")).one()
    other.municipality = "Шимский район"
    second = Programme(title="Школа НКО")
    db.session.add(second)
    db.session.flush()
    db.session.scalars(
        select(Project).where(Project.title == "Проект 001")
    ).one().programme = second
    db.session.commit()
    text = page_text(client.get("/projects/board?municipality=Шимский район"))
    assert text.count('class="card project-card') == 1 and "Проект 000" in text
    text = page_text(client.get(f"/projects/board?programme={second.id}"))
    assert text.count('class="card project-card') == 1 and "Проект 001" in text
    assert page_text(client.get("/projects/board?programme=abc")).count("project-card") >= 20


def test_the_project_page_runs_a_constant_number_of_queries(client, users, project, count_queries):
    mentoring.set_mentor(project, users["trainer"].id)

    def grow(count: int) -> None:
        for number in range(count):
            add_overdue_milestone(project, f"Веха {number}")
            steps.add_step(project, 2, f"Шаг {number}")
            mentoring.add_consultation(
                project,
                mentoring.ConsultationData(
                    held_on=services.today(), topic=f"Тема {number}", level=1,
                    expert_id=users["trainer"].id,
                ),
            )  # fmt: skip
            editing.change_level(project, 1 + (project.level % 3 == 1), "Решение", users["admin"])

    sign_in(client, users["organiser"])
    grow(1)
    with count_queries() as few:
        page_text(client.get(f"/projects/{project.id}"))
    grow(8)
    with count_queries() as many:
        text = page_text(client.get(f"/projects/{project.id}"))
    assert many.count == few.count, many.statements
    assert "Тема 7" in text and "Веха 7" in text


def test_organisers_edit_a_programmes_default_steps(client, users, programme, course):
    sign_in(client, users["organiser"])
    url = f"/manage/programmes/{programme.id}/steps"
    assert (
        client.post(url, data={"level": 2, "title": "Прототип", "course_id": course.id}).status_code
        == 302
    )
    step = db.session.scalars(select(ProgrammeStep)).one()
    assert (step.level, step.title, step.course_id) == (2, "Прототип", course.id)
    client.post(
        f"{url}/{step.id}", data={"action": "save", "title": "Прототип испытан", "course_id": ""}
    )
    db.session.refresh(step)
    assert step.title == "Прототип испытан" and step.course_id is None
    give_organisation(users["participant"])
    assert [s.title for s in make_project(users["participant"], programme).steps] == [
        "Прототип испытан"
    ]
    client.post(f"{url}/{step.id}", data={"action": "delete"})
    assert db.session.scalar(select(func.count(ProgrammeStep.id))) == 0
