"""The organisers' forms: a feedback form's settings, a question, a template to start from.
The answer page is built from the form's own questions (feedback/templates/answer.html)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from feedback.models import FEEDBACK_KIND_LABELS
from feedback.services import TEMPLATES
from webapp.filters import local_datetime
from webapp.forms import BoundedDateField


class SettingsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    intro = TextAreaField(_l("A few words to the participants"), validators=[Length(max=2000)])
    session_id = SelectField(_l("About"), coerce=str, validate_choice=True)
    anonymous = BooleanField(_l("Anonymous: answers are not linked to people"))
    closes_on = BoundedDateField(_l("Answers taken until (inclusive)"), validators=[Optional()])

    def __init__(self, event, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_id.choices = [("", _l("The whole event, after its last session"))] + [
            (str(s.id), local_datetime(s.starts_at, event.tz, "dd.MM.yyyy HH:mm"))
            for s in event.sessions
        ]


class NewFormForm(SettingsForm):
    template = SelectField(
        _l("Start from"),
        choices=[("", _l("An empty form"))]
        + [(key, label) for key, (label, _) in TEMPLATES.items()],
        validate_choice=True,
    )


class QuestionForm(FlaskForm):
    label = StringField(_l("Question"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(
        _l("Kind"), choices=[(kind.value, label) for kind, label in FEEDBACK_KIND_LABELS.items()]
    )
    options = TextAreaField(_l("Choices, one per line"), validators=[Length(max=2000)])
    required = BooleanField(_l("Required"))
