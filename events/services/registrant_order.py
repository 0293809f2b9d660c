"""The registrant list's sortable columns: a whitelist of keys ("name", "-name" for the
reverse...), each an ORDER BY the database runs, so a page of 50 is the right 50."""

from sqlalchemy import Select, case

from events.models import Registration, RegistrationStatus
from webapp.models import Organisation

Status = RegistrationStatus
DEFAULT = "registered"
# The order statuses are worked through: who waits for a decision first.
STATUS_ORDER = case(
    {Status.PENDING: 0, Status.CONFIRMED: 1, Status.WAITLISTED: 2, Status.CANCELLED: 3},
    value=Registration.status,
)
SORTS = {
    # search_text begins with the folded name: any case, ё as е, on both databases
    "name": (Registration.search_text,),
    "organisation": (Organisation.name.is_(None), Organisation.name),
    "status": (STATUS_ORDER, Registration.queue_number),
    "registered": (Registration.created_at,),
}


def sort_key(asked: str | None) -> str:
    """The asked sort if it is one of ours, else the default."""
    asked = asked or ""
    return asked if asked.lstrip("-") in SORTS and asked.count("-") <= 1 else DEFAULT


def ordered(query: Select, sort: str) -> Select:
    key = sort_key(sort)
    name, descending = key.lstrip("-"), key.startswith("-")
    columns = list(SORTS[name])
    if name == "organisation":
        query = query.outerjoin(Organisation, Organisation.id == Registration.organisation_id)
        columns[1] = columns[1].desc() if descending else columns[1]  # none stay last
    elif descending:
        columns = [column.desc() for column in columns]
    tie = Registration.id.desc() if descending else Registration.id
    return query.order_by(None).order_by(*columns, tie)
