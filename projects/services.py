"""The rules of projects and trajectories: who may do what, creating and editing a project,
its steps, roadmap and consultations, level decisions, the organisers' board, and the
listener that ticks a step when a member completes the step's course.

No request objects here: views, the demo and the tests call the same functions. Each write
is one transaction (committed here, rolled back on a refused input); a refused input raises
ProjectError with a message for the person and, where it belongs to one, the form field.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from courses.models import Course, CourseCompletion, Direction, Programme
from events.models import Registration
from projects.models import (
    LEVELS,
    Consultation,
    LevelDecision,
    MemberRole,
    Milestone,
    MilestoneStatus,
    ProgrammeStep,
    Project,
    ProjectMember,
    ProjectStep,
)
from webapp.extensions import db
from webapp.locking import write_transaction
from webapp.models import Organisation, Role, User, UserRole
from webapp.types import utcnow

# The steps of a programme that has none of its own: what each level of support is for.
DEFAULT_STEPS = {
    1: [_l("Audit done"), _l("Individual trajectory described"), _l("First training complete")],
    2: [
        _l("Product designed"),
        _l("Technology chosen"),
        _l("Cooperation agreed"),
        _l("Prototype tested"),
    ],
    3: [_l("Marketing plan"), _l("Management plan"), _l("Promotion started")],
}
CLOSED_STATUSES = (MilestoneStatus.DONE, MilestoneStatus.CANCELLED)
BOARD_COLUMN_LIMIT = 20  # cards per level on the board before "show all"


class ProjectError(ValueError):
    """A refused input: `message` for the person, `field` the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def today() -> date:
    """Today in the centre's zone: a milestone due today is not overdue before midnight."""
    return datetime.now(ZoneInfo(current_app.config["TROPA_TIMEZONE"])).date()


def is_overdue(milestone: Milestone, on: date | None = None) -> bool:
    return milestone.status not in CLOSED_STATUSES and milestone.due_on < (on or today())


# --- who may do what -----------------------------------------------------------------------


def is_member(user: User, project: Project) -> bool:
    return any(member.user_id == user.id for member in project.members)


def is_organiser(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.ORGANISER)


def may_view(user: User, project: Project) -> bool:
    """The team, the mentor, organisers and admins; nobody else (another team's project is
    theirs to keep)."""
    return may_log(user, project)


def may_edit(user: User, project: Project) -> bool:
    """The team edits its project (details, steps, roadmap); organisers edit every one."""
    return user.is_authenticated and (is_organiser(user) or is_member(user, project))


def may_log(user: User, project: Project) -> bool:
    """Consultations and ticking steps: the team and organisers, and the project's mentor."""
    return user.is_authenticated and (may_edit(user, project) or project.mentor_id == user.id)


# --- creating and editing a project --------------------------------------------------------


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
    project = Project(
        created_by_id=creator.id, organisation_id=creator.organisation_id, level=LEVELS[0]
    )
    try:
        _apply(project, data, leader=creator)
        project.steps = _programme_steps(project.programme_id)
        db.session.add(project)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return project


def update_project(project: Project, data: ProjectData) -> None:
    leader = next((m.user for m in project.members if m.role == MemberRole.LEADER), None)
    try:
        _apply(project, data, leader=leader)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _apply(project: Project, data: ProjectData, leader: User | None) -> None:
    title = data.title.strip()
    if not title:
        raise ProjectError(_("Give the project a title."), "title")
    if db.session.get(Programme, data.programme_id) is None:
        raise ProjectError(_("Choose a programme."), "programme_id")
    try:
        direction = Direction(data.direction)
    except ValueError:
        raise ProjectError(_("Choose a direction."), "direction") from None
    if data.started_on is None:
        raise ProjectError(_("Give the date the project started."), "started_on")
    early = db.session.scalar(
        select(func.min(Milestone.due_on)).where(Milestone.project_id == project.id)
    ) if project.id else None  # fmt: skip
    if early is not None and early < data.started_on:
        raise ProjectError(
            _("A milestone is due on %(day)s, before this start date.", day=early.isoformat()),
            "started_on",
        )
    partners = _find_partners(data.partners, project.organisation_id)
    if data.is_joint and not partners:
        raise ProjectError(
            _("A joint project needs at least one partner organisation."), "partners"
        )
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
            _("No account with the e-mail %(emails)s: the team members sign up first.",
              emails=", ".join(sorted(missing))),
            "member_emails",
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
                _("No organisation «%(name)s»: give its INN or its exact name.", name=reference),
                "partners",
            )
        if organisation.id != lead_organisation_id:
            partners[organisation.id] = organisation
    return list(partners.values())


