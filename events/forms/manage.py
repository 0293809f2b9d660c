"""Organisers' forms: an event, a session of its agenda (courses use the same form for
theirs), a registration question."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from events.models import QUESTION_KIND_LABELS, QuestionKind, Visibility
from webapp.forms import (
    BoundedDateField,
    BoundedDateTimeField,
    CheckboxListField,
    WholeNumberField,
    municipality_choices,
)
from webapp.timezones import timezone_choices

_DATETIME = "%Y-%m-%dT%H:%M"


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(
        _l("Description (Markdown)"), validators=[Optional(), Length(max=20000)]
    )
    # InputRequired, not DataRequired: a typed date that does not parse keeps its own message.
    starts_at = BoundedDateTimeField(_l("Starts"), format=_DATETIME, validators=[InputRequired()])
    ends_at = BoundedDateTimeField(_l("Ends"), format=_DATETIME, validators=[InputRequired()])
    timezone = SelectField(_l("Time zone"))
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    online_url = URLField(
        _l("Online link"),
        validators=[Optional(), URL(message=_l("Give a full link, https://…")), Length(max=500)],
    )
    capacity = WholeNumberField(
        _l("Places (empty: no limit)"), validators=[Optional(), NumberRange(min=1, max=100000)]
    )
    registration_opens_at = BoundedDateTimeField(
        _l("Registration opens"), format=_DATETIME, validators=[Optional()]
    )
    registration_closes_at = BoundedDateTimeField(
        _l("Registration closes (empty: when the event ends)"),
        format=_DATETIME,
        validators=[Optional()],
    )
    visibility = SelectField(
        _l("Visibility"),
        choices=[
            (Visibility.DRAFT.value, _l("Draft")),
            (Visibility.PUBLISHED.value, _l("Published")),
        ],
        default=Visibility.DRAFT.value,
    )
    requires_approval = BooleanField(_l("An organiser approves each registration"))
    asks_organisation = BooleanField(_l("Ask for the organisation (type, name, INN)"))
    staff_ids = CheckboxListField(
        _l("Staff who may check people in"), coerce=int, validators=[Optional()]
    )

    def __init__(self, *args, event_timezone: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        default_zone = current_app.config["TROPA_TIMEZONE"]
        self.timezone.choices = timezone_choices(default_zone, event_timezone or "")
        self.municipality.choices = municipality_choices()
        if not self.timezone.data:
            self.timezone.data = default_zone

    def validate_ends_at(self, field):
        starts = self.starts_at.data if "starts_at" in self else None
        if starts and field.data and field.data <= starts:
            raise ValidationError(_l("An event must end after it starts."))

    def validate_registration_closes_at(self, field):
        opens = self.registration_opens_at.data
        if field.data and opens and field.data <= opens:
            raise ValidationError(_l("Registration must close after it opens."))


class SessionForm(FlaskForm):
    """A session on one day: a course's meeting, an item of an event's agenda."""

    date = BoundedDateField(_l("Date"), validators=[DataRequired()])
    starts = TimeField(_l("Starts"), validators=[DataRequired()])
    ends = TimeField(_l("Ends"), validators=[DataRequired()])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=200)])

    def validate_ends(self, field):
        if self.starts.data and field.data and field.data <= self.starts.data:
            raise ValidationError(_l("A session must end after it starts."))


class AgendaSessionForm(SessionForm):
    # A session has no title of its own: for an agenda, this line says what and where.
    room = StringField(
        _l("Topic and room"),
        validators=[Optional(), Length(max=200)],
        description=_l("For example: Plenary session, hall 1"),
    )


class QuestionForm(FlaskForm):
    label = StringField(_l("Question"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(
        _l("Kind of answer"), choices=[(k.value, v) for k, v in QUESTION_KIND_LABELS.items()]
    )
    required = BooleanField(_l("An answer is required"))
    options = TextAreaField(
        _l("Choices, one a line"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Only for the kinds with choices."),
    )

    def validate_options(self, field):
        if self.kind.data in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
            lines = {line.strip() for line in (field.data or "").splitlines() if line.strip()}
            if len(lines) < 2:
                raise ValidationError(_l("Give at least two choices, one a line."))
            if any(len(line) > 200 for line in lines):
                raise ValidationError(_l("A choice is at most 200 characters long."))
