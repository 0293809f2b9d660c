"""Profile, organisations and INN check digits; personal data export and account deletion."""

import json
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select, text

from events.models import Registration
from events.services import seats
from tests.conftest import PASSWORD, login
from webapp import services
from webapp.extensions import db
from webapp.models import MUNICIPALITIES, Organisation, OrganisationType, User
from webapp.services import inn_error, with_check_digits

ORGANISATION_INN = with_check_digits("530100123")  # 10 digits: an organisation
PERSON_INN = with_check_digits("5301001234")  # 12 digits: a person


def profile_form(**changes) -> dict:
    form = {
        "full_name": "Анна Смирнова",
        "phone": "+7 900 123-45-67",
        "municipality": "Боровичский район",
        "organisation_type": "sonko",
        "organisation_name": "АНО «Тропинка»",
        "inn": ORGANISATION_INN,
        "locale": "en",
    }
    form.update(changes)
    return form


def organisation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


@pytest.fixture
def anna(client, users):
    """The participant, signed in, reading the pages in English."""
    login(client, users["participant"])
    client.get("/lang/en")
    return users["participant"]


# --- the profile form --------------------------------------------------------------------


def test_profile_offers_every_municipality_and_organisation_type(client, anna):
    page = client.get("/profile").get_data(as_text=True)

    for municipality in MUNICIPALITIES:
        assert f'<option value="{municipality}">{municipality}</option>' in page
    assert '<option value="other">Other region</option>' in page
    for kind in OrganisationType:
        assert f'<option value="{kind.value}">' in page
    assert "Socially oriented NGO (SONKO)" in page
    assert "Please fill in your phone, municipality and organisation" in page


def test_profile_saves_an_organisation_with_a_valid_10_digit_inn(client, anna):
    response = client.post("/profile", data=profile_form())

    assert response.headers["Location"] == "/profile"
    user = db.session.get(User, anna.id)
    assert user.phone == "+7 900 123-45-67"
    assert user.municipality == "Боровичский район"
    assert user.organisation.inn == ORGANISATION_INN
    assert user.organisation.type == OrganisationType.SONKO
    assert user.organisation.name == "АНО «Тропинка»"
    assert user.organisation.municipality == "Боровичский район"
    assert user.profile_complete
    page = client.get("/profile").get_data(as_text=True)
    assert "Profile saved." in page
    assert f'value="{ORGANISATION_INN}"' in page


def test_profile_accepts_a_valid_12_digit_inn_of_a_self_employed_person(client, anna):
    response = client.post(
        "/profile",
        data=profile_form(
            organisation_type="self_employed",
            organisation_name="ИП Смирнова",
            inn=f" {PERSON_INN} ",
        ),
    )

    assert response.status_code == 302
    organisation = db.session.get(User, anna.id).organisation
    assert organisation.inn == PERSON_INN
    assert organisation.type == OrganisationType.SELF_EMPLOYED


def test_an_individual_without_an_organisation_name_is_named_after_the_person(client, anna):
    client.post("/profile", data=profile_form(organisation_type="individual", organisation_name=""))

    assert db.session.get(User, anna.id).organisation.name == "Анна Смирнова"


def test_an_organisation_needs_a_name(client, anna):
    response = client.post("/profile", data=profile_form(organisation_name=""))

    assert "Give the organisation's name." in response.get_data(as_text=True)
    assert organisation_count() == 0