def _programme_steps(programme_id: int) -> list[ProjectStep]:
    """Copies of the programme's default steps, or the built-in ones when it has none."""
    defaults = programme_steps(programme_id)
    if defaults:
        return [
            ProjectStep(level=s.level, position=s.position, title=s.title, course_id=s.course_id)
            for s in defaults
        ]
    return [
        ProjectStep(level=level, position=position, title=str(title))
        for level, titles in DEFAULT_STEPS.items()
        for position, title in enumerate(titles)
    ]


def set_mentor(project: Project, mentor_id: int | None) -> None:
    if mentor_id is not None and mentor_id not in {user.id for user in possible_mentors()}:
        raise ProjectError(_("Choose a trainer as the mentor."), "mentor_id")
    project.mentor_id = mentor_id
    db.session.commit()


def possible_mentors() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role_rows.any(UserRole.role == Role.TRAINER), User.deleted_at.is_(None))
            .order_by(User.full_name)
        )
    )


# --- steps --------------------------------------------------------------------------------


def _check_step(level: int, title: str, course_id: int | None) -> str:
    if level not in LEVELS:
        raise ProjectError(_("Choose a level."), "level")
    title = (title or "").strip()
    if not title:
        raise ProjectError(_("Give the step a title."), "title")
    if course_id is not None and db.session.get(Course, course_id) is None:
        raise ProjectError(_("No such course."), "course_id")
    return title


def add_step(project: Project, level: int, title: str, course_id: int | None = None) -> ProjectStep:
    title = _check_step(level, title, course_id)
    position = 1 + max((s.position for s in project.steps if s.level == level), default=-1)
    step = ProjectStep(level=level, position=position, title=title, course_id=course_id)
    project.steps.append(step)
    db.session.commit()
    return step


def save_step(step: ProjectStep, title: str, course_id: int | None) -> None:
    step.title = _check_step(step.level, title, course_id)
    step.course_id = course_id
    db.session.commit()


def set_step_done(step: ProjectStep, user: User, done: bool) -> None:
    if done and step.done_at is None:
        step.done_at, step.done_by_id = utcnow(), user.id
    elif not done:
        step.done_at = step.done_by_id = None
    db.session.commit()


def delete_step(step: ProjectStep) -> None:
    db.session.delete(step)
    db.session.commit()


def programme_steps(programme_id: int) -> list[ProgrammeStep]:
    return list(
        db.session.scalars(
            select(ProgrammeStep)
            .where(ProgrammeStep.programme_id == programme_id)
            .order_by(ProgrammeStep.level, ProgrammeStep.position, ProgrammeStep.id)
        )
    )


def add_programme_step(
    programme: Programme, level: int, title: str, course_id: int | None = None
) -> ProgrammeStep:
    title = _check_step(level, title, course_id)
    position = 1 + (
        db.session.scalar(
            select(func.max(ProgrammeStep.position)).where(
                ProgrammeStep.programme_id == programme.id, ProgrammeStep.level == level
            )
        )
        or 0
    )
    step = ProgrammeStep(
        programme_id=programme.id, level=level, position=position, title=title, course_id=course_id
    )
    db.session.add(step)
    db.session.commit()
    return step


def save_programme_step(step: ProgrammeStep, title: str, course_id: int | None) -> None:
    step.title = _check_step(step.level, title, course_id)
    step.course_id = course_id
    db.session.commit()


def delete_programme_step(step: ProgrammeStep) -> None:
    db.session.delete(step)
    db.session.commit()


