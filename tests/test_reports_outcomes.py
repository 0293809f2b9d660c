"""The dashboard's outcome figures (feedback response rate, average satisfaction, the entry
audit before / after) against a recomputation from the rows under every filter, their
lists, the funder's workbook, and a constant number of queries."""

import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from courses.models import Course, Direction, Programme
from events.models import Event, Registration, RegistrationStatus
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
from reports import outcomes
from reports.services import ReportFilter
from tests.conftest import login
from tests.reports_support import MUNICIPALITIES
from webapp.extensions import db
from webapp.models import User

ZONE = ZoneInfo("Europe/Moscow")
FILTERS = {
    "everything": {},
    "a period": {"date_from": date(2026, 3, 1), "date_to": date(2026, 6, 30)},
    "a programme": {"programme": 0},
    "a municipality": {"municipality": MUNICIPALITIES[1]},
    "all three": {"date_from": date(2026, 2, 1), "date_to": date(2026, 9, 30), "programme": 1,
                  "municipality": MUNICIPALITIES[0]},
}  # fmt: skip


@dataclass
class Invited:
    programme: int | None
    municipality: str | None
    on: date
    answered_on: date | None
    anonymous: bool
    marks: list[int]


def day_in_2026(chance: random.Random) -> date:
    return date(2026, 1, 1) + timedelta(days=chance.randrange(330))


