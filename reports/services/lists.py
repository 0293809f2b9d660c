"""The lists behind the dashboard's numbers: for each, a SELECT of its rows (a page on
the screen, every row in the exports) and a SELECT of its count (definitions in
reports.services)."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from certificates.models import Certificate
from courses.models import CourseCompletion, Programme
from events.models import (
    PRESENT_OR_LATE,
    Attendance,
    Event,
    EventKind,
    Registration,
    RegistrationStatus,
)
from events.models import Session as EventSession
from projects.models import (
    PROTOTYPE_LEVEL,
    LevelDecision,
    Project,
    ProjectMember,
    project_partners,
)
from reports.models import INDICATOR_LABELS, Indicator
from reports.services import ReportFilter, courses_table
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, User
from webapp.types import utcnow

# --- people behind a registration or a project membership ------------------------------


def people_of_registrations(filters: ReportFilter, what, at) -> Select:
    """One row per registration with its person (key, name, e-mail, organisation,
    municipality), what it is about and its date; the caller joins and filters further.
    The municipality filter is applied here."""
    person_org = aliased(Organisation, name="person_org")
    key = case(
        (Registration.user_id.is_not(None), "u" + cast(Registration.user_id, String)),
        else_="g" + func.lower(Registration.email),
    )
    municipality = func.coalesce(User.municipality, person_org.municipality)
    return (
        select(
            key.label("person_key"),
            func.coalesce(User.full_name, Registration.full_name).label("name"),
            func.coalesce(User.email, Registration.email).label("email"),
            municipality.label("municipality"),
            person_org.id.label("organisation_id"),
            person_org.name.label("organisation"),
            person_org.type.label("organisation_type"),
            what.label("what"),
            at.label("at"),
        )
        .select_from(Registration)
        .outerjoin(User, User.id == Registration.user_id)
        .outerjoin(
            person_org,
            person_org.id == func.coalesce(User.organisation_id, Registration.organisation_id),
        )
        .where(filters.municipality_is(municipality))
    )


def _trained_rows(filters: ReportFilter) -> Select:
    """People trained: a row per completion in the period."""
    return (
        people_of_registrations(filters, Event.title, CourseCompletion.completed_at)
        .join(CourseCompletion, CourseCompletion.registration_id == Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .join(courses_table, courses_table.c.id == Registration.event_id)
        .where(
            CourseCompletion.completed_at.is_not(None),
            filters.in_period(CourseCompletion.completed_at),
            filters.programme_is(courses_table.c.programme_id),
        )
    )


def _reached_rows(filters: ReportFilter) -> Select:
    """People reached: a row per present/late mark at an outreach event's session in the
    period (no programme: events belong to none)."""
    return (
        people_of_registrations(filters, Event.title, EventSession.starts_at)
        .join(Attendance, Attendance.registration_id == Registration.id)
        .join(EventSession, EventSession.id == Attendance.session_id)
        .join(Event, Event.id == EventSession.event_id)
        .where(
            Event.kind == EventKind.EVENT,
            Attendance.status.in_(PRESENT_OR_LATE),
            filters.in_period(EventSession.starts_at),
        )
    )


def _supported_projects(filters: ReportFilter):
    """Projects of the programme with a level decision in the period: (project_id, at =
    the latest such decision)."""
    return (
        select(
            LevelDecision.project_id.label("project_id"),
            func.max(LevelDecision.decided_at).label("at"),
        )
        .join(Project, Project.id == LevelDecision.project_id)
        .where(
            filters.in_period(LevelDecision.decided_at),
            filters.programme_is(Project.programme_id),
        )
        .group_by(LevelDecision.project_id)
        .subquery("supported_projects")
    )


def _project_member_rows(filters: ReportFilter) -> Select:
    """Members of supported projects, with the same columns as the registration rows."""
    supported = _supported_projects(filters)
    person_org = aliased(Organisation, name="member_org")
    municipality = func.coalesce(User.municipality, person_org.municipality)
    return (
        select(
            ("u" + cast(ProjectMember.user_id, String)).label("person_key"),
            User.full_name.label("name"),
            User.email.label("email"),
            municipality.label("municipality"),
            person_org.id.label("organisation_id"),
            person_org.name.label("organisation"),
            person_org.type.label("organisation_type"),
            Project.title.label("what"),
            supported.c.at.label("at"),
        )
        .select_from(ProjectMember)
        .join(supported, supported.c.project_id == ProjectMember.project_id)
        .join(Project, Project.id == ProjectMember.project_id)
        .join(User, User.id == ProjectMember.user_id)
        .outerjoin(person_org, person_org.id == User.organisation_id)
        .where(filters.municipality_is(municipality))
    )


def _self_employed_rows(filters: ReportFilter):
    rows = union_all(_trained_rows(filters), _project_member_rows(filters)).subquery()
    return select(rows).where(rows.c.organisation_type == OrganisationType.SELF_EMPLOYED)


def _organisation_rows(filters: ReportFilter):
    """(organisation_id, what, at): organisations of people trained, and lead and partner
    organisations of supported projects; individuals are filtered out by the caller."""
    trained = _trained_rows(filters).subquery()
    supported = _supported_projects(filters)
    in_place = filters.municipality_is(Project.municipality)
    lead = (
        select(Project.organisation_id, Project.title, supported.c.at)
        .join(supported, supported.c.project_id == Project.id)
        .where(in_place)
    )
    partners = (
        select(project_partners.c.organisation_id, Project.title, supported.c.at)
        .select_from(project_partners)
        .join(Project, Project.id == project_partners.c.project_id)
        .join(supported, supported.c.project_id == Project.id)
        .where(in_place)
    )
    return union_all(
        select(trained.c.organisation_id, trained.c.what, trained.c.at), lead, partners
    ).subquery("organisation_rows")


def _joint_prototype_projects(filters: ReportFilter) -> Select:
    """Joint projects at PROTOTYPE_LEVEL or beyond; `at` is when the decision that brought
    them there was taken (none for a project registered at that level already)."""
    reached = (
        select(
            LevelDecision.project_id.label("project_id"),
            func.max(LevelDecision.decided_at).label("at"),
        )
        .where(
            LevelDecision.from_level < PROTOTYPE_LEVEL,
            LevelDecision.to_level >= PROTOTYPE_LEVEL,
            filters.in_period(LevelDecision.decided_at),
        )
        .group_by(LevelDecision.project_id)
        .subquery("reached_prototype")
    )
    lead = aliased(Organisation, name="lead_org")
    query = (
        select(
            Project.id,
            Project.title,
            Programme.title.label("programme"),
            Project.level,
            lead.name.label("organisation"),
            Project.municipality,
            reached.c.at,
        )
        .join(Programme, Programme.id == Project.programme_id)
        .outerjoin(lead, lead.id == Project.organisation_id)
        .where(
            Project.is_joint.is_(True),
            Project.level >= PROTOTYPE_LEVEL,
            filters.programme_is(Project.programme_id),
            filters.municipality_is(Project.municipality),
        )
    )
    if filters.has_period:
        return query.join(reached, reached.c.project_id == Project.id)
    return query.outerjoin(reached, reached.c.project_id == Project.id)


def _zero_padded(number, width: int) -> ColumnElement[str]:
    """The certificate's serial as printed: 2026-000123."""
    if db.engine.dialect.name == "postgresql":
        return func.lpad(cast(number, String), width, "0")
    return func.printf(f"%0{width}d", number)


