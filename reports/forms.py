"""The dashboard's filters and the targets form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from reports.models import Indicator
from webapp.forms import BoundedDateField, WholeNumberField, municipality_choices

MAX_TARGET = 1_000_000


class ReportFilterForm(FlaskForm):
    """A GET form: a filtered dashboard is a link to share."""

    class Meta:
        csrf = False

    date_from = BoundedDateField(_l("From"), validators=[Optional()])
    date_to = BoundedDateField(_l("Until"), validators=[Optional()])
    programme = SelectField(_l("Programme"), validators=[Optional()])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])

    def __init__(self, programmes, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme.choices = [("", _l("All programmes"))] + [
            (str(p.id), p.title) for p in programmes
        ]
        self.municipality.choices = [("", _l("All municipalities"))] + municipality_choices()[1:]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period is before its start."))


def target_field_name(programme_id: int, indicator: Indicator) -> str:
    return f"target_{programme_id}_{indicator.value}"


def targets_form(programmes, current: dict) -> FlaskForm:
    """One integer field per programme and indicator; empty means "use the default"."""

    class TargetsForm(FlaskForm):
        pass

    for programme in programmes:
        for indicator in Indicator:
            setattr(
                TargetsForm,
                target_field_name(programme.id, indicator),
                WholeNumberField(
                    indicator.label,
                    validators=[
                        Optional(),
                        NumberRange(
                            min=0,
                            max=MAX_TARGET,
                            message=_l(
                                "A target is a whole number from 0 to %(max)s.", max=MAX_TARGET
                            ),
                        ),
                    ],
                    default=current.get((programme.id, indicator)),
                ),
            )
    return TargetsForm()
