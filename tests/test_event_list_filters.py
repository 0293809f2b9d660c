"""The public events list: search, date range, format and municipality filters that work
together and with "past", a link to share the filtered list and each event's link, in a
constant number of queries."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.events_support import make_event
from webapp.extensions import db
from webapp.types import utcnow


def titles(client, **args) -> list[str]:
    response = client.get("/events/", query_string=args)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [
        part.split("</a>")[0].rsplit(">", 1)[-1]
        for part in html.split('class="stretched-link text-decoration-none"')[1:]
    ]


def noon_in(days: int) -> timedelta:
    """How far from now noon in Moscow is that many days on: the date filters count days in
    the centre's time zone, so an event begun at 22:00 there would end on the next day."""
    moscow = utcnow().astimezone(ZoneInfo("Europe/Moscow"))
    noon = moscow.replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return noon - moscow


@pytest.fixture
def events(app_ctx):
    return {
        "forum": make_event(
            "Форум НКО Новгорода", starts_in=noon_in(5), municipality="Великий Новгород"
        ),
        "webinar": make_event(
            "Вебинар о грантах",
            starts_in=noon_in(20),
            venue=None,
            address=None,
            online_url="https://meet.example.org/w",
        ),
        "hybrid": make_event(
            "Круглый стол в Старой Руссе",
            starts_in=noon_in(40),
            municipality="Старорусский район",
            online_url="https://meet.example.org/r",
        ),
        "past": make_event("Прошедший семинар", starts_in=noon_in(-30)),
    }


def test_search_in_any_case(client, events):
    assert titles(client, q="ГРАНТ") == ["Вебинар о грантах"]
    assert titles(client, q="нко новгород") == ["Форум НКО Новгорода"]


def test_format_and_municipality(client, events):
    assert titles(client, format="online") == ["Вебинар о грантах", "Круглый стол в Старой Руссе"]
    assert titles(client, format="offline") == [
        "Форум НКО Новгорода",
        "Круглый стол в Старой Руссе",
    ]
    assert titles(client, municipality="Великий Новгород") == ["Форум НКО Новгорода"]


def test_date_range_keeps_events_on_those_days(client, events):
    start = events["webinar"].sessions[0].starts_at.astimezone(ZoneInfo("Europe/Moscow")).date()
    found = titles(client, date_from=(start - timedelta(days=1)).isoformat(),
                   date_to=start.isoformat())  # fmt: skip
    assert found == ["Вебинар о грантах"]
    assert titles(client, date_from=(start + timedelta(days=1)).isoformat()) == [
        "Круглый стол в Старой Руссе"
    ]


def test_past_events_filter_too_and_bad_values_are_ignored(client, events):
    assert titles(client, when="past", q="семинар") == ["Прошедший семинар"]
    assert titles(client, when="past", q="форум") == []
    assert len(titles(client, date_from="31.02.2026", format="teleport", municipality="Марс")) == 3


def test_the_share_link_is_the_filtered_list_and_each_card_copies_its_link(client, events):
    html = client.get("/events/", query_string={"q": "форум", "format": "", "page": "1"}).get_data(
        as_text=True
    )
    assert 'value="http://tropa.test/events/?q=%D1%84%D0%BE%D1%80%D1%83%D0%BC"' in html
    assert f'data-copy-text="http://tropa.test/events/{events["forum"].id}"' in html


def test_the_list_costs_the_same_queries_for_3_or_30_events(client, app_ctx, count_queries):
    def build(count, prefix):
        for number in range(count):
            make_event(f"{prefix} {number}", starts_in=timedelta(days=3 + number))

    build(3, "Малый")
    client.get("/events/?q=малый")
    counted = []
    for prefix, count in (("Малый", 0), ("Большой", 30)):
        build(count, prefix)
        with count_queries() as counter:
            client.get("/events/", query_string={"q": prefix, "format": "offline"})
        counted.append(counter.count)
    assert counted[0] == counted[1], counted


def test_an_event_in_the_evening_counts_for_its_own_day(client, app_ctx):
    """Days are the centre's (Moscow): 23:30 on 10 March is on the 10th, not the 11th."""
    event = make_event("Вечерний семинар", starts_in=timedelta(days=400))
    evening = datetime(utcnow().year + 2, 3, 10, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    event.sessions[0].starts_at, event.sessions[0].ends_at = (
        evening,
        evening + timedelta(minutes=20),
    )
    db.session.commit()
    day = f"{evening.year}-03-10"
    assert titles(client, date_from=day, date_to=day) == ["Вечерний семинар"]
    assert titles(client, date_from=f"{evening.year}-03-11") == []


def test_the_organiser_sets_the_municipality_and_the_list_finds_the_event(client, users):
    from tests.conftest import login
    from tests.test_events_manage import event_form, only_event

    login(client, users["organiser"])
    new = event_form(municipality="Боровичский район")
    assert client.post("/manage/events/new", data=new).status_code == 302
    assert only_event().municipality == "Боровичский район"
    assert titles(client, municipality="Боровичский район") == ["Семинар «Гранты для НКО»"]
    unknown = event_form(title="Другое", municipality="Атлантида")
    assert client.post("/manage/events/new", data=unknown).status_code == 200  # a form error
    assert only_event().title == "Семинар «Гранты для НКО»"
