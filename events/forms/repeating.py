"""The "repeat weekly" fields of the forms that add a session (an event's agenda item, a
course's meeting)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from events.forms.manage import AgendaSessionForm, SessionForm
from events.services.repeating import MAX_SESSIONS, RepeatError, Series, add_series

ONCE, TIMES, UNTIL = "", "times", "until"


class RepeatFields:
    repeat = SelectField(
        _l("How often"),
        choices=[
            (ONCE, _l("Once")),
            (TIMES, _l("Weekly, a number of times")),
            (UNTIL, _l("Weekly, until a date")),
        ],
        default=ONCE,
    )
    repeat_count = IntegerField(
        _l("Number of sessions"),
        validators=[Optional(), NumberRange(min=2, max=MAX_SESSIONS)],
        description=_l("The first one included."),
    )
    repeat_until = DateField(_l("Last date"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        # Not validate_<field>: Optional() ends an empty field's chain before them.
        valid = super().validate(extra_validators)
        if self.repeat.data == TIMES and not self.repeat_count.data:
            if not self.repeat_count.errors:
                self.repeat_count.errors.append(_l("How many sessions?"))
            valid = False
        if self.repeat.data == UNTIL and not self.repeat_until.data:
            if not self.repeat_until.errors:
                self.repeat_until.errors.append(_l("Until which date?"))
            valid = False
        return valid

    def series(self) -> Series:
        return Series(
            first=self.date.data,
            starts=self.starts.data,
            ends=self.ends.data,
            room=self.room.data or "",
            count=self.repeat_count.data if self.repeat.data == TIMES else None,
            until=self.repeat_until.data if self.repeat.data == UNTIL else None,
        )


class NewSessionForm(RepeatFields, SessionForm):
    """A course's new session, once or weekly."""


class NewAgendaSessionForm(RepeatFields, AgendaSessionForm):
    """An event's new agenda item, once or weekly."""


def add_sessions(event_id: int, form: RepeatFields) -> int | None:
    """Add the weekly sessions the form asks for; how many, or None when the form asks for
    one session (the caller saves it) or the series is refused (the error is on the form)."""
    if form.repeat.data == ONCE:
        return None
    try:
        return len(add_series(event_id, form.series()))
    except RepeatError as refused:
        form[refused.field].errors.append(refused.message)
        return None
