"""Who may do what with an event: the rules every events view and API call asks."""

from sqlalchemy import exists, select

from events.models import Event, event_staff
from webapp.extensions import db
from webapp.models import Role, User


def can_manage(user: User | None, event: Event | None = None) -> bool:
    """Create and edit events, approve, move and export registrations: organisers."""
    return bool(user and user.is_authenticated and user.has_role(Role.ORGANISER))


def can_check_in(user: User | None, event: Event) -> bool:
    """Scan tickets and see the list at the door: organisers and the event's own staff."""
    if not (user and user.is_authenticated):
        return False
    return can_manage(user, event) or event.is_staff(user)


def can_check_in_somewhere(user: User | None) -> bool:
    """Organisers, trainers and anyone on an event's staff: who may scan at all."""
    if not (user and user.is_authenticated):
        return False
    if user.has_role(Role.ORGANISER, Role.TRAINER):
        return True
    return bool(db.session.scalar(select(exists().where(event_staff.c.user_id == user.id))))
