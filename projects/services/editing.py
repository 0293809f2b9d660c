"""Creating and editing a project (its team and partner organisations), the organisers'
level decisions, and reading a project and a person's projects."""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from courses.models import Direction, Programme
from projects.models import (
    LEVELS,
    Consultation,
    LevelDecision,
    MemberRole,
    Milestone,
    Project,
    ProjectMember,
    ProjectStep,
)
from projects.services import ProjectError, day, steps
from webapp.extensions import db
from webapp.models import Organisation, User
from webapp.transactions import unit_of_work


@dataclass
class ProjectData:
    title: str
    programme_id: int
    direction: str
    started_on: date
    target_group: str = ""
    municipality: str | None = None
    description: str = ""
    is_joint: bool = False
    # e-mails of the other team members (the creator leads and is added anyway)
    member_emails: list[str] = field(default_factory=list)
    # each an organisation's INN or its exact name
    partners: list[str] = field(default_factory=list)


def create_project(data: ProjectData, creator: User) -> Project:
    """A new project led by its creator, for the creator's organisation, with the
    programme's steps (or the default ones) copied into its trajectory."""
    with unit_of_work():
        project = Project(
            created_by_id=creator.id, organisation_id=creator.organisation_id, level=LEVELS[0]
        )
        _apply(project, data, leader=creator)
        project.steps = steps.for_new_project(project.programme_id)
        db.session.add(project)
    return project


def update_project(project: Project, data: ProjectData) -> None:
    with unit_of_work():
        leader = next((m.user for m in project.members if m.role == MemberRole.LEADER), None)
        _apply(project, data, leader=leader)


def _apply(project: Project, data: ProjectData, leader: User | None) -> None:
    title = data.title.strip()
    if not title:
        raise ProjectError("title_missing", field="title")
    if db.session.get(Programme, data.programme_id) is None:
        raise ProjectError("programme_missing", field="programme_id")
    try:
        direction = Direction(data.direction)
    except ValueError:
        raise ProjectError("direction_missing", field="direction") from None
    if data.started_on is None:
        raise ProjectError("start_missing", field="started_on")
    early = db.session.scalar(
        select(func.min(Milestone.due_on)).where(Milestone.project_id == project.id)
    ) if project.id else None  # fmt: skip
    if early is not None and early < data.started_on:
        raise ProjectError(
            "milestone_before_start",
            _l("A milestone is due on %(day)s, before this start date.", day=day(early)),
            field="started_on",
        )
    partners = _find_partners(data.partners, project.organisation_id)
    if data.is_joint and not partners:
        raise ProjectError("partner_needed", field="partners")
    members = _find_members(data.member_emails, leader)
    project.title = title
    project.programme_id = data.programme_id
    project.direction = direction
    project.started_on = data.started_on
    project.target_group = data.target_group.strip()
    project.municipality = data.municipality or None
    project.description = data.description.strip()
    project.is_joint = data.is_joint
    project.partners = partners
    roles = {user.id: MemberRole.MEMBER for user in members}
    if leader is not None:
        roles[leader.id] = MemberRole.LEADER
    kept = [m for m in project.members if m.user_id in roles]
    for member in kept:
        member.role = roles.pop(member.user_id)
    project.members = kept + [ProjectMember(user_id=uid, role=role) for uid, role in roles.items()]


def _find_members(emails: list[str], leader: User | None) -> list[User]:
    wanted = {email.strip().lower() for email in emails if email.strip()}
    if leader is not None:
        wanted.discard(leader.email.lower())
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            select(User).where(func.lower(User.email).in_(wanted), User.deleted_at.is_(None))
        )
    )
    missing = wanted - {user.email.lower() for user in found}
    if missing:
        raise ProjectError(
            "member_unknown",
            _l("No account with the e-mail %(emails)s: the team members sign up first.",
               emails=", ".join(sorted(missing))),
            field="member_emails",
        )  # fmt: skip
    return found


def _find_partners(references: list[str], lead_organisation_id: int | None) -> list[Organisation]:
    """Each reference an INN (digits) or an organisation's exact name; the lead organisation
    is never its own partner."""
    partners: dict[int, Organisation] = {}
    for reference in dict.fromkeys(r.strip() for r in references if r.strip()):
        column = Organisation.inn if reference.isdigit() else Organisation.name
        organisation = db.session.scalar(select(Organisation).where(column == reference).limit(1))
        if organisation is None:
            raise ProjectError(
                "partner_unknown",
                _l("No organisation «%(name)s»: give its INN or its exact name.", name=reference),
                field="partners",
            )
        if organisation.id != lead_organisation_id:
            partners[organisation.id] = organisation
    return list(partners.values())


# --- levels ------------------------------------------------------------------------------------


def change_level(
    project: Project, to_level: int, comment: str, decided_by: User, confirm_skip: bool = False
) -> LevelDecision:
    """An organiser's decision: one level up or down with a comment; a jump over a level
    only when the organiser confirms the skip (recorded as skipped).

    The project's row is locked first, so two organisers deciding at once are judged one
    after the other, each against the level the other left."""

    def lock_project():
        db.session.refresh(project, ["level"], with_for_update=True)

    with unit_of_work(lock=lock_project):
        if to_level not in LEVELS:
            raise ProjectError("level_invalid", field="to_level")
        if to_level == project.level:
            raise ProjectError("same_level", field="to_level")
        comment = (comment or "").strip()
        if not comment:
            raise ProjectError("comment_missing", field="comment")
        skipped = abs(to_level - project.level) > 1
        if skipped and not confirm_skip:
            raise ProjectError(
                "level_skipped",
                _l("Level %(to)d skips level %(between)d. Confirm the skip to record it as the "
                   "organisers' decision.", to=to_level, between=(to_level + project.level) // 2),
                field="confirm_skip",
            )  # fmt: skip
        decision = LevelDecision(
            project=project,
            from_level=project.level,
            to_level=to_level,
            skipped=skipped,
            comment=comment,
            decided_by_id=decided_by.id,
        )
        project.level = to_level
        db.session.add(decision)
    return decision


# --- reading ----------------------------------------------------------------------------------


def load_project(project_id: int) -> Project | None:
    """The project with everything its page shows, in a handful of queries."""
    return db.session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .options(
            joinedload(Project.programme),
            joinedload(Project.organisation),
            joinedload(Project.mentor),
            selectinload(Project.partners),
            selectinload(Project.members).joinedload(ProjectMember.user),
            selectinload(Project.steps).joinedload(ProjectStep.course),
            selectinload(Project.milestones),
            selectinload(Project.consultations).joinedload(Consultation.expert),
            selectinload(Project.level_decisions).joinedload(LevelDecision.decided_by),
        )
    )


def projects_of(user: User) -> list[Project]:
    """The projects a person is in the team of or mentors, newest first."""
    return list(
        db.session.scalars(
            select(Project)
            .where(
                or_(
                    Project.members.any(ProjectMember.user_id == user.id),
                    Project.mentor_id == user.id,
                )
            )
            .options(joinedload(Project.organisation), joinedload(Project.programme))
            .order_by(Project.created_at.desc(), Project.id.desc())
        )
    )


def export_projects(user: User) -> dict:
    """For a person's download of their data: the projects they are in the team of."""
    rows = db.session.execute(
        select(Project.title, ProjectMember.role)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.id)
    ).all()
    return {"projects": [{"title": title, "role": role.value} for title, role in rows]}
