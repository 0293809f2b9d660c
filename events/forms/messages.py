"""The organiser's message to registrants."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from events.models import STATUS_LABELS

ANY = ""
CHECKED_IN_CHOICES = [
    (ANY, _l("Checked in or not")),
    ("yes", _l("Checked in")),
    ("no", _l("Not checked in")),
]


class AnnouncementForm(FlaskForm):
    status = SelectField(
        _l("Registrants"),
        choices=[(ANY, _l("Everyone not cancelled"))]
        + [(status.value, label) for status, label in STATUS_LABELS.items()],
        default=ANY,
    )
    checked_in = SelectField(_l("Check-in"), choices=CHECKED_IN_CHOICES, default=ANY)
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)])
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send"))
