"""Forms of projects: the project itself, its steps, roadmap, consultations, level
decisions, and the organisers' board filters."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from courses.models import DIRECTION_LABELS, LEVEL_SHORT_LABELS
from projects.models import LEVELS, MilestoneStatus
from webapp.forms import BoundedDateField, municipality_choices


def level_choices():
    return [(level, LEVEL_SHORT_LABELS[level]) for level in LEVELS]


def _optional_id(value):
    """A select's "" (none chosen) as None, an id as an int."""
    return int(value) if value not in (None, "", "None") else None


def _lines(text: str | None) -> list[str]:
    """One item a line (commas and semicolons also separate e-mails)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProjectForm(FlaskForm):
    title = StringField(_l("Project title"), validators=[DataRequired(), Length(max=300)])
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[DataRequired()])
    direction = SelectField(
        _l("Direction"), choices=[(k.value, v) for k, v in DIRECTION_LABELS.items()]
    )
    target_group = StringField(_l("Target group"), validators=[Optional(), Length(max=300)])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    description = TextAreaField(_l("Short description"), validators=[Optional(), Length(max=5000)])
    started_on = BoundedDateField(_l("Started on"), validators=[DataRequired()])
    member_emails = TextAreaField(
        _l("Team members' e-mails, one a line (you lead the project)"),
        validators=[Optional(), Length(max=5000)],
    )
    partners = TextAreaField(
        _l("Partner organisations: INN or exact name, one a line"),
        validators=[Optional(), Length(max=5000)],
    )
    is_joint = BooleanField(_l("Joint project of several organisations"))

    def __init__(self, programmes, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_id.choices = [(p.id, p.title) for p in programmes]
        self.municipality.choices = municipality_choices()

    def member_email_list(self) -> list[str]:
        return [e for line in _lines(self.member_emails.data)
                for e in line.replace(";", ",").split(",") if e.strip()]  # fmt: skip

    def partner_list(self) -> list[str]:
        return _lines(self.partners.data)


class StepEditForm(FlaskForm):
    """A step's title and the course whose completion ticks it."""

    title = StringField(_l("Step"), validators=[DataRequired(), Length(max=300)])
    course_id = SelectField(_l("Ticked when a member completes"), coerce=_optional_id)

    def __init__(self, courses, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.course_id.choices = [("", _l("— no course —"))] + [(c.id, c.title) for c in courses]


class StepForm(StepEditForm):
    """A new step, on a level."""

    level = SelectField(_l("Level"), coerce=int, choices=level_choices())


class MilestoneForm(FlaskForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=300)])
    level = SelectField(_l("Level"), coerce=int, choices=level_choices())
    due_on = BoundedDateField(_l("Due on"), validators=[DataRequired()])
    status = SelectField(
        _l("Status"), choices=[(s.value, s.label) for s in MilestoneStatus], default="planned"
    )
    done_on = BoundedDateField(_l("Done on (empty: today)"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class ConsultationForm(FlaskForm):
    held_on = BoundedDateField(_l("Date"), validators=[DataRequired()])
    expert_id = SelectField(_l("Expert"), coerce=_optional_id)
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=300)])
    level = SelectField(_l("Level"), coerce=int, choices=level_choices())
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Optional(), Length(max=5000)])

    def __init__(self, experts, *args, **kwargs):
        super().__init__(*args, **kwargs)
        not_named = ("", _l("— not named —"))
        self.expert_id.choices = [not_named] + [(u.id, u.full_name) for u in experts]


class LevelForm(FlaskForm):
    to_level = SelectField(_l("Move to"), coerce=int, choices=level_choices())
    comment = TextAreaField(
        _l("Decision and its reasons"), validators=[DataRequired(), Length(max=5000)]
    )
    confirm_skip = BooleanField(_l("Skip a level: the organisers decided so"))


class MentorForm(FlaskForm):
    mentor_id = SelectField(_l("Mentor"), coerce=_optional_id)

    def __init__(self, mentors, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mentor_id.choices = [("", _l("— none —"))] + [(u.id, u.full_name) for u in mentors]


class BoardFilterForm(FlaskForm):
    """The board's filters: a GET form, so a filtered board has a link to share."""

    class Meta:
        csrf = False

    programme = SelectField(_l("Programme"), coerce=_optional_id, validators=[Optional()])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])

    def __init__(self, programmes, municipalities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        anything = ("", _l("Any"))
        self.programme.choices = [anything] + [(p.id, p.title) for p in programmes]
        self.municipality.choices = [anything] + [(m, m) for m in municipalities]