def _certificate_rows(filters: ReportFilter) -> Select:
    """Certificates issued in the period and not revoked; with a programme, only the
    certificates of its courses."""
    serial = cast(Certificate.year, String) + "-" + _zero_padded(Certificate.number, 6)
    return (
        people_of_registrations(filters, Event.title, Certificate.issued_at)
        .add_columns(serial.label("serial"))
        .join(Certificate, Certificate.registration_id == Registration.id)
        .join(Event, Event.id == Certificate.event_id)
        .outerjoin(courses_table, courses_table.c.id == Certificate.event_id)
        .where(
            Certificate.revoked_at.is_(None),
            filters.in_period(Certificate.issued_at),
            filters.programme_is(courses_table.c.programme_id),
        )
    )


# --- the lists behind the numbers --------------------------------------------------------


def _person_header(records) -> tuple:
    """The columns of a list of people; `records` names what the count column counts."""
    return (
        _l("Name"),
        _l("E-mail"),
        _l("Municipality"),
        _l("Organisation"),
        _l("Organisation type"),
        records,
        _l("Latest date"),
    )


PERSON_KINDS = ("text", "text", "text", "text", "organisation_type", "number", "date")


def _people_list(rows: Select) -> Select:
    """One line per person of `rows`, by name."""
    people = rows.subquery("people")
    return (
        select(
            func.min(people.c.name),
            func.min(people.c.email),
            func.min(people.c.municipality),
            func.min(people.c.organisation),
            func.min(people.c.organisation_type),
            func.count(),
            func.max(people.c.at),
        )
        .group_by(people.c.person_key)
        .order_by(func.min(people.c.name), people.c.person_key)
    )


