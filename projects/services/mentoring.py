"""A project's mentor (a trainer) and the consultations logged with experts."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from projects.models import LEVELS, Consultation, Project
from projects.services import ProjectError, today
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.transactions import unit_of_work


def possible_mentors() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role_rows.any(UserRole.role == Role.TRAINER), User.deleted_at.is_(None))
            .order_by(User.full_name)
        )
    )


def set_mentor(project: Project, mentor_id: int | None) -> None:
    with unit_of_work():
        if mentor_id is not None and mentor_id not in {user.id for user in possible_mentors()}:
            raise ProjectError("mentor_not_trainer", field="mentor_id")
        project.mentor_id = mentor_id


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
        raise ProjectError("topic_missing", field="topic")
    if data.level not in LEVELS:
        raise ProjectError("level_invalid", field="level")
    if data.held_on is None:
        raise ProjectError("held_on_missing", field="held_on")
    if data.held_on > today():
        raise ProjectError("consultation_ahead", field="held_on")
    with unit_of_work():
        if data.expert_id is not None and db.session.get(User, data.expert_id) is None:
            raise ProjectError("expert_unknown", field="expert_id")
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
    return consultation
