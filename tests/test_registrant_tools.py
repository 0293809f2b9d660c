"""The registrant list at 150+ people: compact rows (answers folded away), server-side
sorting by whitelisted columns, bulk actions on the picked people in one unit of work with
every refusal reported, the printable door list and the name badges (PDF, QR codes read
back with zxing-cpp), all in a constant number of queries."""

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from events.models import Attendance, Registration, RegistrationStatus
from events.services import bulk, seats
from tests.conftest import make_user
from tests.events_support import decode, pdf_page_images
from tests.test_registrants import fill, list_url, make_event, names_on, register, statuses_of
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, OutboxMessage, Role

Status = RegistrationStatus
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def organiser(client, users):
    from tests.conftest import login

    client.get("/lang/en")
    login(client, users["organiser"])
    return users["organiser"]


def organisation(name: str) -> Organisation:
    found = Organisation(name=name, type=OrganisationType.SONKO)
    db.session.add(found)
    db.session.commit()
    return found


def people(event, *names: str, **fields) -> list[Registration]:
    return [
        register(event, name, f"p{number}@example.org", **fields)
        for number, name in enumerate(names)
    ]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- the list ---------------------------------------------------------------------------


def test_rows_are_compact_with_answers_folded_away(client, organiser):
    event = make_event()
    fill(event, 3)
    html = client.get(list_url(event)).get_data(as_text=True)
    assert html.count('<details class="small answers">') == 3
    assert "Actions" not in html, "no status buttons in each row: the bulk bar does it"
    assert html.count('name="ids" value=') == 3


def test_columns_sort_on_the_server_both_ways_and_unknown_keys_are_ignored(client, organiser):
    event = make_event()
    ooo, yablоko = organisation("ООО «Яблоко»"), organisation("АНО «Берёза»")
    register(event, "Борисов Борис", "b@example.org", organisation_id=ooo.id)
    register(event, "ёлкина Анна", "e@example.org", organisation_id=yablоko.id)
    register(event, "Андреев Андрей", "a@example.org")
    seats.change_status(
        db.session.scalar(select(Registration.id).where(Registration.email == "a@example.org")),
        Status.WAITLISTED,
    )

    assert names_on(client.get(list_url(event, sort="name"))) == [
        "Андреев Андрей",
        "Борисов Борис",
        "ёлкина Анна",  # ё as е, any case
    ]
    assert names_on(client.get(list_url(event, sort="-name")))[0] == "ёлкина Анна"
    assert names_on(client.get(list_url(event, sort="organisation"))) == [
        "ёлкина Анна",
        "Борисов Борис",
        "Андреев Андрей",  # no organisation: last both ways
    ]
    assert names_on(client.get(list_url(event, sort="-organisation")))[-1] == "Андреев Андрей"
    assert names_on(client.get(list_url(event, sort="status")))[-1] == "Андреев Андрей"
    assert names_on(client.get(list_url(event, sort="-registered")))[0] == "Андреев Андрей"
    for unknown in ("password_hash", "--name", "name;drop", "-"):
        assert client.get(list_url(event, sort=unknown)).status_code == 200


def test_a_sorted_page_costs_the_same_queries_for_10_or_160_people(
    client, organiser, count_queries
):
    small, big = make_event(capacity=5, title="Small"), make_event(capacity=5, title="Big")
    fill(small, 10, "s")
    fill(big, 160, "b")
    client.get(list_url(small))
    for sort in ("name", "-organisation", "status"):
        counted = {}
        for event in (small, big):
            with count_queries() as counter:
                assert client.get(list_url(event, sort=sort)).status_code == 200
            counted[event.title] = counter.count
        assert counted["Small"] == counted["Big"], (sort, counted)


# --- bulk actions --------------------------------------------------------------------------


def post_bulk(client, event, ids, action, **extra):
    data = {"ids": [str(i) for i in ids], "action": action, **extra}
    return client.post(
        f"/manage/events/{event.id}/registrants/bulk", data=data, follow_redirects=True
    )


def test_approve_many_reports_who_got_a_place_and_who_was_not_pending(client, organiser):
    event = make_event(capacity=2, requires_approval=True)
    anna, boris, vera = people(event, "Анна", "Борис", "Вера")
    seats.approve(vera.id)

    html = post_bulk(client, event, [anna.id, boris.id, vera.id], "approve").get_data(as_text=True)
    assert "Approve: done for 2 people: Анна, Борис." in html
    assert "Вера: not done. This change of status is not possible." in html
    assert statuses_of(event) == {
        "p0@example.org": Status.CONFIRMED,
        "p1@example.org": Status.WAITLISTED,  # one place was left after Вера
        "p2@example.org": Status.CONFIRMED,
    }


