"""The centre's targets per programme and indicator (defaults in reports.models)."""

from sqlalchemy import (
    delete,
    func,
    select,
)

from reports.models import DEFAULT_TARGETS, Indicator, ProgrammeTarget
from reports.services import ReportError
from webapp.extensions import db
from webapp.transactions import unit_of_work


def targets(programme_id: int | None) -> dict[Indicator, int]:
    """The targets for one programme (its own, else the default) or for all programmes
    (the sum of those set, else the default): see reports.services."""
    query = select(ProgrammeTarget.indicator, func.sum(ProgrammeTarget.target)).group_by(
        ProgrammeTarget.indicator
    )
    if programme_id is not None:
        query = query.where(ProgrammeTarget.programme_id == programme_id)
    chosen = {Indicator(indicator): int(total) for indicator, total in db.session.execute(query)}
    return {indicator: chosen.get(indicator, DEFAULT_TARGETS[indicator]) for indicator in Indicator}


def programme_targets() -> dict[tuple[int, Indicator], int]:
    """The targets programmes have set, by (programme id, indicator)."""
    rows = db.session.execute(
        select(ProgrammeTarget.programme_id, ProgrammeTarget.indicator, ProgrammeTarget.target)
    )
    return {(programme_id, indicator): target for programme_id, indicator, target in rows}


def save_targets(chosen: dict[tuple[int, Indicator], int | None]) -> None:
    """Replace the programmes' targets in one unit; None means "use the default"."""
    if any(target is not None and target < 0 for target in chosen.values()):
        raise ReportError("target_invalid")
    programme_ids = {programme_id for programme_id, _ in chosen}
    with unit_of_work():
        db.session.execute(
            delete(ProgrammeTarget).where(ProgrammeTarget.programme_id.in_(programme_ids))
        )
        db.session.add_all(
            ProgrammeTarget(programme_id=programme_id, indicator=indicator, target=target)
            for (programme_id, indicator), target in chosen.items()
            if target is not None
        )
