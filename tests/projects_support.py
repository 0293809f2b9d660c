"""Projects for the tests: organisations, a project made by the real service, the world of
the permission matrix."""

from datetime import timedelta

from projects import services
from projects.models import Milestone, ProgrammeStep, Project
from projects.services import editing, mentoring, roadmap
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, User

# Valid 10-digit INNs (check digit right), for partner organisations found by INN.
INNS = ["7707083893", "5321030253", "5310016747"]


def organisation(name: str, inn: str | None = None, municipality="Великий Новгород"):
    org = Organisation(name=name, type=OrganisationType.SONKO, inn=inn, municipality=municipality)
    db.session.add(org)
    db.session.commit()
    return org


def give_organisation(user: User, name: str = 'АНО "Вместе"') -> Organisation:
    user.organisation = organisation(name)
    user.municipality = user.organisation.municipality
    db.session.commit()
    return user.organisation


def make_project(leader: User, programme, title="Семейная гостиная", **fields) -> Project:
    data = editing.ProjectData(
        title=title,
        programme_id=programme.id,
        direction=fields.pop("direction", "parents_children"),
        started_on=fields.pop("started_on", services.today() - timedelta(days=30)),
        municipality=fields.pop("municipality", "Великий Новгород"),
        **fields,
    )
    return editing.create_project(data, leader)


def add_overdue_milestone(project: Project, title="Паспорт проекта") -> Milestone:
    return roadmap.save_milestone(
        project,
        None,
        roadmap.MilestoneData(title=title, level=1, due_on=services.today() - timedelta(days=1)),
    )


def projects_world(users: dict, course) -> dict:
    """The participant leads a project of the course's programme; the trainer mentors it."""
    give_organisation(users["participant"])
    project = make_project(users["participant"], course.programme)
    mentoring.set_mentor(project, users["trainer"].id)
    milestone = roadmap.save_milestone(
        project,
        None,
        roadmap.MilestoneData(title="Паспорт", level=1, due_on=services.today()),
    )
    programme_step = ProgrammeStep(programme_id=course.programme_id, level=1, title="Аудит")
    db.session.add(programme_step)
    db.session.commit()
    return {
        "project_id": project.id,
        "step_id": project.steps[0].id,
        "milestone_id": milestone.id,
        "programme_step_id": programme_step.id,
    }
