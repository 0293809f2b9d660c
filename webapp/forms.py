"""Account, profile and admin forms (CSRF on every one via Flask-WTF), and the date fields
every package's forms use."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
)
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.models import MUNICIPALITIES, ORGANISATION_TYPE_LABELS, OTHER_REGION, ROLE_LABELS
from webapp.services import inn_error

MIN_PASSWORD = 8

# Every date a form takes lies in these years: year 1 or 9999 would overflow when moved
# between time zones (a 500), and no course or report of the centre is outside them.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def within_years(_form, field) -> None:
    value = field.data
    day = value.date() if isinstance(value, datetime) else value
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            _l(
                "Choose a date from %(first)d to %(last)d.",
                first=FIRST_DAY.year,
                last=LAST_DAY.year,
            )
        )


def _with_limits(kwargs: dict, first: str, last: str) -> dict:
    """The browser's date picker offers only the allowed years (min and max)."""
    kwargs["render_kw"] = {"min": first, "max": last, **(kwargs.get("render_kw") or {})}
    return kwargs


class WholeNumberField(IntegerField):
    """An integer of at most 15 digits: a longer one is "not a valid integer" (wtforms'
    NumberRange would fail with OverflowError comparing it). Use it for every number field."""

    MAX_DIGITS = 15

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > self.MAX_DIGITS:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


class BoundedDateField(DateField):
    """A date from 2000 to 2100 (a form error otherwise). Use it for every date field."""

    def __init__(self, label=None, validators=None, **kwargs):
        limits = (FIRST_DAY.isoformat(), LAST_DAY.isoformat())
        super().__init__(
            label, [*(validators or []), within_years], **_with_limits(kwargs, *limits)
        )


class BoundedDateTimeField(DateTimeLocalField):
    """A date and time (the browser's datetime-local) from 2000 to 2100. Use it for every
    date-and-time field."""

    def __init__(self, label=None, validators=None, format="%Y-%m-%dT%H:%M", **kwargs):  # noqa: A002
        limits = (f"{FIRST_DAY.isoformat()}T00:00", f"{LAST_DAY.isoformat()}T23:59")
        super().__init__(
            label,
            [*(validators or []), within_years],
            format=format,
            **_with_limits(kwargs, *limits),
        )


class _CSRFTokenWithoutId(CSRFTokenField):
    """A hidden field nothing refers to by id: a page with several forms would otherwise
    repeat id="csrf_token" (invalid HTML, and assistive tools stumble on it)."""

    def __call__(self, **kwargs):
        kwargs.setdefault("id", False)
        return super().__call__(**kwargs)


class _CSRFWithoutId(_FlaskFormCSRF):
    field_class = _CSRFTokenWithoutId


# Every form of every package subclasses FlaskForm: set the token field once, here.
FlaskForm.Meta.csrf_class = _CSRFWithoutId


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _new_password(label):
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)])


def _password_repeat():
    return PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class SignupForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = _new_password(_l("Password"))
    password_repeat = _password_repeat()
    consent = BooleanField(
        _l("I consent to the processing of my personal data"),
        validators=[DataRequired(message=_l("Consent is required to create an account."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class ResetPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    password_repeat = _password_repeat()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = _new_password(_l("New password"))
    password_repeat = _password_repeat()


def municipality_choices():
    return (
        [("", _l("— choose —"))]
        + [(name, name) for name in MUNICIPALITIES]
        + [(OTHER_REGION, _l("Other region"))]
    )


class OrganisationForm(FlaskForm):
    """The organisation block (type, name, INN): the profile and event registration."""

    organisation_type = SelectField(_l("Organisation type"), validators=[Optional()])
    # No Optional(): it would stop the chain before validate_organisation_name below.
    organisation_name = StringField(_l("Organisation name"), validators=[Length(max=300)])
    # Stripped first: an INN pasted with spaces around it is still 10 or 12 digits.
    inn = StringField(_l("INN"), filters=[_strip], validators=[Optional(), Length(max=12)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_type.choices = [("", _l("— none —"))] + [
            (kind.value, label) for kind, label in ORGANISATION_TYPE_LABELS.items()
        ]

    def validate_inn(self, field):
        if field.data and (error := inn_error(field.data)):
            raise ValidationError(error)

    def validate_organisation_name(self, field):
        kind = self.organisation_type.data
        if kind and kind != "individual" and not (field.data or "").strip():
            raise ValidationError(_l("Give the organisation's name."))


class ProfileForm(OrganisationForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=30)])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    locale = SelectField(
        _l("Language"), choices=[("ru", "Русский"), ("en", "English")], validators=[Optional()]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = municipality_choices()


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    confirm = BooleanField(
        _l("I understand that my account will be deleted for good"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[(role.value, label) for role, label in ROLE_LABELS.items()]
    )
    action = SelectField(choices=[("grant", "grant"), ("revoke", "revoke")])


class ConfirmForm(FlaskForm):
    """An empty form: a button that POSTs with a CSRF token (enrol, cancel, delete)."""


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes: easier on a phone than a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApiTokenForm(FlaskForm):
    """A personal API token for a check-in app; its name says where it is used."""

    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        filters=[_strip],
        render_kw={"placeholder": _l("e.g. Scanner at the main door")},
    )


class RevokeApiTokenForm(FlaskForm):
    token_id = HiddenField()