def test_confirm_many_stops_at_the_capacity_and_names_the_rest(client, organiser):
    event = make_event(capacity=1)
    people(event, "Анна", "Борис", "Вера")  # Анна confirmed, the others wait
    waiting = db.session.scalars(
        select(Registration.id).where(Registration.status == Status.WAITLISTED)
    ).all()
    seats.cancel(people_ids(event)[0])  # Борис is promoted, Вера still waits

    html = post_bulk(client, event, people_ids(event), "confirm").get_data(as_text=True)
    assert "Борис: not done. The registration is in this state already." in html
    assert "Вера: not done. There are no free places." in html
    assert "Анна: not done. There are no free places." in html
    assert len(waiting) == 2


def people_ids(event) -> list[int]:
    return db.session.scalars(
        select(Registration.id).where(Registration.event_id == event.id).order_by(Registration.id)
    ).all()


def test_cancel_many_in_one_unit_promotes_the_waiting_list_once(client, organiser):
    event = make_event(capacity=2)
    anna, boris, vera, gleb = people(event, "Анна", "Борис", "Вера", "Глеб")
    html = post_bulk(client, event, [anna.id, boris.id], "cancel").get_data(as_text=True)
    assert "Cancel: done for 2 people: Анна, Борис." in html
    assert "Promoted from the waiting list: Вера, Глеб" in html
    assert statuses_of(event)["p2@example.org"] == Status.CONFIRMED


def test_a_failure_in_the_middle_leaves_nothing_half_done(app_ctx, monkeypatch):
    event = make_event(capacity=10)
    anna, boris = people(event, "Анна", "Борис")
    calls = []
    real_cancel = seats.cancel

    def cancel_then_break(registration_id):
        calls.append(registration_id)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_cancel(registration_id)

    monkeypatch.setattr(seats, "cancel", cancel_then_break)
    with pytest.raises(RuntimeError):
        bulk.apply(event, [anna.id, boris.id], bulk.CANCEL)
    db.session.expire_all()
    assert set(statuses_of(event).values()) == {Status.CONFIRMED}, "the first was rolled back"
    cancelled_mail = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.template == "events/mail/cancelled"
    )
    assert db.session.scalar(cancelled_mail) == 0


def test_check_in_many_marks_the_confirmed_and_names_the_others(client, organiser):
    event = make_event(capacity=1)
    anna, boris = people(event, "Анна", "Борис")  # Борис waits
    html = post_bulk(client, event, [anna.id, boris.id], "check_in").get_data(as_text=True)
    assert "Check in: done for 1 person: Анна." in html
    assert "Борис: not done. Only confirmed people are checked in." in html
    html = post_bulk(client, event, [anna.id], "check_in").get_data(as_text=True)
    assert "Анна: not done. Already checked in." in html
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


def test_write_to_the_picked_people(client, organiser):
    event = make_event()
    anna, boris, vera = people(event, "Анна", "Борис", "Вера")
    seats.cancel(vera.id)
    html = post_bulk(client, event, [anna.id, vera.id], "message").get_data(as_text=True)
    assert "Write the subject and the text of the message." in html

    html = post_bulk(
        client, event, [anna.id, vera.id], "message", subject="Парковка", body="Вход с Парковой"
    ).get_data(as_text=True)
    assert "Write a message: done for 1 person: Анна." in html
    assert "Вера: not done. The registration is cancelled." in html
    sent = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.template == "events/mail/announcement")
    ).all()
    assert sent == ["p0@example.org"]


def test_ids_of_another_event_are_ignored_and_nobody_picked_is_refused(client, organiser):
    event, other = make_event(), make_event(title="Другое")
    [stranger] = people(other, "Чужой")
    html = post_bulk(client, event, [stranger.id], "cancel").get_data(as_text=True)
    assert "Cancel: done" not in html
    assert statuses_of(other)["p0@example.org"] == Status.CONFIRMED
    assert "Pick at least one person" in post_bulk(client, event, [], "cancel").get_data(
        as_text=True
    )
    assert "Nothing was changed" in post_bulk(client, event, [1], "delete").get_data(as_text=True)


