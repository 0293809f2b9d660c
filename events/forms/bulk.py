"""The registrant list's bulk bar: the people ticked on the page and what to do with them."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from events.services.bulk import ACTION_LABELS


class PickedField(SelectMultipleField):
    """The ticked rows' registration ids; any integers (the service keeps the event's)."""

    def pre_validate(self, form) -> None:
        pass

    def process_formdata(self, valuelist) -> None:
        self.data = [int(value) for value in valuelist if value.isdigit()]


class BulkForm(FlaskForm):
    ids = PickedField(_l("Picked"), coerce=int)
    action = SelectField(
        _l("With the picked people"),
        choices=[("", _l("Choose an action…"))] + list(ACTION_LABELS.items()),
        validators=[DataRequired(_l("Choose an action."))],
    )
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[Optional(), Length(max=20000)])
    next = HiddenField()