def _wrong_last_digit(inn: str) -> str:
    return inn[:-1] + str((int(inn[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        (_wrong_last_digit(ORGANISATION_INN), "The check digit does not match"),
        (_wrong_last_digit(PERSON_INN), "The check digits do not match"),
        ("12345", "An INN has 10 digits (organisation) or 12 digits (person)."),
        ("12345678901", "An INN has 10 digits (organisation) or 12 digits (person)."),
        ("77O7083893", "An INN consists of digits only."),  # a letter O among the digits
        ("770708389²", "An INN consists of digits only."),  # a digit to str, not to int()
    ],
)
def test_profile_refuses_an_invalid_inn_with_a_form_error(client, anna, inn, message):
    response = client.post("/profile", data=profile_form(inn=inn))

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.get(User, anna.id).organisation is None
    assert organisation_count() == 0


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        (_wrong_last_digit(ORGANISATION_INN), "Контрольная цифра не сходится — проверьте ИНН."),
        (_wrong_last_digit(PERSON_INN), "Контрольные цифры не сходятся — проверьте ИНН."),
        ("12345", "ИНН состоит из 10 цифр (организация) или 12 цифр (физическое лицо)."),
        ("77O7083893", "ИНН состоит только из цифр."),
    ],
)
def test_the_inn_error_is_in_russian_by_default(client, users, inn, message):
    login(client, users["participant"])

    page = client.post("/profile", data=profile_form(inn=inn, locale="")).get_data(as_text=True)

    assert message in page
    assert "check the INN" not in page
    assert "An INN" not in page


def test_two_people_with_the_same_inn_share_one_organisation(client, users):
    for person in (users["participant"], users["trainer"]):
        login(client, person)
        response = client.post(
            "/profile", data=profile_form(full_name=person.full_name, organisation_name="Тропинка")
        )
        assert response.status_code == 302
        client.post("/logout")

    assert organisation_count() == 1
    anna, oleg = (db.session.get(User, users[role].id) for role in ("participant", "trainer"))
    assert anna.organisation_id == oleg.organisation_id
    assert anna.organisation.inn == ORGANISATION_INN


# --- INN check digits --------------------------------------------------------------------


@pytest.mark.parametrize(
    "inn",
    [
        "7707083893",  # Sberbank
        "7736207543",  # Yandex
        "7830002293",
        "500100732259",  # a person's INN (Moscow region)
        ORGANISATION_INN,
        PERSON_INN,
    ],
)
def test_inn_error_accepts_valid_inns(app_ctx, inn):
    assert inn_error(inn) is None


@pytest.mark.parametrize(
    "inn",
    [
        "7707083894",  # Sberbank's with the last digit changed
        "7707083839",  # two digits swapped
        "500100732258",  # the 12th digit wrong
        "500100732269",  # the 11th digit wrong
        "",
        "770708389",  # 9 digits
        "50010073225",  # 11 digits
        "5001007322590",  # 13 digits
        "7707 083893",
        "-707083893",
        "７７０７０８３８９３",  # full-width digits: look right, are not ASCII
        "770708389²",
    ],
)
def test_inn_error_refuses_invalid_inns(app_ctx, inn):
    assert inn_error(inn)


def test_with_check_digits_builds_inns_that_pass(app_ctx):
    assert with_check_digits("770708389") == "7707083893"
    assert with_check_digits("5001007322") == "500100732259"
    with pytest.raises(ValueError, match="9 or 10"):
        with_check_digits("1234")


# --- personal data -----------------------------------------------------------------------


@pytest.fixture
def enrolled_anna(anna, course):
    seats.register(course.id, full_name=anna.full_name, email=anna.email, user_id=anna.id)
    return anna


def test_personal_data_export_holds_the_account_and_registrations(client, enrolled_anna, course):
    client.post("/profile", data=profile_form())

    response = client.get("/profile/data.json")

    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "anna@example.org"
    assert data["account"]["full_name"] == "Анна Смирнова"
    assert data["account"]["phone"] == "+7 900 123-45-67"
    assert data["account"]["roles"] == ["participant"]
    assert data["account"]["consent_policy_version"] == "2026-01"
    assert data["organisation"]["inn"] == ORGANISATION_INN
    assert [(r["event"], r["status"]) for r in data["registrations"]] == [
        (course.title, "confirmed")
    ]
    assert "scrypt" not in response.get_data(as_text=True)


def delete_my_account(client, password=PASSWORD, confirm="y"):
    return client.post("/profile/delete", data={"password": password, "confirm": confirm})