def tick_steps_for_completions(_sender, completions: list[CourseCompletion]) -> None:
    """Listener of courses.services.completion: a step naming a course is done once a member
    of the project completes that course. Runs inside the completion's transaction."""
    pairs = db.session.execute(
        select(Registration.user_id, Registration.event_id).where(
            Registration.id.in_([c.registration_id for c in completions]),
            Registration.user_id.is_not(None),
        )
    ).all()
    if not pairs:
        return
    steps = db.session.execute(
        select(ProjectStep, ProjectMember.user_id)
        .join(ProjectMember, ProjectMember.project_id == ProjectStep.project_id)
        .where(
            ProjectStep.done_at.is_(None),
            or_(*(and_(ProjectMember.user_id == u, ProjectStep.course_id == c) for u, c in pairs)),
        )
    ).all()
    now = utcnow()
    for step, user_id in steps:
        if step.done_at is None:  # two members may complete the course at once
            step.done_at, step.done_by_id = now, user_id


def export_projects(user: User) -> dict:
    """For a person's download of their data: the projects they are in the team of."""
    rows = db.session.execute(
        select(Project.title, ProjectMember.role)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.id)
    ).all()
    return {"projects": [{"title": title, "role": role.value} for title, role in rows]}


# --- roadmap and consultations -------------------------------------------------------------


@dataclass
class MilestoneData:
    title: str
    level: int
    due_on: date
    status: str = MilestoneStatus.PLANNED.value
    done_on: date | None = None
    notes: str = ""


def save_milestone(project: Project, milestone: Milestone | None, data: MilestoneData) -> Milestone:
    title = (data.title or "").strip()
    if not title:
        raise ProjectError(_("Give the milestone a title."), "title")
    if data.level not in LEVELS:
        raise ProjectError(_("Choose a level."), "level")
    if data.due_on is None:
        raise ProjectError(_("Give the due date."), "due_on")
    if data.due_on < project.started_on:
        raise ProjectError(
            _("The due date is before the project started (%(day)s).",
              day=project.started_on.isoformat()),
            "due_on",
        )  # fmt: skip
    try:
        status = MilestoneStatus(data.status)
    except ValueError:
        raise ProjectError(_("Choose a status."), "status") from None
    done_on = data.done_on
    if status == MilestoneStatus.DONE:
        done_on = done_on or today()
        if done_on < project.started_on:
            raise ProjectError(_("The milestone cannot be done before the project started."),
                               "done_on")  # fmt: skip
    else:
        done_on = None  # only a done milestone has a done date
    if milestone is None:
        milestone = Milestone(project=project)
        db.session.add(milestone)
    milestone.title, milestone.level, milestone.due_on = title, data.level, data.due_on
    milestone.status, milestone.done_on, milestone.notes = status, done_on, data.notes.strip()
    db.session.commit()
    return milestone


def delete_milestone(milestone: Milestone) -> None:
    db.session.delete(milestone)
    db.session.commit()


@dataclass
class ConsultationData:
    held_on: date
    topic: str
    level: int
    expert_id: int | None = None
    notes: str = ""
    next_steps: str = ""


def add_consultation(project: Project, data: ConsultationData) -> Consultation:
    topic = (data.topic or "").strip()
    if not topic:
        raise ProjectError(_("Give the consultation's topic."), "topic")
    if data.level not in LEVELS:
        raise ProjectError(_("Choose a level."), "level")
    if data.held_on is None:
        raise ProjectError(_("Give the date of the consultation."), "held_on")
    if data.held_on > today():
        raise ProjectError(_("A consultation is logged once it has taken place."), "held_on")
    if data.expert_id is not None and db.session.get(User, data.expert_id) is None:
        raise ProjectError(_("No such expert."), "expert_id")
    consultation = Consultation(
        project=project,
        held_on=data.held_on,
        topic=topic,
        level=data.level,
        expert_id=data.expert_id,
        notes=data.notes.strip(),
        next_steps=data.next_steps.strip(),
    )
    db.session.add(consultation)
    db.session.commit()
    return consultation


# --- levels ----------------------------------------------------------------------------------


