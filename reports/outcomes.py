"""The outcome figures of the dashboard and the funder's workbook: participants' feedback
(average satisfaction, response rate) and the entry audit before / after. Aggregates under
the dashboard's filters, in ONE statement for the dashboard (scalar subqueries), like
reports.services.dashboard.figures.

Definitions (the dashboard's help text says the same):
- *Response rate*: invitations to feedback forms sent in the period that were answered,
  divided by those sent. The municipality is the invited person's (as for every person).
- *Average satisfaction*: the mean of the 1–5 rating answers given in the period. With a
  municipality chosen, only named answers count (an anonymous answer belongs to nobody).
- With a programme chosen, both count the forms of its courses only (events have none).
- *Audit before / after*: for each project whose latest audit was taken in the period and
  that has at least two audits, the score of its first audit and of its latest; the
  dashboard shows the averages over those projects. Projects filter by their programme and
  municipality.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, Select, and_, case, cast, func, select, true
from sqlalchemy.orm import aliased

from courses.models import Course, Programme
from events.models import Event, Registration
from feedback.models import (
    FeedbackAnswer,
    FeedbackForm,
    FeedbackInvitation,
    FeedbackKind,
    FeedbackQuestion,
    FeedbackResponse,
)
from projects.models import Project
from projects.outcomes.models import ProjectAudit
from reports.services import ReportFilter
from reports.services.lists import Listing
from webapp.extensions import db
from webapp.models import Organisation, User

courses_table = Course.__table__


def _in_days(filters: ReportFilter, column):
    """A Date column within the period's days."""
    conditions = []
    if filters.date_from is not None:
        conditions.append(column >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(column <= filters.date_to)
    return and_(true(), *conditions)


def _person_municipality(select_from: Select) -> tuple[Select, object]:
    """Join a registration's person and organisation; their municipality expression."""
    person_org = aliased(Organisation, name="invited_org")
    query = select_from.outerjoin(User, User.id == Registration.user_id).outerjoin(
        person_org,
        person_org.id == func.coalesce(User.organisation_id, Registration.organisation_id),
    )
    return query, func.coalesce(User.municipality, person_org.municipality)


def _invitations(filters: ReportFilter):
    """(form_id, invited, answered) of the invitations sent in the period."""
    query = (
        select(
            FeedbackInvitation.form_id.label("form_id"),
            func.count().label("invited"),
            func.count().filter(FeedbackInvitation.responded.is_(True)).label("answered"),
        )
        .join(FeedbackForm, FeedbackForm.id == FeedbackInvitation.form_id)
        .outerjoin(courses_table, courses_table.c.id == FeedbackForm.event_id)
        .join(Registration, Registration.id == FeedbackInvitation.registration_id)
    )
    query, municipality = _person_municipality(query)
    return (
        query.where(
            filters.in_period(FeedbackInvitation.invited_at),
            filters.programme_is(courses_table.c.programme_id),
            filters.municipality_is(municipality),
        )
        .group_by(FeedbackInvitation.form_id)
        .subquery("invitations")
    )


def _ratings(filters: ReportFilter):
    """(form_id, ratings, total) of the 1–5 rating answers given in the period."""
    query = (
        select(
            FeedbackResponse.form_id.label("form_id"),
            func.count().label("ratings"),
            func.sum(FeedbackAnswer.number).label("total"),
        )
        .join(FeedbackAnswer, FeedbackAnswer.response_id == FeedbackResponse.id)
        .join(FeedbackQuestion, FeedbackQuestion.id == FeedbackAnswer.question_id)
        .join(FeedbackForm, FeedbackForm.id == FeedbackResponse.form_id)
        .outerjoin(courses_table, courses_table.c.id == FeedbackForm.event_id)
    )
    conditions = [
        FeedbackQuestion.kind == FeedbackKind.RATING5,
        _in_days(filters, FeedbackResponse.answered_on),
        filters.programme_is(courses_table.c.programme_id),
    ]
    if filters.municipality:
        query = query.join(
            FeedbackInvitation, FeedbackInvitation.id == FeedbackResponse.invitation_id
        ).join(Registration, Registration.id == FeedbackInvitation.registration_id)
        query, municipality = _person_municipality(query)
        conditions.append(filters.municipality_is(municipality))
    return query.where(*conditions).group_by(FeedbackResponse.form_id).subquery("ratings")


def _forms_list(filters: ReportFilter) -> Select:
    """One line per form with invitations or ratings in the period."""
    invitations, ratings = _invitations(filters), _ratings(filters)
    invited = func.coalesce(invitations.c.invited, 0)
    answered = func.coalesce(invitations.c.answered, 0)
    rate = case((invited > 0, (100 * answered) // invited), else_=None)
    average = func.round(cast(ratings.c.total, Numeric) / ratings.c.ratings, 2)
    return (
        select(FeedbackForm.title, Event.title, invited, answered, rate, average)
        .join(Event, Event.id == FeedbackForm.event_id)
        .outerjoin(invitations, invitations.c.form_id == FeedbackForm.id)
        .outerjoin(ratings, ratings.c.form_id == FeedbackForm.id)
        .where((invitations.c.form_id.is_not(None)) | (ratings.c.form_id.is_not(None)))
        .order_by(Event.title, FeedbackForm.title, FeedbackForm.id)
    )


def _forms_count(filters: ReportFilter) -> Select:
    return select(func.count()).select_from(_forms_list(filters).subquery())


def _audited_projects(filters: ReportFilter):
    """Projects with at least two audits whose latest is in the period: first and latest
    scores."""
    numbered = select(
        ProjectAudit.project_id,
        ProjectAudit.score,
        ProjectAudit.taken_at,
        func.row_number()
        .over(
            partition_by=ProjectAudit.project_id, order_by=(ProjectAudit.taken_at, ProjectAudit.id)
        )
        .label("first_rank"),
        func.row_number()
        .over(
            partition_by=ProjectAudit.project_id,
            order_by=(ProjectAudit.taken_at.desc(), ProjectAudit.id.desc()),
        )
        .label("last_rank"),
        func.count().over(partition_by=ProjectAudit.project_id).label("audits"),
    ).subquery("numbered")
    first = aliased(numbered, name="first_audit")
    latest = aliased(numbered, name="latest_audit")
    return (
        select(
            Project.id.label("project_id"),
            Project.title,
            Programme.title.label("programme"),
            Project.municipality,
            Project.level,
            first.c.score.label("before"),
            latest.c.score.label("after"),
            latest.c.taken_at,
        )
        .join(Programme, Programme.id == Project.programme_id)
        .join(first, and_(first.c.project_id == Project.id, first.c.first_rank == 1))
        .join(latest, and_(latest.c.project_id == Project.id, latest.c.last_rank == 1))
        .where(
            latest.c.audits >= 2,
            filters.in_period(latest.c.taken_at),
            filters.programme_is(Project.programme_id),
            filters.municipality_is(Project.municipality),
        )
    )


def _audits_list(filters: ReportFilter) -> Select:
    audited = _audited_projects(filters).subquery()
    return select(
        audited.c.title,
        audited.c.programme,
        audited.c.municipality,
        audited.c.level,
        audited.c.before,
        audited.c.after,
        audited.c.after - audited.c.before,
        audited.c.taken_at,
    ).order_by(audited.c.title, audited.c.project_id)


def _audits_count(filters: ReportFilter) -> Select:
    return select(func.count()).select_from(_audited_projects(filters).subquery())


LISTINGS = {
    listing.name: listing
    for listing in (
        Listing(
            "feedback",
            _l("Feedback by form"),
            (
                _l("Form"),
                _l("Course or event"),
                _l("Invited"),
                _l("Answered"),
                _l("Response rate, %"),
                _l("Average satisfaction (1–5)"),
            ),
            ("text", "text", "number", "number", "number", "number"),
            _forms_list,
            _forms_count,
        ),
        Listing(
            "audits",
            _l("Entry audit before and after"),
            (
                _l("Project"),
                _l("Programme"),
                _l("Municipality"),
                _l("Level"),
                _l("First audit"),
                _l("Latest audit"),
                _l("Change"),
                _l("Latest audit taken"),
            ),
            ("text", "text", "text", "number", "number", "number", "number", "date"),
            _audits_list,
            _audits_count,
        ),
    )
}


@dataclass
class OutcomeFigures:
    invited: int
    answered: int
    ratings: int
    rating_total: int
    audited: int
    before: float | None
    after: float | None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None

    @property
    def satisfaction(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None


def figures(filters: ReportFilter) -> OutcomeFigures:
    """Every outcome figure in ONE statement."""
    invitations, ratings = _invitations(filters), _ratings(filters)
    audited = _audited_projects(filters).subquery("audited")
    row = db.session.execute(
        select(
            select(func.coalesce(func.sum(invitations.c.invited), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(invitations.c.answered), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(ratings.c.ratings), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(ratings.c.total), 0)).scalar_subquery(),
            select(func.count()).select_from(audited).scalar_subquery(),
            select(func.avg(audited.c.before)).scalar_subquery(),
            select(func.avg(audited.c.after)).scalar_subquery(),
        )
    ).one()
    invited, answered, count, total, projects, before, after = row
    return OutcomeFigures(
        invited=int(invited),
        answered=int(answered),
        ratings=int(count),
        rating_total=int(total),
        audited=int(projects),
        before=float(before) if before is not None else None,
        after=float(after) if after is not None else None,
    )


def summary_rows(outcome: OutcomeFigures) -> list[list]:
    """The workbook summary's lines for the outcomes."""
    return [
        [str(_l("Response rate")), None, outcome.answered, _percent(outcome.response_rate)],
        [str(_l("Average satisfaction (1–5)")), None, _round(outcome.satisfaction), None],
        [str(_l("Entry audit, average first score")), None, _round(outcome.before), None],
        [str(_l("Entry audit, average latest score")), None, _round(outcome.after), None],
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)
