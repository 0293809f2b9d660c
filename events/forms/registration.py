"""The public registration form of an event: fixed fields, the event's own questions, the
optional organisation block and the consent."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    RadioField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from events.models import Event, Question, QuestionKind
from events.services.registration import NO, PHONE, YES, YES_NO_LABELS, parse_number
from webapp.forms import CheckboxListField, OrganisationForm
from webapp.forms import _strip as strip_spaces
from webapp.models import User


# The person's fields, shared by the public form and the organiser's edit.
def full_name_field() -> StringField:
    return StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])


def email_field() -> EmailField:
    return EmailField(
        _l("E-mail"), filters=[strip_spaces], validators=[DataRequired(), Email(), Length(max=254)]
    )


def phone_field() -> TelField:
    return TelField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=30),
            Regexp(PHONE, message=_l("Digits, spaces, brackets and dashes only, please.")),
        ],
    )


class RegistrationForm(OrganisationForm):
    full_name = full_name_field()
    email = email_field()
    phone = phone_field()
    consent = BooleanField(
        _l("I consent to the processing of my personal data"),
        validators=[DataRequired(message=_l("Consent is required to register."))],
    )

    def question_fields(self) -> list[tuple[Question, Field]]:
        return [(question, self[_name(question)]) for question in self._questions]

    def answers(self) -> dict[int, object]:
        return {question.id: field.data for question, field in self.question_fields()}


def _name(question: Question) -> str:
    return f"question_{question.id}"


class AnswerRequired:
    """An answer must be given. Unlike DataRequired it replaces the choice fields' own
    "Not a valid choice" for an empty answer, so the person reads one clear message."""

    field_flags = {"required": True}

    def __init__(self, message=None):
        self.message = message or _l("Please answer this question.")

    def __call__(self, _form, field) -> None:
        data = field.data
        if not data or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message)


def _required(question: Question, message=None):
    return AnswerRequired(message) if question.required else Optional()


def _validate_number(_form, field) -> None:
    if field.data and parse_number(field.data) is None:
        raise ValidationError(_l("Give a number, for example 12 or 2.5."))


def _field_for(question: Question) -> Field:
    """The form field of one question, by its kind."""
    label = question.label
    match question.kind:
        case QuestionKind.CHOICE:
            choices = [(choice, choice) for choice in question.choices]
            return RadioField(label, choices=choices, validators=[_required(question)])
        case QuestionKind.MULTIPLE:
            choices = [(choice, choice) for choice in question.choices]
            message = _l("Choose at least one.")
            return CheckboxListField(
                label, choices=choices, validators=[_required(question, message)]
            )
        case QuestionKind.YESNO:
            choices = [(YES, YES_NO_LABELS[YES]), (NO, YES_NO_LABELS[NO])]
            return RadioField(label, choices=choices, validators=[_required(question)])
        case QuestionKind.NUMBER:
            return StringField(
                label,
                validators=[_required(question), Length(max=30), _validate_number],
                render_kw={"inputmode": "decimal"},
            )
    return TextAreaField(
        label, validators=[_required(question), Length(max=2000)], render_kw={"rows": 2}
    )


def registration_form(event: Event, user: User | None, **kwargs) -> RegistrationForm:
    """The event's form: its questions added, the organisation block only when asked for,
    and a signed-in user's details filled in."""
    questions = list(event.questions)
    form_class = type(
        "EventRegistrationForm",
        (RegistrationForm,),
        {_name(question): _field_for(question) for question in questions},
    )
    form_class._questions = questions
    if user is not None and user.is_authenticated:
        organisation = user.organisation
        kwargs.setdefault("full_name", user.full_name)
        kwargs.setdefault("email", user.email)
        kwargs.setdefault("phone", user.phone)
        if organisation:
            kwargs.setdefault("organisation_type", organisation.type.value)
            kwargs.setdefault("organisation_name", organisation.name)
            kwargs.setdefault("inn", organisation.inn)
    form = form_class(**kwargs)
    if not event.asks_organisation:
        for name in ("organisation_type", "organisation_name", "inn"):
            del form[name]
    return form
