"""The Russian catalogue is complete, current with the code, and what the pages show.

A developer who adds a user-facing string and forgets to translate it gets a failing test
that names the string: run `make messages`, translate the new entries in
webapp/translations/ru/LC_MESSAGES/messages.po, then `make translations`.
"""

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from events.models import Session

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
RU_PO = TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po"
RU_MO = RU_PO.with_suffix(".mo")
RUSSIAN_PLURAL_FORMS = (
    "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]")
HTML_TAG = re.compile(r"<[^>]+>")


def read_catalogue(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def message_key(message) -> str:
    return message.id[0] if message.pluralizable else message.id


def forms(message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def describe(messages) -> str:
    return "\n".join(f"  {message_key(m)!r}" for m in messages)


@pytest.fixture(scope="module")
def russian():
    return read_catalogue(RU_PO)


def test_russian_plural_rule(russian):
    assert russian.num_plurals == 3
    assert russian.plural_expr.replace(" ", "") == RUSSIAN_PLURAL_FORMS.replace(" ", "")


def test_every_russian_entry_is_translated_and_not_fuzzy(russian):
    untranslated = [m for m in russian if m.id and not all(s.strip() for s in forms(m))]
    fuzzy = [m for m in russian if m.id and m.fuzzy]
    assert not untranslated, f"Translate in {RU_PO.relative_to(ROOT)}:\n{describe(untranslated)}"
    assert not fuzzy, f"Review and unmark these fuzzy entries:\n{describe(fuzzy)}"


def test_catalogue_has_every_string_of_the_code(russian, tmp_path):
    """Extract as `make messages` does (same babel.cfg, keywords and folders)."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
         "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(template),
         "webapp", "events", "courses", "certificates", "projects", "reports"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    extracted = read_catalogue(template)
    assert len(extracted) > 100, "the extraction found almost nothing: check babel.cfg"
    missing = [m for m in extracted if m.id and m.id not in russian]
    where = {m.id: ", ".join(f"{path}:{line}" for path, line in m.locations) for m in missing}
    assert not missing, "Not in the Russian catalogue (run `make messages`, translate):\n" + (
        "\n".join(f"  {message_key(m)!r}  ({where[m.id]})" for m in missing)
    )


def test_translations_keep_placeholders_and_markup(russian):
    broken = []
    for message in russian:
        if not message.id:
            continue
        # Every Russian plural form serves numbers the English plural covers (21, 101…).
        source = message.id[-1] if message.pluralizable else message.id
        for string in forms(message):
            if sorted(PLACEHOLDER.findall(string)) != sorted(PLACEHOLDER.findall(source)):
                broken.append(f"  {source!r}: placeholders of {string!r}")
            elif sorted(HTML_TAG.findall(string)) != sorted(HTML_TAG.findall(source)):
                broken.append(f"  {source!r}: markup of {string!r}")
            elif message.python_format:
                names = {name: 1 for name in re.findall(r"%\((\w+)\)", source)}
                try:
                    string % names  # a stray "%" would raise here, and on the page
                except (ValueError, TypeError) as error:
                    broken.append(f"  {source!r}: {error} in {string!r}")
    assert not broken, "\n".join(broken)


# --- the catalogue in use ----------------------------------------------------------------


@pytest.fixture
def compiled():
    """The pages read the compiled catalogue, which `make translations` builds."""
    if not RU_MO.exists() or RU_MO.stat().st_mtime < RU_PO.stat().st_mtime:
        pytest.fail(
            f"{RU_MO.relative_to(ROOT)} is missing or older than the .po: run `make translations`"
        )


def test_pages_are_russian_by_default_and_english_on_request(client, course, compiled):
    page = client.get("/courses/").get_data(as_text=True)
    assert "Каталог курсов" in page and "Course catalogue" not in page
    client.get("/lang/en")
    page = client.get("/courses/").get_data(as_text=True)
    assert "Course catalogue" in page and "Каталог курсов" not in page


def test_course_page_dates_and_hours_in_russian_grammar(client, make_course, compiled):
    course = make_course(sessions=0, academic_hours=22)
    # 07:00 UTC is 10:00 in Moscow, the course's zone.
    starts = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    course.sessions.append(Session(starts_at=starts, ends_at=starts.replace(hour=10)))
    one_hour = make_course(title="Короткий курс", sessions=0, academic_hours=21)
    many_hours = make_course(title="Длинный курс", sessions=0, academic_hours=16)

    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "10 декабря 2026, 10:00" in page  # the month in the genitive
    assert "22 академических часа" in page
    assert "21 академический час" in client.get(f"/courses/{one_hour.id}").get_data(True)
    assert "16 академических часов" in client.get(f"/courses/{many_hours.id}").get_data(True)

    client.get("/lang/en")
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "10 December 2026, 10:00" in page and "22 academic hours" in page


def test_form_validation_messages_are_russian(client, compiled):
    """WTForms' own messages come from its bundled catalogue, through Flask-Babel."""
    page = client.post("/signup", data={"email": "not an address"}).get_data(as_text=True)
    assert "Обязательное поле." in page and "This field is required." not in page
    assert "Неверный адрес электронной почты." in page
    assert "Для регистрации необходимо согласие на обработку персональных данных." in page


def test_zone_phrases_and_file_sizes_follow_the_language(app):
    """'по московскому времени (UTC+3)' and '1,5 КБ'-style sizes from Babel, per language;
    a zone outside Russia's list is named by Babel."""
    from flask import session
    from flask_babel import refresh

    from webapp.filters import file_size, timezone_note

    with app.test_request_context():
        assert timezone_note("Europe/Moscow") == "Время указано по московскому времени (UTC+3)."
        assert timezone_note("Asia/Kolkata").endswith("(UTC+5:30).")
        assert (file_size(1536), file_size(512)) == ("1,5\xa0КБ", "512\xa0Б")
        assert file_size(3 * 1024 * 1024) == "3\xa0МБ"
    with app.test_request_context():
        session["lang"] = "en"
        refresh()
        assert timezone_note("Europe/Moscow") == "Times are in Moscow time (UTC+3)."
        assert file_size(1536) == "1.5\xa0KB"