def _people_count(rows: Select) -> Select:
    people = rows.subquery("people")
    return select(func.count(distinct(people.c.person_key)))


def _organisations_list(filters: ReportFilter) -> Select:
    rows = _organisation_rows(filters)
    return (
        select(
            Organisation.name,
            Organisation.type,
            Organisation.inn,
            Organisation.municipality,
            func.count(),
            func.max(rows.c.at),
        )
        .join(rows, rows.c.organisation_id == Organisation.id)
        .where(Organisation.type != OrganisationType.INDIVIDUAL)
        .group_by(Organisation.id)
        .order_by(Organisation.name, Organisation.id)
    )


def _organisations_count(filters: ReportFilter) -> Select:
    rows = _organisation_rows(filters)
    return (
        select(func.count(distinct(Organisation.id)))
        .join(rows, rows.c.organisation_id == Organisation.id)
        .where(Organisation.type != OrganisationType.INDIVIDUAL)
    )


def _projects_list(filters: ReportFilter) -> Select:
    projects = _joint_prototype_projects(filters).subquery()
    return select(
        projects.c.title,
        projects.c.programme,
        projects.c.level,
        projects.c.organisation,
        projects.c.municipality,
        projects.c.at,
    ).order_by(projects.c.title, projects.c.id)


def _projects_count(filters: ReportFilter) -> Select:
    return select(func.count()).select_from(_joint_prototype_projects(filters).subquery())


def _certificates_list(filters: ReportFilter) -> Select:
    rows = _certificate_rows(filters).subquery()
    return select(
        rows.c.serial,
        rows.c.name,
        rows.c.email,
        rows.c.municipality,
        rows.c.what,
        rows.c.at,
    ).order_by(rows.c.at, rows.c.serial)


def _certificates_count(filters: ReportFilter) -> Select:
    return select(func.count()).select_from(_certificate_rows(filters).subquery())


def _expected_places(filters: ReportFilter) -> Select:
    """A row per place expected at a past course session — a confirmed enrolment × a past,
    not cancelled session of its course — with its person; `attended` is the id of a
    present or late mark, else NULL."""
    return (
        people_of_registrations(filters, literal(""), EventSession.starts_at)
        .add_columns(Attendance.id.label("attended"))
        .join(EventSession, EventSession.event_id == Registration.event_id)
        .join(courses_table, courses_table.c.id == Registration.event_id)
        .outerjoin(
            Attendance,
            and_(
                Attendance.registration_id == Registration.id,
                Attendance.session_id == EventSession.id,
                Attendance.status.in_(PRESENT_OR_LATE),
            ),
        )
        .where(
            Registration.status == RegistrationStatus.CONFIRMED,
            EventSession.cancelled_at.is_(None),
            EventSession.starts_at < utcnow(),
            filters.in_period(EventSession.starts_at),
            filters.programme_is(courses_table.c.programme_id),
        )
    )


def attendance_places(filters: ReportFilter):
    """(expected, attended) over all the expected places, in one pass."""
    places = _expected_places(filters).subquery("expected_places")
    return select(
        func.count().label("expected"), func.count(places.c.attended).label("attended")
    ).subquery("places")


