"""The organisers' board: every project by level, each column capped, "show all" per level."""

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from projects.models import LEVELS, Milestone, Project
from projects.services import CLOSED_STATUSES, today
from webapp.extensions import db

BOARD_COLUMN_LIMIT = 20  # cards per level on the board before "show all"


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


def columns(filters: BoardFilter) -> list[BoardColumn]:
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


def municipalities() -> list[str]:
    return list(
        db.session.scalars(
            select(Project.municipality)
            .where(Project.municipality.is_not(None))
            .distinct()
            .order_by(Project.municipality)
        )
    )