def build(people: int, seed: int = 3) -> dict:
    chance = random.Random(seed)
    programmes = [Programme(title=f"Программа {n}") for n in range(2)]
    db.session.add_all(programmes)
    db.session.flush()
    events = [
        Course(title=f"Курс {n}", programme_id=programmes[n].id, level=1,
               direction=Direction.OTHER, visibility="published")
        for n in range(2)
    ] + [Event(kind="event", title="Форум", visibility="published")]  # fmt: skip
    db.session.add_all(events)
    db.session.flush()
    forms = []
    for number, event in enumerate(events * 2):
        form = FeedbackForm(event_id=event.id, title=f"Форма {number}", anonymous=number >= 3,
                            active=True)  # fmt: skip
        form.questions = [
            FeedbackQuestion(label="Оценка", kind=FeedbackKind.RATING5, position=0),
            FeedbackQuestion(label="Польза", kind=FeedbackKind.RATING5, position=1),
            FeedbackQuestion(label="NPS", kind=FeedbackKind.RATING10, position=2),
        ]
        forms.append(form)
    db.session.add_all(forms)
    db.session.flush()
    rows = []
    for number in range(people):
        municipality = chance.choice([*MUNICIPALITIES, None])
        user = User(email=f"p{seed}-{number}@example.org", full_name=f"Участник {number}",
                    password_hash="x", municipality=municipality)  # fmt: skip
        db.session.add(user)
        db.session.flush()
        for form in chance.sample(forms, 2):
            registration = db.session.scalar(
                db.select(Registration).where(
                    Registration.event_id == form.event_id, Registration.user_id == user.id
                )
            )
            if registration is None:
                registration = Registration(
                    event_id=form.event_id, user_id=user.id, full_name=user.full_name,
                    email=user.email, status=RegistrationStatus.CONFIRMED,
                    queue_number=number, ticket_secret=f"s{seed}x{number}x{form.id}",
                )  # fmt: skip
                db.session.add(registration)
                db.session.flush()
            on = day_in_2026(chance)
            invitation = FeedbackInvitation(
                form_id=form.id, registration_id=registration.id,
                token=f"t{seed}x{number}x{form.id}",
                invited_at=datetime.combine(on, time(12), UTC),
            )  # fmt: skip
            db.session.add(invitation)
            db.session.flush()
            answered_on = (
                on + timedelta(days=chance.randrange(20)) if chance.random() < 0.7 else None
            )
            marks = [chance.randint(1, 5), chance.randint(1, 5)]
            if answered_on:
                invitation.responded = True
                response = FeedbackResponse(
                    form_id=form.id, answered_on=answered_on,
                    invitation_id=None if form.anonymous else invitation.id,
                )  # fmt: skip
                response.answers = [
                    FeedbackAnswer(question_id=question.id, value=str(mark), number=mark)
                    for question, mark in zip(form.questions, [*marks, 9], strict=True)
                ]
                db.session.add(response)
            programme = next((n for n, e in enumerate(events[:2]) if e.id == form.event_id), None)
            rows.append(Invited(programme, municipality, on, answered_on, form.anonymous, marks))
    audits = []
    for number in range(max(3, people // 4)):
        project = Project(
            programme_id=programmes[number % 2].id, title=f"Проект {seed}-{number}",
            direction=Direction.OTHER, municipality=chance.choice(MUNICIPALITIES),
            started_on=date(2026, 1, 1),
        )  # fmt: skip
        db.session.add(project)
        db.session.flush()
        scores = []
        for _taken in range(chance.choice([1, 2, 3])):
            on = day_in_2026(chance)
            score = chance.randint(10, 95)
            db.session.add(ProjectAudit(
                project_id=project.id, level=1, answers={}, score=score, team=score,
                market=score, product=score, finances=score, legal=score, partners=score,
                taken_at=datetime.combine(on, time(12), UTC),
            ))  # fmt: skip
            scores.append((on, score))
        audits.append((number % 2, project.municipality, sorted(scores)))
    db.session.commit()
    return {"programme_ids": [p.id for p in programmes], "rows": rows, "audits": audits}


def in_period(day: date, chosen: dict) -> bool:
    return chosen.get("date_from", date.min) <= day <= chosen.get("date_to", date.max)


def expected(world: dict, chosen: dict) -> dict:
    programme, municipality = chosen.get("programme"), chosen.get("municipality")

    def belongs(row: Invited) -> bool:
        return programme is None or row.programme == programme

    invited = [r for r in world["rows"] if belongs(r) and in_period(r.on, chosen)
               and (municipality is None or r.municipality == municipality)]  # fmt: skip

    def named_in_place(row: Invited) -> bool:
        return municipality is None or (not row.anonymous and row.municipality == municipality)

    rated = [r for r in world["rows"] if belongs(r) and r.answered_on
             and in_period(r.answered_on, chosen) and named_in_place(r)]  # fmt: skip
    marks = [mark for r in rated for mark in r.marks]
    audited = [
        (scores[0][1], scores[-1][1])
        for project_programme, project_municipality, scores in world["audits"]
        if len(scores) >= 2 and in_period(scores[-1][0], chosen)
        and (programme is None or project_programme == programme)
        and (municipality is None or project_municipality == municipality)
    ]  # fmt: skip
    return {
        "invited": len(invited),
        "answered": sum(1 for r in invited if r.answered_on),
        "ratings": len(marks),
        "rating_total": sum(marks),
        "audited": len(audited),
        "before": sum(b for b, _ in audited) / len(audited) if audited else None,
        "after": sum(a for _, a in audited) / len(audited) if audited else None,
    }


def report_filter(world: dict, chosen: dict) -> ReportFilter:
    programme = chosen.get("programme")
    return ReportFilter(
        date_from=chosen.get("date_from"),
        date_to=chosen.get("date_to"),
        programme_id=None if programme is None else world["programme_ids"][programme],
        municipality=chosen.get("municipality"),
    )


@pytest.fixture
def world(app_ctx):
    return build(people=60)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_outcome_figures_match_a_recomputation_from_the_rows(world, name):
    chosen = FILTERS[name]
    found = outcomes.figures(report_filter(world, chosen))
    wanted = expected(world, chosen)
    for key, value in wanted.items():
        if isinstance(value, float):
            assert getattr(found, key) == pytest.approx(value), key
        else:
            assert getattr(found, key) == value, key
    assert world["rows"] and found.invited > 0 or name != "everything"


def test_the_world_has_what_the_figures_must_get_right(world):
    everything = outcomes.figures(ReportFilter())
    assert 0 < everything.answered < everything.invited
    assert everything.audited > 0 and everything.before != everything.after
    assert any(r.anonymous and r.answered_on for r in world["rows"])


def test_the_dashboard_shows_them_and_opens_their_lists(client, users, world, english):
    login(client, users["organiser"])
    chosen = FILTERS["a period"]
    args = {k: str(v) for k, v in chosen.items()}
    page = client.get("/reports/", query_string=args).get_data(as_text=True)
    found = outcomes.figures(report_filter(world, chosen))
    assert 'id="average-satisfaction"' in page and 'id="audit-before-after"' in page
    assert f"{found.answered} answered of {found.invited} invited" in page
    for name in ("feedback", "audits"):
        listing = client.get(f"/reports/{name}", query_string=args)
        assert listing.status_code == 200
        count = db.session.scalar(outcomes.LISTINGS[name].count(report_filter(world, chosen)))
        assert f'<span id="total">{count}</span>' in listing.get_data(as_text=True)
        assert client.get(f"/reports/{name}.xlsx", query_string=args).status_code == 200
    assert count == found.audited
    workbook = load_workbook(io.BytesIO(client.get("/reports/funder.xlsx", query_string=args).data))
    summary = {row[0]: row[1:] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["Response rate"][1] == found.answered
    assert summary["Average satisfaction (1–5)"][1] == round(found.satisfaction, 2)
    assert summary["Entry audit, average first score"][1] == round(found.before, 2)
    assert workbook["Entry audit before and after"].max_row - 1 == found.audited


def test_the_outcome_figures_cost_the_same_queries_whatever_the_data(client, users, count_queries):
    login(client, users["organiser"])
    build(people=6, seed=1)
    client.get("/reports/")
    pages = ["/reports/?date_from=2026-01-01", "/reports/feedback", "/reports/audits"]

    def counts() -> list[int]:
        found = []
        for url in pages:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            found.append(counter.count)
        return found

    small = counts()
    build(people=40, seed=2)
    assert counts() == small
