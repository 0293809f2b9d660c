"""Hostile input never gets a 500: every form of every page, as every role.

Each page of the app (the route table's world, tests/test_permissions.py) is opened as
each role; every form on it is submitted once per field and hostile value, the other
fields keeping what the page filled in (so an edit form is otherwise valid, and the
hostile value reaches the code behind the validation). Values: empty, huge, negative,
unicode with a NUL, a field sent twice, a date in year 1 and in 9999. A form already
fuzzed (same action and fields) as a lower role is not fuzzed again.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.test_permissions import ROLES, app_rules, sign_in, url_of, world  # noqa: F401
from webapp.extensions import db

HOSTILE = {
    "empty": "",
    "huge": "9" * 4000,
    "unicode": "Ж\u0301ё 🚀 \u202e\x00 <b>&amp;",
    "twice": ["-1", "два"],  # a field sent twice (the first one negative)
}
HOSTILE_DATES = {
    "date": {"year 1": "0001-01-01", "year 9999": "9999-12-31", "nonsense": "2026-13-45"},
    "datetime-local": {
        "year 1": "0001-01-01T00:00",
        "year 9999": "9999-12-31T23:59",
        "nonsense": "2026-02-30T25:61",
    },
}
SKIPPED_FIELDS = {"csrf_token"}
# Forms that end the test's own session or account: fuzzed, but last and once.
SESSION_ENDING = ("/logout", "/profile/delete", "/profile/sign-out-others")


class FormCollector(HTMLParser):
    """The page's forms: action, method, and each field's name, type and filled-in value."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
                "values": {},
            })  # fmt: skip
            return
        if not self.forms or not attrs.get("name"):
            return
        form, name = self.forms[-1], attrs["name"]
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            form["fields"].setdefault(name, kind)
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form["values"].setdefault(name, attrs.get("value", "y"))
            elif kind != "file":
                form["values"].setdefault(name, attrs.get("value", ""))
        elif tag == "textarea":
            form["fields"].setdefault(name, "textarea")
            form["values"].setdefault(name, "")
            self._textarea = name
        elif tag == "select":
            form["fields"].setdefault(name, "select")
            self._select = name
        elif tag == "option" and self._select:
            values = form["values"]
            if "selected" in attrs or self._select not in values:
                values[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["values"][self._textarea] += data


def forms_of(html: str, page_url: str) -> list[dict]:
    parser = FormCollector()
    parser.feed(html)
    forms = []
    for form in parser.forms:
        action = form["action"] or page_url
        if urlsplit(action).netloc or not form["fields"]:
            continue  # another site's form, or a bare button with nothing to fuzz
        form["action"] = action
        forms.append(form)
    return forms


def hostile_values(kind: str) -> dict:
    return (
        {**HOSTILE, "negative": "-1", **HOSTILE_DATES.get(kind, {})}
        if kind in ("number", "date", "datetime-local", "time", "hidden")
        else HOSTILE
    )


def submit(client, form: dict, data: dict):
    if form["method"] == "post":
        return client.post(form["action"], data=data)
    return client.get(form["action"], query_string=data)


def fuzz(client, user, form: dict, failures: list, role: str) -> int:
    sent = 0
    for name, kind in form["fields"].items():
        if name in SKIPPED_FIELDS:
            continue
        for label, value in hostile_values(kind).items():
            sign_in(client, user)  # a submission may have signed the test out
            what = f"{role}: {form['method']} {form['action']} {name}={label}"
            sent += 1
            try:  # the test app raises what a server would answer with a 500
                response = submit(client, form, {**form["values"], name: value})
            except Exception as error:  # noqa: BLE001  every failure is listed
                failures.append(f"{what}: {error!r}"[:300])
                db.session.rollback()
                continue
            if response.status_code >= 500:
                failures.append(what)
    return sent


@pytest.fixture
def pages(app, world) -> list[str]:  # noqa: F811  the route table's fixture
    """Every GET page of the app, with the world's ids."""
    return sorted(
        url_of(rule, world)
        for rule in app_rules(app).values()
        if "GET" in rule.methods and not rule.rule.endswith((".pdf", ".png", ".zip", ".xlsx"))
    )


def test_no_form_field_answers_a_hostile_value_with_a_server_error(client, users, pages):
    failures: list[str] = []
    fuzzed: set[tuple] = set()
    last: list[tuple] = []
    sent = 0
    for role in ROLES:
        user = users.get(role)
        for page in pages:
            sign_in(client, user)
            response = client.get(page)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            for form in forms_of(response.get_data(as_text=True), page):
                signature = (form["method"], form["action"], tuple(sorted(form["fields"])))
                if signature in fuzzed:
                    continue
                fuzzed.add(signature)
                if urlsplit(form["action"]).path.endswith(SESSION_ENDING):
                    last.append((role, user, form))
                else:
                    sent += fuzz(client, user, form, failures, role)
    for role, user, form in last:
        sent += fuzz(client, user, form, failures, role)

    print(f"{len(fuzzed)} forms, {sent} submissions")
    assert sent > 500, f"only {sent} submissions: are the pages and their forms found?"
    assert not failures, "5xx answers:\n" + "\n".join(failures)
