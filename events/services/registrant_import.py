"""The CSV import of a prepared list of people into an event: every row checked, nothing
imported when any row is wrong, then one unit of work under the event's lock through the
seat-taking rules (events.services.seats.register_batch). No Flask request objects in
here: the import is also meant for the CLI."""

import csv
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from events.models import Event, RegistrationStatus
from events.services import seats
from events.services.registration import PHONE
from webapp.extensions import db
from webapp.models import ORGANISATION_TYPE_LABELS, Organisation, OrganisationType, search_key
from webapp.services import inn_error, normalise_email

Status = RegistrationStatus

MAX_IMPORT_BYTES = 2 * 1024 * 1024

# The columns an import understands, with their labels for messages.
IMPORT_FIELDS = {
    "full_name": _l("Full name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "organisation_name": _l("Organisation name"),
    "organisation_type": _l("Organisation type"),
    "inn": _l("INN"),
    "status": _l("Status"),
}
REQUIRED_COLUMNS = ("full_name", "email")


def _header_key(text: str) -> str:
    """A header cell, folded: case, ё, underscores, hyphens and spaces do not matter."""
    return " ".join(search_key(text).replace("_", " ").replace("-", " ").split())


# The header names accepted for each column, in English and Russian (the export's among
# them, so an exported list can be imported into another event).
_COLUMN_NAMES = {
    "full_name": ["full_name", "full name", "name", "фио", "ф.и.о.", "имя", "полное имя"],
    "email": ["email", "e-mail", "электронная почта", "эл. почта", "почта"],
    "phone": ["phone", "telephone", "телефон", "номер телефона"],
    "organisation_name": [
        "organisation_name", "organization_name", "organisation", "organization",
        "организация", "название организации", "наименование организации",
    ],
    "organisation_type": ["organisation_type", "organization_type", "тип организации"],
    "inn": ["inn", "инн"],
    "status": ["status", "статус"],
}  # fmt: skip
COLUMN_OF_HEADER = {
    _header_key(name): column for column, names in _COLUMN_NAMES.items() for name in names
}

# The organisation types as a prepared list may write them: code, label, short name.
_TYPE_NAMES = {
    OrganisationType.SONKO: [
        "sonko", "сонко", "Socially oriented NGO (SONKO)",
        "Социально ориентированная НКО (СОНКО)", "социально ориентированная нко",
    ],
    OrganisationType.SMSP: [
        "smsp", "смсп", "Small business / social entrepreneur (SMSP)",
        "Малый и средний бизнес, социальное предприятие (СМСП)",
    ],
    OrganisationType.SELF_EMPLOYED: [
        "self_employed", "self-employed", "самозанятый", "самозанятая", "самозанятые",
    ],
    OrganisationType.INITIATIVE_GROUP: [
        "initiative_group", "initiative group", "инициативная группа",
    ],
    OrganisationType.INDIVIDUAL: ["individual", "физическое лицо", "физлицо"],
}  # fmt: skip
TYPE_OF_NAME = {_header_key(name): kind for kind, names in _TYPE_NAMES.items() for name in names}

_STATUS_NAMES = {
    Status.CONFIRMED: ["confirmed", "подтверждена", "подтвержден", "подтверждено"],
    Status.WAITLISTED: ["waitlisted", "waiting list", "лист ожидания", "в листе ожидания"],
}
STATUS_OF_NAME = {_header_key(name): st for st, names in _STATUS_NAMES.items() for name in names}


@dataclass(frozen=True)
class ImportProblem:
    """Why a file or one of its rows cannot be imported, in the user's language."""

    message: str
    row: int | None = None  # the row as a spreadsheet numbers it: the header is row 1
    field: str | None = None  # a key of IMPORT_FIELDS

    @property
    def field_label(self) -> str | None:
        return str(IMPORT_FIELDS[self.field]) if self.field else None


@dataclass
class ImportReport:
    problems: list[ImportProblem] = field(default_factory=list)
    rows: int = 0  # people rows in the file, blank lines not counted
    confirmed: int = 0
    waitlisted: int = 0
    already_registered: int = 0  # in the event before: skipped
    repeated_in_file: int = 0  # the same e-mail further down the file: skipped
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return not self.problems

    @property
    def registered(self) -> int:
        return self.confirmed + self.waitlisted


class _FileRefused(Exception):
    """The file as a whole cannot be read as a list."""


@dataclass
class _Person:
    full_name: str
    email: str
    phone: str | None
    organisation_type: OrganisationType | None
    organisation_name: str
    inn: str | None
    status: Status | None


def import_registrants(event_id: int, file_bytes: bytes) -> ImportReport:
    """Register a prepared list (CSV: comma or semicolon, UTF-8 or Windows-1251) in one
    transaction, through the seat-taking rules: places in file order while they last, then
    the waiting list; people already registered are skipped, never duplicated.

    Nothing is imported when the file cannot be read or any row is wrong: the report then
    lists every problem with its row and column.
    """
    report = ImportReport()
    try:
        columns, rows = _read_table(file_bytes)
    except _FileRefused as refused:
        report.problems.append(ImportProblem(str(refused)))
        return report
    report.ignored_columns = [name for name, column in columns if column is None]
    people = []
    for row_number, cells in rows:
        values = {
            column: _cell_text(cell)
            for (_, column), cell in zip(columns, cells, strict=False)
            if column
        }
        report.rows += 1
        person, problems = _check_row(row_number, values)
        report.problems += problems
        if person:
            people.append(person)
    if not report.problems and not people:
        report.problems.append(ImportProblem(str(_l("The file has no rows to import."))))
    if report.problems:
        return report

    first_rows: dict[str, _Person] = {}
    for person in people:
        first_rows.setdefault(person.email, person)
    report.repeated_in_file = len(people) - len(first_rows)
    event = db.session.get(Event, event_id)
    if event is None:
        raise seats.RegistrationRefused("not_found")
    if event.cancelled_at:
        report.problems.append(ImportProblem(str(_l("The event is cancelled."))))
        return report
    try:
        with seats.event_lock(event_id) as event:
            organisations = _organisations_for(first_rows.values())
            newcomers = [
                seats.Newcomer(
                    full_name=person.full_name,
                    email=person.email,
                    phone=person.phone,
                    organisation=organisations.get(_organisation_key(person)),
                    waitlist=person.status == Status.WAITLISTED,
                )
                for person in first_rows.values()
            ]
            result = seats.register_batch(event, newcomers, mail_tickets=True)
    except IntegrityError:
        # An organisation with one of the INNs was saved elsewhere (a profile) meanwhile;
        # the lock's transaction was rolled back whole.
        report.problems.append(
            ImportProblem(str(_l("The data changed while importing: upload the file again.")))
        )
        return report
    report.already_registered = result.already_registered
    report.confirmed = result.confirmed
    report.waitlisted = result.waitlisted
    return report


def _cell_text(cell: str) -> str:
    """A cell's text; the apostrophe our exports put before a formula-like value goes."""
    text = cell.strip()
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


def _decode(file_bytes: bytes) -> str:
    if not file_bytes.strip():
        raise _FileRefused(_l("The file is empty."))
    not_text = _l(
        "This is not a CSV file. Save the list from your spreadsheet as “CSV” "
        "(comma- or semicolon-separated) and upload that."
    )
    if b"\x00" in file_bytes:  # binary, or UTF-16 "Unicode text"
        raise _FileRefused(not_text)
    try:
        text = file_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = file_bytes.decode("cp1251")  # what Excel in a Russian Windows saves
        except UnicodeDecodeError:
            raise _FileRefused(
                _l("The file's encoding is unknown: save it as CSV in UTF-8 or Windows-1251.")
            ) from None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise _FileRefused(not_text)
    return text


def _read_table(file_bytes: bytes) -> tuple[list[tuple[str, str | None]], list]:
    """The header's (name, column key or None) pairs and the (row number, cells) after it."""
    text = _decode(file_bytes)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    try:
        table = list(reader)
    except csv.Error:
        raise _FileRefused(
            _l(
                "The file is not valid CSV near line %(line)s: check the quotes there.",
                line=reader.line_num,
            )
        ) from None
    header = [cell.strip() for cell in (table[0] if table else [])]
    if not any(header):
        raise _FileRefused(
            _l("The first row must name the columns, for example: full_name, email, phone.")
        )
    columns = [(name, COLUMN_OF_HEADER.get(_header_key(name))) for name in header]
    keys = [column for _, column in columns if column]
    for key in dict.fromkeys(keys):
        if keys.count(key) > 1:
            raise _FileRefused(
                _l("Two columns of the file are both “%(column)s”.", column=IMPORT_FIELDS[key])
            )
    missing = [str(IMPORT_FIELDS[key]) for key in REQUIRED_COLUMNS if key not in keys]
    if missing:
        raise _FileRefused(
            _l(
                "The file has no column “%(columns)s”. The first row must name the columns: "
                "full_name (ФИО), email, and optionally phone, organisation_name, "
                "organisation_type, inn, status.",
                columns="”, “".join(missing),
            )
        )
    rows = [
        (number, cells)
        for number, cells in enumerate(table[1:], start=2)
        if any(cell.strip() for cell in cells)
    ]
    too_long = next((number for number, cells in rows if len(cells) > len(header)
                     and any(c.strip() for c in cells[len(header):])), None)  # fmt: skip
    if too_long:
        raise _FileRefused(
            _l("Row %(row)s has more cells than the header has columns.", row=too_long)
        )
    return columns, rows


def _check_row(row: int, values: dict[str, str]) -> tuple[_Person | None, list[ImportProblem]]:
    problems = []

    def refuse(column: str, message) -> None:
        problems.append(ImportProblem(str(message), row=row, field=column))

    full_name = values.get("full_name", "")
    if not full_name:
        refuse("full_name", _l("The name is missing."))
    elif len(full_name) > 200:
        refuse("full_name", _l("The name is longer than 200 characters."))
    email = values.get("email", "")
    if not email:
        refuse("email", _l("The e-mail is missing."))
    else:
        try:
            email = normalise_email(validate_email(email, check_deliverability=False).normalized)
        except EmailNotValidError:
            refuse("email", _l("“%(value)s” is not a valid e-mail address.", value=email[:100]))
        else:
            if len(email) > 254:
                refuse("email", _l("The e-mail is longer than 254 characters."))
    phone = values.get("phone") or None
    if phone and not PHONE.match(phone):
        refuse("phone", _l("A phone number has digits, spaces, +, brackets and dashes only."))
    inn = values.get("inn") or None
    if inn and (error := inn_error(inn)):
        refuse("inn", error)
    organisation_name = values.get("organisation_name", "")
    if len(organisation_name) > 300:
        refuse("organisation_name", _l("The organisation's name is longer than 300 characters."))
    organisation_type = None
    if type_text := values.get("organisation_type"):
        organisation_type = TYPE_OF_NAME.get(_header_key(type_text))
        if organisation_type is None:
            refuse(
                "organisation_type",
                _l(
                    "Unknown organisation type “%(value)s”. Known: %(known)s.",
                    value=type_text[:100],
                    known=", ".join(str(label) for label in ORGANISATION_TYPE_LABELS.values()),
                ),
            )
    elif organisation_name or inn:
        refuse("organisation_type", _l("Give the organisation type for its name or INN."))
    needs_name = organisation_type not in (
        None, OrganisationType.INDIVIDUAL, OrganisationType.SELF_EMPLOYED
    )  # fmt: skip
    if needs_name and not organisation_name:
        refuse("organisation_name", _l("Give the organisation's name."))
    status = None
    if status_text := values.get("status"):
        status = STATUS_OF_NAME.get(_header_key(status_text))
        if status is None:
            refuse(
                "status",
                _l("The status is “confirmed” or “waitlisted”, or empty: a place if one is free."),
            )
    if problems:
        return None, problems
    return _Person(
        full_name=full_name,
        email=email,
        phone=phone,
        organisation_type=organisation_type,
        organisation_name=organisation_name or full_name,
        inn=inn,
        status=status,
    ), []


def _organisation_key(person: _Person) -> tuple | None:
    if person.organisation_type is None:
        return None
    if person.inn:
        return ("inn", person.inn)
    return ("name", person.organisation_type, person.organisation_name.casefold())


def _organisations_for(people) -> dict[tuple, Organisation | seats.NewOrganisation]:
    """The organisation of each key: found by INN, or by type and name among those without
    an INN, else a new one (written only if a registration uses it)."""
    wanted = {_organisation_key(person): person for person in people}
    wanted.pop(None, None)
    inns = [key[1] for key in wanted if key[0] == "inn"]
    names = list({person.organisation_name for key, person in wanted.items() if key[0] == "name"})
    found: dict[tuple, Organisation | seats.NewOrganisation] = {}
    for chunk in seats.chunks(inns):
        for organisation in db.session.scalars(
            select(Organisation).where(Organisation.inn.in_(chunk))
        ):
            found[("inn", organisation.inn)] = organisation
    for chunk in seats.chunks(names):
        for organisation in db.session.scalars(
            select(Organisation).where(Organisation.inn.is_(None), Organisation.name.in_(chunk))
        ):
            key = ("name", organisation.type, organisation.name.casefold())
            found.setdefault(key, organisation)
    for key, person in wanted.items():
        if key not in found:
            found[key] = seats.NewOrganisation(
                name=person.organisation_name, type=person.organisation_type, inn=person.inn
            )
    return found