def _attendance_list(filters: ReportFilter) -> Select:
    """One line per person expected at past course sessions: places, attended, rate; the
    lowest rates first (whom to call)."""
    places = _expected_places(filters).subquery("places")
    expected, attended = func.count(), func.count(places.c.attended)
    return (
        select(
            func.min(places.c.name),
            func.min(places.c.email),
            func.min(places.c.municipality),
            func.min(places.c.organisation),
            func.min(places.c.organisation_type),
            expected,
            attended,
            (100 * attended) // expected,  # whole percent, the same on both databases
        )
        .group_by(places.c.person_key)
        .order_by((100 * attended) // expected, func.min(places.c.name), places.c.person_key)
    )


def _attendance_count(filters: ReportFilter) -> Select:
    places = _expected_places(filters).subquery("places")
    return select(func.count(distinct(places.c.person_key)))


@dataclass(frozen=True)
class Listing:
    """A number of the dashboard and the list of what it counts."""

    name: str
    label: str  # lazy: translated when shown
    header: tuple
    # how each column is shown: text, number, date, level, organisation_type
    kinds: tuple[str, ...]
    rows: Callable[[ReportFilter], Select]
    count: Callable[[ReportFilter], Select]
    indicator: Indicator | None = None


LISTINGS = {
    listing.name: listing
    for listing in (
        Listing(
            "trained",
            INDICATOR_LABELS[Indicator.TRAINED],
            _person_header(_l("Courses completed")),
            PERSON_KINDS,
            lambda f: _people_list(_trained_rows(f)),
            lambda f: _people_count(_trained_rows(f)),
            Indicator.TRAINED,
        ),
        Listing(
            "organisations",
            INDICATOR_LABELS[Indicator.ORGANISATIONS],
            (
                _l("Organisation"),
                _l("Organisation type"),
                _l("INN"),
                _l("Municipality"),
                _l("Course completions and projects"),
                _l("Latest date"),
            ),
            ("text", "organisation_type", "text", "text", "number", "date"),
            _organisations_list,
            _organisations_count,
            Indicator.ORGANISATIONS,
        ),
        Listing(
            "self_employed",
            INDICATOR_LABELS[Indicator.SELF_EMPLOYED],
            _person_header(_l("Courses completed and projects")),
            PERSON_KINDS,
            lambda f: _people_list(_self_employed_rows(f)),
            lambda f: _people_count(_self_employed_rows(f)),
            Indicator.SELF_EMPLOYED,
        ),
        Listing(
            "joint_prototypes",
            INDICATOR_LABELS[Indicator.JOINT_PROTOTYPES],
            (
                _l("Project"),
                _l("Programme"),
                _l("Level"),
                _l("Lead organisation"),
                _l("Municipality"),
                _l("Reached the prototype level"),
            ),
            ("text", "text", "number", "text", "text", "date"),
            _projects_list,
            _projects_count,
            Indicator.JOINT_PROTOTYPES,
        ),
        Listing(
            "reached",
            INDICATOR_LABELS[Indicator.REACHED],
            _person_header(_l("Sessions attended")),
            PERSON_KINDS,
            lambda f: _people_list(_reached_rows(f)),
            lambda f: _people_count(_reached_rows(f)),
            Indicator.REACHED,
        ),
        Listing(
            "attendance",
            _l("Attendance at course sessions"),
            (
                _l("Name"),
                _l("E-mail"),
                _l("Municipality"),
                _l("Organisation"),
                _l("Organisation type"),
                _l("Places expected"),
                _l("Attended"),
                _l("Attendance, %"),
            ),
            ("text", "text", "text", "text", "organisation_type", "number", "number", "number"),
            _attendance_list,
            _attendance_count,
        ),
        Listing(
            "certificates",
            _l("Certificates issued"),
            (
                _l("Serial number"),
                _l("Name"),
                _l("E-mail"),
                _l("Municipality"),
                _l("Course or event"),
                _l("Issued"),
            ),
            ("text", "text", "text", "text", "text", "date"),
            _certificates_list,
            _certificates_count,
        ),
    )
}


def listing_rows(listing: Listing, filters: ReportFilter) -> list[tuple]:
    """Every row of a list (the exports); pages of it come from `listing.rows(filters)`."""
    return [tuple(row) for row in db.session.execute(listing.rows(filters))]