def test_deleting_the_account_anonymises_the_person_and_keeps_the_counts(
    client, enrolled_anna, course
):
    client.post("/profile", data=profile_form())

    response = delete_my_account(client)

    assert response.headers["Location"] == "/"
    assert "Your account has been deleted." in client.get("/").get_data(as_text=True)
    assert client.get("/profile").headers["Location"].startswith("/login")
    user = db.session.get(User, enrolled_anna.id)
    assert user.deleted_at is not None
    assert user.roles == set()
    assert user.phone is None
    registration = db.session.scalar(select(Registration))
    assert registration.user_id == user.id
    assert seats.seat_counts([course.id])[course.id].confirmed == 1
    # The name and the address are nowhere in the people's tables any more.
    for table in ("users", "registrations"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        dump = repr(rows)
        assert "anna@example.org" not in dump
        assert "Анна" not in dump


def test_deleting_a_self_employed_account_clears_the_persons_inn_and_name(client, anna):
    client.post(
        "/profile",
        data=profile_form(organisation_type="individual", organisation_name="", inn=PERSON_INN),
    )

    delete_my_account(client)

    organisation = db.session.scalar(select(Organisation))
    assert organisation.type == OrganisationType.INDIVIDUAL  # still counted in reports
    assert organisation.inn is None
    assert "Анна" not in organisation.name


def test_deleting_keeps_an_organisation_others_belong_to(client, users):
    for person in (users["participant"], users["trainer"]):
        login(client, person)
        client.post("/profile", data=profile_form(full_name=person.full_name))
        client.post("/logout")
    login(client, users["participant"])

    delete_my_account(client)

    organisation = db.session.scalar(select(Organisation))
    assert organisation.inn == ORGANISATION_INN
    assert organisation.name == "АНО «Тропинка»"
    assert db.session.get(User, users["trainer"].id).organisation_id == organisation.id


def test_the_email_of_a_deleted_account_can_sign_up_again(client, enrolled_anna):
    delete_my_account(client)

    response = client.post(
        "/signup",
        data={
            "full_name": "Анна Смирнова",
            "email": "anna@example.org",
            "password": "fresh-start-2026",
            "password_repeat": "fresh-start-2026",
            "consent": "y",
        },
    )

    assert response.headers["Location"] == "/profile"
    again = services.find_user("anna@example.org")
    assert again.id != enrolled_anna.id
    assert again.is_active


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("not-my-password", "y", "The password is wrong."),
        (PASSWORD, "", "Tick the box to confirm."),
    ],
)
def test_deleting_needs_the_password_and_the_tick(client, anna, password, confirm, message):
    response = delete_my_account(client, password, confirm)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.get(User, anna.id).is_active


# --- what the profile changes elsewhere, and what reading it does not -------------------


def test_a_new_language_rewrites_the_pending_reminders_in_it(client, enrolled_anna, course):
    from events.services.notifications import REMINDER
    from webapp.models import OutboxMessage

    def subjects() -> list[str]:
        db.session.expire_all()
        contents = db.session.scalars(
            select(OutboxMessage.content).where(OutboxMessage.template == REMINDER)
        )
        return [message_from_bytes(c, policy=policy.default)["Subject"] for c in contents]

    before = subjects()
    assert before and all(subject.startswith("Напоминание") for subject in before)
    response = client.post("/profile", data=profile_form(locale="en"))
    assert response.status_code == 302
    after = subjects()
    assert len(after) == len(before)
    assert all(subject.startswith("Reminder") for subject in after)


def test_reading_the_profile_writes_nothing(client, anna):
    """An account from before calendar links were made with it: the profile offers to
    make one, and only the POST does."""
    db.session.execute(text("UPDATE users SET calendar_token = NULL"))
    db.session.commit()
    page = client.get("/profile").get_data(as_text=True)
    assert "Make my calendar link" in page
    assert db.session.get(User, anna.id, populate_existing=True).calendar_token is None

    client.post("/profile/calendar/reset")
    token = db.session.get(User, anna.id, populate_existing=True).calendar_token
    assert token
    assert f"http://tropa.test/calendar/{token}.ics" in client.get("/profile").get_data(
        as_text=True
    )
