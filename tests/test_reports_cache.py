"""The dashboard's figures kept per process (reports.services.dashboard.dashboard_data): the
report stamp's triggers cover every table the figures come from, and whatever writes one of
them — the door's check-in, its undo, a service, plain SQL from another process — the next
request computes the figures anew; so does the start of a session (the attendance rate
counts past sessions)."""

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text, update

from certificates.models import Certificate
from certificates.services import issuing
from events.models import Registration, RegistrationStatus
from events.services import checkin
from reports import services
from reports.models import STAMPED_TABLES
from reports.services import dashboard
from tests.checkin_support import bearer, make_event, register, token_for
from tests.conftest import login
from tests.reports_support import MUNICIPALITIES, build_world
from webapp.extensions import db

FILTERS = [
    services.ReportFilter(),
    services.ReportFilter(
        date_from=date(2026, 3, 1), date_to=date(2026, 10, 31), municipality=MUNICIPALITIES[0]
    ),
]


def figure(name: str, filters: services.ReportFilter = FILTERS[0]) -> int:
    db.session.commit()  # a new read transaction: what the last request wrote is seen
    return dashboard.dashboard_data(filters).figures.values[name]


def tables_in(statements: list[str]) -> set[str]:
    named = set()
    for statement in statements:
        named |= set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", statement))
    return named & set(db.metadata.tables)


def test_the_stamped_tables_are_the_tables_the_figures_come_from(app_ctx, count_queries):
    build_world(people=8)
    found = set()
    for filters in [*FILTERS, services.ReportFilter(programme_id=1)]:
        with count_queries() as counter:
            dashboard._compute(filters)
        found |= tables_in(counter.statements)
    assert found == STAMPED_TABLES


def test_every_stamped_table_has_its_trigger(app_ctx):
    if db.engine.dialect.name == "postgresql":
        triggered = db.session.scalars(
            text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = 'report_stamp'"
            )
        ).all()
        assert sorted(triggered) == sorted(STAMPED_TABLES)
    else:
        triggered = db.session.scalars(
            text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        assert sorted(set(triggered)) == sorted(STAMPED_TABLES)
        assert len(triggered) == 3 * len(STAMPED_TABLES)  # insert, update, delete


def test_the_doors_check_in_and_its_undo_are_seen_at_once(client, users):
    forum = make_event("Форум НКО")
    anna = register(forum, "Анна Смирнова", email="anna.s@example.org")
    assert figure("reached") == 0
    body = {"secret": anna.ticket_secret, "event_id": forum.id, "nonce": "n1"}
    answer = client.post(
        "/api/v1/checkin",
        data=json.dumps(body),
        content_type="application/json",
        headers=bearer(token_for(users["organiser"])),
    ).get_json()
    assert answer["status"] == "ok"
    assert figure("reached") == 1
    checkin.undo_check_in(
        event_id=forum.id,
        registration_id=anna.id,
        session_id=forum.sessions[0].id,
        by_user=users["organiser"],
    )
    assert figure("reached") == 0


def test_a_service_write_is_seen_at_once_by_every_filter(app_ctx, users):
    build_world(people=24)
    before = [figure("certificates", filters) for filters in FILTERS]
    certificate = db.session.scalars(
        db.select(Certificate).where(Certificate.revoked_at.is_(None))
    ).first()
    issuing.revoke(certificate.id, "Ошибка в данных", users["organiser"])
    after = [figure("certificates", filters) for filters in FILTERS]
    assert after[0] == before[0] - 1
    assert after == [dashboard.figures(filters).values["certificates"] for filters in FILTERS]


def test_a_write_by_another_process_is_seen_at_once(app_ctx):
    build_world(people=24)
    trained = figure("trained")
    # another worker's connection, outside this session: plain SQL, no signal, no ORM
    with db.engine.begin() as other_process:
        other_process.execute(
            update(Registration).where(Registration.status == RegistrationStatus.CONFIRMED)
            .values(status=RegistrationStatus.CANCELLED)
        )  # fmt: skip
        other_process.execute(text("DELETE FROM course_completions"))
    assert trained > 0
    assert figure("trained") == 0


def test_the_start_of_a_session_is_seen_without_a_write(app_ctx, make_course, monkeypatch):
    course = make_course(sessions=1)
    enrolled = register(course, "Анна Смирнова", RegistrationStatus.CONFIRMED)
    assert enrolled.status == RegistrationStatus.CONFIRMED
    db.session.commit()
    assert dashboard.dashboard_data(FILTERS[0]).figures.expected_places == 0
    later = course.sessions[0].starts_at + timedelta(minutes=1)
    for module in ("webapp.caching", "reports.services.lists", "reports.services.dashboard"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: later)
    assert dashboard.dashboard_data(FILTERS[0]).figures.expected_places == 1


@pytest.mark.usefixtures("english")
def test_the_dashboard_and_the_workbook_write_nothing(client, users, count_queries):
    build_world(people=8)
    login(client, users["organiser"])
    writes = re.compile(r"\s*(INSERT|UPDATE|DELETE)", re.I)
    pages = ["/reports/", "/reports/", "/reports/funder.xlsx", "/reports/?date_from=2026-01-01"]
    for page in pages:
        with count_queries() as counter:
            assert client.get(page).status_code == 200
        assert not [s for s in counter.statements if writes.match(s)], page