def test_bulk_needs_the_csrf_token_and_an_organiser(client, users, make_app):
    event = make_event()
    [anna] = people(event, "Анна")
    app = make_app({"WTF_CSRF_ENABLED": True})
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = users["organiser"].get_id()
        session["_fresh"] = True
    url = f"/manage/events/{event.id}/registrants/bulk"
    other.post(url, data={"ids": [str(anna.id)], "action": "cancel"})
    assert statuses_of(event)["p0@example.org"] == Status.CONFIRMED
    html = other.get(f"/manage/events/{event.id}/registrants").get_data(as_text=True)
    token = CSRF_FIELD.search(html.split('id="bulk"')[1]).group(1)
    other.post(url, data={"ids": [str(anna.id)], "action": "cancel", "csrf_token": token})
    db.session.expire_all()
    assert statuses_of(event)["p0@example.org"] == Status.CANCELLED

    staff = make_user("staff@example.org", Role.PARTICIPANT)
    event.staff.append(staff)
    db.session.commit()
    with other.session_transaction() as session:
        session["_user_id"] = staff.get_id()
    refused = other.post(
        url, data={"ids": [str(anna.id)], "action": "confirm", "csrf_token": token}
    )
    assert refused.status_code == 403


# --- door list and badges -------------------------------------------------------------------


def test_the_door_list_is_alphabetical_with_a_box_per_confirmed_person(client, organiser):
    event = make_event(capacity=3)
    hope = organisation("АНО «Надежда»")
    people(event, "Юрьева Юлия", "ёжиков Егор", "Абрамов Антон", "Кто Опоздал")
    register(event, "Васильева Вера", "v@example.org", organisation_id=hope.id)  # waits

    response = client.get(f"/manage/events/{event.id}/door-list.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    order = [text.index(name) for name in ("Абрамов Антон", "ёжиков Егор", "Юрьева Юлия")]
    assert order == sorted(order)
    assert "Кто Опоздал" not in text and "Васильева" not in text  # only the confirmed
    assert text.count("☐") == 4  # the header's and one per person
    assert "Confirmed: 3" in text


def test_badges_carry_name_organisation_and_the_tickets_qr_code(client, organiser):
    event = make_event(capacity=20)
    hope = organisation("АНО «Надежда»")
    registrations = [
        register(event, f"Участник Номер{n:02d}", f"u{n}@example.org", organisation_id=hope.id)
        for n in range(9)
    ]
    response = client.get(f"/manage/events/{event.id}/badges.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2, "8 badges to an A4 sheet"
    text = pdf_text(response.data)
    assert "Участник Номер00" in text and "АНО «Надежда»" in text
    first_sheet = pdf_page_images(response.data, dpi=200)[0]
    found = set(decode(first_sheet))
    expected = {f"http://tropa.test/t/{r.ticket_secret}" for r in registrations[:8]}
    assert found == expected


def test_door_list_and_badges_cost_the_same_queries_for_5_or_60_people(
    client, organiser, count_queries
):
    small, big = make_event(title="Small"), make_event(title="Big")
    hope = organisation("АНО «Надежда»")
    for event, count in ((small, 5), (big, 60)):
        for n in range(count):
            register(event, f"Гость {n}", f"g{n}@example.org", organisation_id=hope.id)
    for kind in ("door-list", "badges"):
        client.get(f"/manage/events/{small.id}/{kind}.pdf")
        counted = {}
        for event in (small, big):
            with count_queries() as counter:
                assert client.get(f"/manage/events/{event.id}/{kind}.pdf").status_code == 200
            counted[event.title] = counter.count
        assert counted["Small"] == counted["Big"], (kind, counted)


def test_staff_print_the_door_list_but_not_badges(client, users):
    from tests.conftest import login

    event = make_event()
    staff = make_user("staff@example.org", Role.PARTICIPANT)
    event.staff.append(staff)
    db.session.commit()
    login(client, staff)
    assert client.get(f"/manage/events/{event.id}/door-list.pdf").status_code == 200
    assert client.get(f"/manage/events/{event.id}/badges.pdf").status_code == 403


def test_a_bulk_action_returns_to_the_sorted_filtered_list(client, organiser):
    event = make_event()
    [anna] = people(event, "Анна")
    html = client.get(list_url(event, sort="-name", status="confirmed")).get_data(as_text=True)
    form = html.split('id="bulk"')[1].split("</form>")[0]
    assert form.count('name="next"') == 1
    response = client.post(
        f"/manage/events/{event.id}/registrants/bulk",
        data={"ids": [str(anna.id)], "action": "check_in", "next": re.search(
            r'name="next" value="([^"]+)"', form).group(1).replace("&amp;", "&")},
    )  # fmt: skip
    assert response.headers["Location"].endswith("registrants?sort=-name&status=confirmed")
