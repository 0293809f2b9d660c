"""The monitoring dashboard: its figures against an independent recomputation from the rows,
the lists and exports behind them, the funder's workbook, targets, bad filters and the
constant number of queries."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from events.models import Attendance, AttendanceMethod, Event, Registration, Session
from reports import services
from reports.models import DEFAULT_TARGETS, Indicator, ProgrammeTarget
from reports.services import ReportError, dashboard, lists, targets
from tests.conftest import login as sign_in
from tests.reports_support import MUNICIPALITIES, Period, build_world, expected_figures
from webapp.export import sheet_title
from webapp.extensions import db
from webapp.services import random_secret
from webapp.types import utcnow

pytestmark = pytest.mark.usefixtures("english")  # assertions read the English texts

FILTERS = {
    "everything": {},
    "a period": {"date_from": date(2026, 2, 1), "date_to": date(2026, 6, 30)},
    "from a date": {"date_from": date(2026, 5, 1)},
    "up to a date": {"date_to": date(2026, 4, 15)},
    "a programme": {"programme": 0},
    "a municipality": {"municipality": MUNICIPALITIES[1]},
    "all three": {
        "date_from": date(2026, 3, 1),
        "date_to": date(2026, 10, 31),
        "programme": 1,
        "municipality": MUNICIPALITIES[0],
    },
}


def report_filter(world: dict, chosen: dict) -> services.ReportFilter:
    programme = chosen.get("programme")
    return services.ReportFilter(
        date_from=chosen.get("date_from"),
        date_to=chosen.get("date_to"),
        programme_id=None if programme is None else world["programme_ids"][programme],
        municipality=chosen.get("municipality"),
    )


def query_string(world: dict, chosen: dict) -> dict:
    args = {key: str(value) for key, value in chosen.items() if key != "programme"}
    if "programme" in chosen:
        args["programme"] = str(world["programme_ids"][chosen["programme"]])
    return args


def login(client, user) -> None:
    """Signed in, in English: the assertions read the English messages."""
    sign_in(client, user)
    client.get("/lang/en")


@pytest.fixture
def world(app_ctx):
    return build_world(people=90)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_figure_matches_a_recomputation_from_the_rows(world, name):
    filters = report_filter(world, FILTERS[name])
    expected = expected_figures(
        Period(filters.date_from, filters.date_to),
        filters.programme_id,
        filters.municipality,
        utcnow(),
    )
    figures = dashboard.figures(filters)
    for listing in lists.LISTINGS:
        assert figures.values[listing] == expected[listing], listing
    assert figures.expected_places == expected["expected_places"]
    assert figures.attended_places == expected["attended_places"]
    months = {
        month: [courses, events]
        for month, courses, events in dashboard.registrations_by_month(filters)
    }
    assert {m: v for m, v in months.items() if v != [0, 0]} == expected["months"]


def test_the_world_holds_the_cases_the_figures_must_get_right(world):
    """Guards the recomputation test: it proves little on a world without these."""
    figures = dashboard.figures(services.ReportFilter())
    assert all(figures.values[name] > 0 for name in lists.LISTINGS), figures.values
    assert 0 < figures.attended_places < figures.expected_places
    guest_emails = db.session.scalars(
        db.select(Registration.email).where(Registration.user_id.is_(None))
    ).all()
    assert len(set(guest_emails)) > len({email.lower() for email in guest_emails})


def test_a_guest_is_one_person_whatever_the_case_of_the_email(app_ctx):
    starts = datetime(2026, 3, 1, 10, tzinfo=UTC)
    for number, email in enumerate(["Guest@Example.org", "guest@example.org"]):
        event = Event(kind="event", title=f"Форум {number}")
        event.sessions.append(Session(starts_at=starts, ends_at=starts + timedelta(hours=2)))
        registration = Registration(
            event=event,
            full_name="Гость",
            email=email,
            status="confirmed",
            queue_number=1,
            ticket_secret=random_secret(),
        )
        db.session.add_all([event, registration])
        db.session.flush()
        db.session.add(
            Attendance(
                registration_id=registration.id,
                session_id=event.sessions[0].id,
                status="present",
                method=AttendanceMethod.DOOR,
            )
        )
    db.session.commit()
    assert dashboard.figures(services.ReportFilter()).values["reached"] == 1


def test_the_dashboard_shows_the_figures_with_their_targets(client, users, world):
    login(client, users["organiser"])
    chosen = FILTERS["a period"]
    response = client.get("/reports/", query_string=query_string(world, chosen))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    figures = dashboard.figures(report_filter(world, chosen))
    for name, value in figures.values.items():
        assert f'data-indicator="{name}"' in page
        if name != "attendance":  # its link shows the rate; its list counts the people
            assert f">{value}</a>" in page, name
    for indicator in Indicator:
        assert indicator.label in page
    assert "chart.umd.js" in page and 'id="registrations-table"' in page
    assert "What the figures mean" in page


def test_the_dashboard_runs_the_same_number_of_queries_whatever_the_data(
    client, users, count_queries
):
    """Computed (new filters, or the data changed) or kept by the process (the same filters
    and data): each a constant number of statements."""
    login(client, users["organiser"])
    build_world(people=8, seed=1)
    client.get("/reports/")  # warm-up: templates compiled
    with count_queries() as small:
        assert client.get("/reports/?date_from=2026-01-01").status_code == 200
    build_world(people=60, seed=2)
    with count_queries() as large:
        assert client.get("/reports/?date_from=2026-01-01").status_code == 200
    with count_queries() as kept:
        assert client.get("/reports/?date_from=2026-01-01").status_code == 200
    assert small.count == large.count, (small.statements, large.statements)
    assert large.count <= 9, large.statements
    # the user and roles, the programmes (the filter's choices), the stamp, the targets
    assert kept.count <= 5, kept.statements


@pytest.mark.parametrize("name", sorted(lists.LISTINGS))
def test_each_number_opens_into_its_list_and_export(client, users, world, name):
    login(client, users["organiser"])
    chosen = FILTERS["all three"] if name != "reached" else FILTERS["a municipality"]
    args = query_string(world, chosen)
    value = dashboard.figures(report_filter(world, chosen)).values[name]
    page = client.get(f"/reports/{name}", query_string=args)
    assert page.status_code == 200
    assert f'<span id="total">{value}</span>' in page.get_data(as_text=True)
    export = client.get(f"/reports/{name}.xlsx", query_string=args)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    assert sheet.max_row - 1 == value


def test_a_list_pages_through_its_rows(client, users, world):
    login(client, users["organiser"])
    total = dashboard.figures(services.ReportFilter()).values["trained"]
    first = client.get("/reports/trained").get_data(as_text=True)
    assert first.count("<tr>") - 1 == min(total, 50)
    assert client.get("/reports/trained?page=99").status_code == 200


def test_the_funder_workbook_has_the_dashboards_numbers(client, users, world):
    login(client, users["organiser"])
    chosen = FILTERS["a period"]
    response = client.get("/reports/funder.xlsx", query_string=query_string(world, chosen))
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Report%20for%20the%20funder" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    figures = dashboard.figures(report_filter(world, chosen))
    summary = {row[0]: row[1:] for row in workbook["Summary"].iter_rows(values_only=True)}
    for indicator in Indicator:
        target, value, percent = summary[indicator.label]
        assert value == figures.values[indicator.value]
        assert target == DEFAULT_TARGETS[indicator]
        assert percent == round(100 * value / target, 1)
    assert summary["Certificates issued"][1] == figures.values["certificates"]
    for listing in lists.LISTINGS.values():
        sheet = workbook[sheet_title(listing.label)]
        assert sheet.max_row - 1 == figures.values[listing.name], listing.name
    assert summary["Period"][0] == "1 February 2026 — 30 June 2026"
    everything = client.get("/reports/funder.xlsx", query_string=query_string(world, {}))
    rows = load_workbook(io.BytesIO(everything.data))["Summary"].iter_rows(values_only=True)
    assert "Period" not in {row[0] for row in rows}  # no "… — …" without a period


def test_sheet_names_are_cut_after_a_whole_word():
    assert sheet_title("Посещаемость: курс [весна]") == "Посещаемость курс весна"
    long = sheet_title("Самозанятые, прошедшие обучение или участвующие в проектах")
    assert long == "Самозанятые, прошедшие…" and len(long) <= 31
    assert len(sheet_title("Х" * 40)) == 31


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"date_from": "2026-02-30"}, "Not a valid date value"),
        ({"date_to": "yesterday"}, "Not a valid date value"),
        ({"date_to": "9999-12-31"}, "Choose a date from 2000 to 2100"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "before its start"),
        ({"programme": "abc"}, "Not a valid choice"),
        ({"municipality": "Атлантида"}, "Not a valid choice"),
    ],
)
@pytest.mark.parametrize("url", ["/reports/", "/reports/trained", "/reports/funder.xlsx"])
def test_bad_filters_get_a_clear_message(client, users, url, args, message):
    login(client, users["organiser"])
    response = client.get(url, query_string=args)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_targets_are_edited_per_programme(client, users, world):
    login(client, users["organiser"])
    first, second = world["programme_ids"]
    assert client.get("/reports/targets").status_code == 200
    response = client.post(
        "/reports/targets",
        data={
            f"target_{first}_trained": "30",
            f"target_{second}_trained": "25",
            f"target_{first}_reached": "0",
        },
    )
    assert response.status_code == 302
    assert targets.targets(first)[Indicator.TRAINED] == 30
    assert targets.targets(first)[Indicator.REACHED] == 0
    assert (
        targets.targets(first)[Indicator.SELF_EMPLOYED] == DEFAULT_TARGETS[Indicator.SELF_EMPLOYED]
    )
    everything = targets.targets(None)
    assert everything[Indicator.TRAINED] == 55  # the sum of those set
    assert everything[Indicator.REACHED] == 0
    assert everything[Indicator.ORGANISATIONS] == DEFAULT_TARGETS[Indicator.ORGANISATIONS]
    page = client.get(f"/reports/?programme={first}").get_data(as_text=True)
    assert "of 30" in page and "No target" in page


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "10000001"])
def test_a_target_must_be_a_whole_number_from_zero(client, users, world, bad):
    login(client, users["organiser"])
    first = world["programme_ids"][0]
    db.session.add(ProgrammeTarget(programme_id=first, indicator=Indicator.TRAINED, target=7))
    db.session.commit()
    response = client.post("/reports/targets", data={f"target_{first}_trained": bad})
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    assert targets.targets(first)[Indicator.TRAINED] == 7  # nothing saved


def test_the_service_refuses_a_negative_target_whoever_calls_it(app_ctx, world):
    first = world["programme_ids"][0]
    with pytest.raises(ReportError) as refused:
        targets.save_targets({(first, Indicator.TRAINED): 5, (first, Indicator.REACHED): -1})
    assert refused.value.reason == "target_invalid"
    assert targets.targets(first)[Indicator.TRAINED] == DEFAULT_TARGETS[Indicator.TRAINED]


def test_numbers_follow_the_users_language(client, users, world):
    login(client, users["organiser"])
    client.get("/lang/ru")
    page = client.get("/reports/").get_data(as_text=True)
    assert "\xa0%" in page  # Russian puts a no-break space before the per cent sign


def test_the_navbar_links_the_dashboard_for_organisers_only(app_ctx, users):
    for role, shown in [("participant", False), ("trainer", False), ("organiser", True)]:
        client = app_ctx.test_client()
        login(client, users[role])
        assert ('href="/reports/"' in client.get("/").get_data(as_text=True)) == shown, role


def test_the_attendance_list_adds_up_to_the_dashboards_rate(world):
    filters = services.ReportFilter()
    figures = dashboard.figures(filters)
    rows = lists.listing_rows(lists.LISTINGS["attendance"], filters)
    assert len(rows) == figures.values["attendance"]
    assert sum(row[5] for row in rows) == figures.expected_places
    assert sum(row[6] for row in rows) == figures.attended_places
    assert [row[7] for row in rows] == [100 * row[6] // row[5] for row in rows], rows[:5]
    assert [row[7] for row in rows] == sorted(row[7] for row in rows), "lowest rates first"
