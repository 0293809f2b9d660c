"""`tropa demo-data`: a realistic training centre, created once, through the real CLI."""

from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import func, select

from certificates.models import Certificate, EventCertificates, TemplateKind
from courses import demo
from courses.models import Course, CourseCompletion, Direction, Level, Programme
from courses.services import my_learning
from events.models import Attendance, RegistrationStatus, Session, Visibility
from events.services import seats
from projects.models import LevelDecision, Project, ProjectStep
from projects.services import board, editing
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, Role, User, UserRole
from webapp.services import authenticate, find_user, inn_error, search_key
from webapp.types import utcnow


def run_demo_data(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    for _role, email in demo.DEMO_LOGINS:
        assert email in result.output
    assert demo.DEMO_PASSWORD in result.output
    return result.output


def users_with_role(role: Role) -> list[User]:
    return list(db.session.scalars(select(User).where(User.role_rows.any(UserRole.role == role))))


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_courses_cover_every_level_and_direction_with_a_real_schedule(app_ctx):
    run_demo_data(app_ctx)
    assert db.session.scalar(select(func.count(Programme.id))) == 3
    courses = list(db.session.scalars(select(Course)))
    assert len(courses) >= 15
    assert {course.level for course in courses} == set(Level)
    assert {course.direction for course in courses} == set(Direction)
    assert sum(course.visibility == Visibility.DRAFT for course in courses) >= 2

    moscow = ZoneInfo("Europe/Moscow")
    now = utcnow()
    for course in courses:
        assert course.trainers and course.academic_hours > 0 and course.capacity
        assert course.search_text == search_key(f"{course.title} {course.description}")
        assert course.venue or course.online_url
        assert 2 <= len(course.sessions) <= 8
        first_start = course.sessions[0].starts_at
        assert course.registration_opens_at < course.registration_closes_at <= first_start
        # Every course has sessions to come (one is running: its first ones are past).
        assert course.sessions[-1].starts_at > now
        for session in course.sessions:
            starts, ends = session.starts_at.astimezone(moscow), session.ends_at.astimezone(moscow)
            assert starts.minute == 0 and 9 <= starts.hour <= 18, starts
            assert ends.date() == starts.date() and ends > starts


def test_courses_show_places_left_nearly_full_and_a_waiting_list(app_ctx):
    run_demo_data(app_ctx)
    courses = list(db.session.scalars(select(Course)))
    counts = seats.seat_counts(course.id for course in courses)
    places_left = {course.id: counts[course.id].places_left(course.capacity) for course in courses}
    for course in courses:
        assert counts[course.id].confirmed <= course.capacity  # the service never overbooks
    published = [course for course in courses if course.is_published]
    assert any(counts[c.id].waitlisted and places_left[c.id] == 0 for c in published)
    assert any(1 <= places_left[c.id] <= 2 for c in published)
    assert sum(places_left[c.id] > 2 and counts[c.id].confirmed > 0 for c in published) >= 5
    assert any(seats.registration_state(c) == "not_open_yet" for c in published)

    # The participant login has something to see in "My learning".
    statuses = {row.registration.status: row for row in my_learning(find_user(demo.PARTICIPANT))}
    assert RegistrationStatus.CONFIRMED in statuses
    assert statuses[RegistrationStatus.WAITLISTED].waitlist_position == 2


def test_people_and_organisations_are_complete_and_valid(app_ctx):
    run_demo_data(app_ctx)
    assert len(users_with_role(Role.TRAINER)) == 4
    assert len(users_with_role(Role.ORGANISER)) == 1
    assert len(users_with_role(Role.ADMIN)) == 1
    participants = users_with_role(Role.PARTICIPANT)
    assert len(participants) == 60
    assert all(user.profile_complete for user in participants)
    names = [user.full_name for user in participants]
    assert len(set(names)) == len(names)
    assert all(len(name.split()) == 3 for name in names)  # surname, name, patronymic

    organisations = list(db.session.scalars(select(Organisation)))
    assert 35 <= len(organisations) <= 45
    assert {o.type for o in organisations} == set(OrganisationType)
    for organisation in organisations:
        if organisation.type in (OrganisationType.INITIATIVE_GROUP, OrganisationType.INDIVIDUAL):
            assert organisation.inn is None
            continue
        assert inn_error(organisation.inn) is None, organisation.inn
        if organisation.type == OrganisationType.SONKO:
            assert len(organisation.inn) == 10
        if organisation.type == OrganisationType.SELF_EMPLOYED:
            assert len(organisation.inn) == 12
            assert any(user.organisation_id == organisation.id for user in participants)

    for role, email in demo.DEMO_LOGINS:
        user = authenticate(email, demo.DEMO_PASSWORD)
        assert user is not None and role in user.roles


def test_projects_stand_on_every_level_with_joint_ones_mentors_and_a_roadmap(app_ctx):
    run_demo_data(app_ctx)
    projects = list(db.session.scalars(select(Project)))
    assert 10 <= len(projects) <= 15
    assert {project.level for project in projects} == {1, 2, 3}
    joint = [project for project in projects if project.is_joint]
    assert len(joint) >= 4 and all(project.partners for project in joint)
    assert {project.level for project in joint} == {2, 3}
    for project in projects:
        assert project.mentor is not None and Role.TRAINER in project.mentor.roles
        assert project.consultations and project.milestones
        assert all(m.due_on >= project.started_on for m in project.milestones)
        below = [step for step in project.steps if step.level < project.level]
        assert all(step.done_at for step in below)
        decisions = [(d.from_level, d.to_level) for d in project.level_decisions]
        assert decisions == [(level, level + 1) for level in range(1, project.level)]
    overdue = board.overdue_counts([project.id for project in projects])
    assert 1 <= len(overdue) < len(projects)
    assert db.session.scalar(select(func.count(LevelDecision.id))) >= 5
    assert db.session.scalar(
        select(func.count(ProjectStep.id)).where(ProjectStep.course_id.isnot(None))
    )
    # The participant login leads a project.
    assert editing.projects_of(find_user(demo.PARTICIPANT))


def test_completed_courses_and_a_past_event_hold_certificates(app_ctx):
    run_demo_data(app_ctx)
    certificates = list(db.session.scalars(select(Certificate)))
    of_courses = [c for c in certificates if c.kind == TemplateKind.COURSE]
    of_events = [c for c in certificates if c.kind == TemplateKind.EVENT]
    # everyone who completed a course holds its certificate, exactly one
    completed = db.session.scalars(
        select(CourseCompletion.registration_id).where(CourseCompletion.completed_at.isnot(None))
    ).all()
    assert completed and sorted(completed) == sorted(c.registration_id for c in of_courses)
    (revoked,) = [c for c in certificates if c.revoked]
    assert revoked.kind == TemplateKind.COURSE and revoked.revoked_reason
    # the past event that issues them: everyone present or late holds one
    (event_id,) = {c.event_id for c in of_events}
    assert db.session.get(EventCertificates, event_id).enabled
    attended = db.session.scalars(
        select(Attendance.registration_id.distinct())
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.event_id == event_id)
    ).all()
    assert len(attended) > 10 and sorted(attended) == sorted(c.registration_id for c in of_events)
    assert len({c.serial for c in certificates}) == len(certificates)
    # the participant login holds a valid certificate of completion
    mine = [c for c in of_courses if c.user_id == find_user(demo.PARTICIPANT).id]
    assert mine and not any(c.revoked for c in mine)


def test_a_second_run_changes_nothing_and_prints_the_logins_again(app_ctx):
    first = run_demo_data(app_ctx)
    assert gettext("Demo data is already there: nothing changed.") not in first
    before = row_counts()
    assert before["registrations"] > 150

    second = run_demo_data(app_ctx)
    assert gettext("Demo data is already there: nothing changed.") in second
    assert row_counts() == before