def change_level(
    project: Project, to_level: int, comment: str, decided_by: User, confirm_skip: bool = False
) -> LevelDecision:
    """An organiser's decision: one level up or down with a comment; a jump over a level
    only when the organiser confirms the skip (recorded as skipped).

    The project's row is locked first, so two organisers deciding at once are judged one
    after the other, each against the level the other left."""
    with write_transaction():
        db.session.refresh(project, ["level"], with_for_update=True)
        if to_level not in LEVELS:
            raise ProjectError(_("Choose a level."), "to_level")
        if to_level == project.level:
            raise ProjectError(_("The project is already on this level."), "to_level")
        comment = (comment or "").strip()
        if not comment:
            raise ProjectError(_("Say why: the decision is recorded with its comment."), "comment")
        skipped = abs(to_level - project.level) > 1
        if skipped and not confirm_skip:
            raise ProjectError(
                _("Level %(to)d skips level %(between)d. Confirm the skip to record it as the "
                  "organisers' decision.", to=to_level, between=(to_level + project.level) // 2),
                "confirm_skip",
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


@dataclass
class LevelProgress:
    level: int
    done: int
    total: int
    current: bool
    overdue: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def trajectory(project: Project) -> list[LevelProgress]:
    """Steps done per level, the current level and overdue milestones: the project at a glance."""
    on = today()
    return [
        LevelProgress(
            level=level,
            done=sum(1 for s in project.steps if s.level == level and s.done_at),
            total=sum(1 for s in project.steps if s.level == level),
            current=level == project.level,
            overdue=sum(1 for m in project.milestones if m.level == level and is_overdue(m, on)),
        )
        for level in LEVELS
    ]


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


@dataclass
class BoardFilter:
    programme_id: int | None = None
    municipality: str | None = None


@dataclass
class BoardCard:
    project: Project
    overdue: int


@dataclass
class BoardColumn:
    level: int
    cards: list[BoardCard]
    total: int


def _board_query(filters: BoardFilter) -> Select:
    query = select(Project)
    if filters.programme_id:
        query = query.where(Project.programme_id == filters.programme_id)
    if filters.municipality:
        query = query.where(Project.municipality == filters.municipality)
    return query


def board(filters: BoardFilter) -> list[BoardColumn]:
    """Every project by level, each column capped at BOARD_COLUMN_LIMIT cards (the rest
    are behind "show all", level_page); five queries however many projects there are."""
    base = _board_query(filters)
    totals = dict(
        db.session.execute(
            base.with_only_columns(Project.level, func.count(Project.id)).group_by(Project.level)
        ).all()
    )
    by_level = {
        level: list(db.session.scalars(_level_query(base, level).limit(BOARD_COLUMN_LIMIT)))
        for level in LEVELS
    }
    overdue = overdue_counts([p.id for projects in by_level.values() for p in projects])
    return [
        BoardColumn(
            level=level,
            cards=[BoardCard(p, overdue.get(p.id, 0)) for p in by_level[level]],
            total=totals.get(level, 0),
        )
        for level in LEVELS
    ]


def level_page(filters: BoardFilter, level: int, page: int, per_page: int = 50):
    """One level's projects in full, a page at a time: the board's "show all"."""
    pagination = db.paginate(
        _level_query(_board_query(filters), level), page=page, per_page=per_page, error_out=False
    )
    overdue = overdue_counts([p.id for p in pagination.items])
    return pagination, [BoardCard(p, overdue.get(p.id, 0)) for p in pagination.items]


def _level_query(base: Select, level: int) -> Select:
    return (
        base.where(Project.level == level)
        .options(joinedload(Project.organisation))
        .order_by(Project.title, Project.id)
    )


def overdue_counts(project_ids: list[int]) -> dict[int, int]:
    if not project_ids:
        return {}
    return dict(
        db.session.execute(
            select(Milestone.project_id, func.count(Milestone.id))
            .where(
                Milestone.project_id.in_(project_ids),
                Milestone.due_on < today(),
                Milestone.status.not_in(CLOSED_STATUSES),
            )
            .group_by(Milestone.project_id)
        ).all()
    )


def board_municipalities() -> list[str]:
    return list(
        db.session.scalars(
            select(Project.municipality)
            .where(Project.municipality.is_not(None))
            .distinct()
            .order_by(Project.municipality)
        )
    )
