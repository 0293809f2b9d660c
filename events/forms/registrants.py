"""Forms of the organiser's registrant list: filters, editing a registration, the status
actions and the CSV import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    Field,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from events.forms.registration import email_field, full_name_field, phone_field
from events.models import (
    STATUS_LABELS,
    Event,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from events.services.registrant_import import MAX_IMPORT_BYTES
from events.services.registrants import (
    FILTERABLE_KINDS,
    RegistrantChanges,
    RegistrantFilter,
    answer_options,
)
from events.services.registration import parse_number, stored_answer

ANY = ("", _l("Any"))


class RegistrantFilterForm(FlaskForm):
    """The list's search and filters: a GET form, so a filtered list has a link to share.
    A value that is not among the choices (an old link, a typed URL) filters nothing."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, e-mail or phone"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()])
    checked_in = SelectField(
        _l("Check-in"),
        choices=[ANY, ("yes", _l("Checked in")), ("no", _l("Not checked in"))],
        validators=[Optional()],
    )
    # "<question id>:<stored value>", grouped by question.
    answer = SelectField(_l("Answer"), validators=[Optional()])

    def __init__(self, questions: list[Question], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [ANY] + [(s.value, label) for s, label in STATUS_LABELS.items()]
        groups = {
            question.label: [
                (f"{question.id}:{value}", label) for value, label in answer_options(question)
            ]
            for question in questions
            if question.kind in FILTERABLE_KINDS
        }
        self.answer.choices = {"": [ANY], **groups} if groups else [ANY]

    def to_filter(self) -> RegistrantFilter:
        text = (self.q.data or "").strip()[:100]
        checked_in = {"yes": True, "no": False}.get(_chosen(self.checked_in))
        question_id, answer = None, None
        if chosen := _chosen(self.answer):
            question, answer = chosen.split(":", 1)
            question_id = int(question)
        return RegistrantFilter(
            text=text,
            status=RegistrationStatus(status) if (status := _chosen(self.status)) else None,
            checked_in=checked_in,
            question_id=question_id,
            answer=answer,
        )

    @property
    def is_filtered(self) -> bool:
        return self.to_filter() != RegistrantFilter()


def _chosen(field: SelectField) -> str | None:
    """The field's value if it is one of its choices, else None."""
    choices = field.choices
    if isinstance(choices, dict):  # grouped
        choices = [choice for group in choices.values() for choice in group]
    return field.data if field.data and field.data in {value for value, _ in choices} else None


class RegistrantForm(FlaskForm):
    """An organiser's edit of a registration; `registrant_form` adds a field a question.
    Required questions are not enforced here: the organiser fills in what they know."""

    full_name = full_name_field()
    email = email_field()
    phone = phone_field()

    def question_fields(self) -> list[tuple[Question, Field]]:
        return [(question, self[f"question_{question.id}"]) for question in self._questions]

    def to_changes(self) -> RegistrantChanges:
        return RegistrantChanges(
            full_name=self.full_name.data,
            email=self.email.data,
            phone=self.phone.data,
            answers={
                question.id: stored_answer(question, field.data)
                for question, field in self.question_fields()
            },
        )


def _valid_number(form, field) -> None:
    if field.data and parse_number(field.data) is None:
        raise ValidationError(_l("Type a number, for example 12 or 2,5."))


def _question_field(question: Question, current: str | None) -> Field:
    label = question.label
    if question.kind == QuestionKind.TEXT:
        return TextAreaField(label, validators=[Optional(), Length(max=2000)], default=current)
    if question.kind == QuestionKind.NUMBER:
        return StringField(label, validators=[Optional(), _valid_number], default=current)
    # An answer given before the organiser changed the choices stays possible.
    options = answer_options(question)
    if question.kind == QuestionKind.MULTIPLE:
        chosen = (current or "").splitlines()
        options += [(value, value) for value in chosen if value not in dict(options)]
        return SelectMultipleField(
            label,
            choices=options,
            default=chosen,
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
        )
    if current and current not in dict(options):
        options.append((current, current))
    return SelectField(label, choices=[("", "—"), *options], default=current or "")


def registrant_form(event: Event, registration: Registration) -> RegistrantForm:
    """The edit form of a registration, with a field for each of the event's questions."""
    answers = {answer.question_id: answer.value for answer in registration.answers}
    questions = list(event.questions)

    class Form(RegistrantForm):
        _questions = questions

    for question in questions:
        setattr(
            Form, f"question_{question.id}", _question_field(question, answers.get(question.id))
        )
    return Form(obj=registration)


ACTIONS = ("approve", "confirm", "waitlist", "cancel")


class RegistrantActionForm(FlaskForm):
    """One of the status buttons of a registration."""

    action = SelectField(choices=[(action, action) for action in ACTIONS])


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(message=_l("Choose a CSV file.")),
            FileSize(
                MAX_IMPORT_BYTES, message=_l("The file is larger than 2 MB: split it in parts.")
            ),
        ],
    )
