"""The public events list's filters: a GET form, so a filtered list has a link to share."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from events.services.listing import OFFLINE, ONLINE, PAST, UPCOMING, EventFilter
from webapp.models import MUNICIPALITIES


class EventListForm(FlaskForm):
    class Meta:
        csrf = False

    when = SelectField(
        _l("When"), choices=[(UPCOMING, _l("Upcoming")), (PAST, _l("Past"))], default=UPCOMING
    )
    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    date_from = DateField(_l("From date"), validators=[Optional()])
    date_to = DateField(_l("To date"), validators=[Optional()])
    format = SelectField(
        _l("Format"),
        choices=[("", _l("Any")), (OFFLINE, _l("In person")), (ONLINE, _l("Online"))],
        default="",
    )
    municipality = SelectField(_l("Municipality"), default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = [("", _l("Any"))] + [(name, name) for name in MUNICIPALITIES]

    def to_filter(self) -> EventFilter:
        """What was asked; a value that does not validate (a bad date, an unknown choice) is
        left out rather than refused, so a shared link never breaks."""
        self.validate()

        def valid(field):
            return None if field.errors else field.data

        return EventFilter(
            text=(valid(self.q) or "").strip(),
            date_from=valid(self.date_from),
            date_to=valid(self.date_to),
            format=valid(self.format) or None,
            municipality=valid(self.municipality) or None,
        )

    @property
    def when_value(self) -> str:
        return PAST if self.when.data == PAST and not self.when.errors else UPCOMING
