"""Forms of the catalogue and of course management."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from courses.models import DIRECTION_LABELS, FORMAT_LABELS, LEVEL_LABELS
from events.models import STATUS_LABELS, RegistrationStatus, Visibility


class CatalogueForm(FlaskForm):
    """The catalogue's filters: a GET form, so a filtered list has a link to share."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    programme = SelectField(_l("Programme"), coerce=str, validators=[Optional()])
    level = SelectField(_l("Level"), validators=[Optional()])
    direction = SelectField(_l("Direction"), validators=[Optional()])
    format = SelectField(_l("Format"), validators=[Optional()])
    free = BooleanField(_l("Has free places"))

    def __init__(self, programmes, *args, **kwargs):
        super().__init__(*args, **kwargs)
        anything = ("", _l("Any"))
        self.programme.choices = [anything] + [(str(p.id), p.title) for p in programmes]
        self.level.choices = [anything] + [(str(int(k)), v) for k, v in LEVEL_LABELS.items()]
        self.direction.choices = [anything] + [(k.value, v) for k, v in DIRECTION_LABELS.items()]
        self.format.choices = [anything] + [(k.value, v) for k, v in FORMAT_LABELS.items()]


class ProgrammeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional()])


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional()])
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[DataRequired()])
    level = SelectField(
        _l("Support level"),
        coerce=int,
        choices=[(int(k), v) for k, v in LEVEL_LABELS.items()],
    )
    direction = SelectField(
        _l("Direction"), choices=[(k.value, v) for k, v in DIRECTION_LABELS.items()]
    )
    format = SelectField(_l("Format"), choices=[(k.value, v) for k, v in FORMAT_LABELS.items()])
    venue = StringField(_l("Venue and address"), validators=[Optional(), Length(max=300)])
    online_url = URLField(
        _l("Online link"),
        validators=[Optional(), URL(message=_l("Give a full link, https://…")), Length(max=500)],
    )
    academic_hours = IntegerField(
        _l("Academic hours"), default=0, validators=[Optional(), NumberRange(min=0, max=2000)]
    )
    capacity = IntegerField(
        _l("Places (empty: no limit)"), validators=[Optional(), NumberRange(min=1, max=100000)]
    )
    registration_opens_at = DateTimeLocalField(
        _l("Enrolment opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    registration_closes_at = DateTimeLocalField(
        _l("Enrolment closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    visibility = SelectField(
        _l("Visibility"),
        choices=[
            (Visibility.DRAFT.value, _l("Draft")),
            (Visibility.PUBLISHED.value, _l("Published")),
        ],
    )
    trainer_ids = SelectMultipleField(_l("Trainers"), coerce=int, validators=[Optional()])

    def validate_registration_closes_at(self, field):
        opens = self.registration_opens_at.data
        if field.data and opens and field.data <= opens:
            raise ValidationError(_l("Enrolment must close after it opens."))


class StatusForm(FlaskForm):
    status = SelectField(
        _l("Status"),
        choices=[
            (s.value, STATUS_LABELS[s])
            for s in (
                RegistrationStatus.CONFIRMED,
                RegistrationStatus.WAITLISTED,
                RegistrationStatus.CANCELLED,
            )
        ],
    )
