"""Forms of the catalogue and of course management."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from courses.models import (
    ANSWER_STATUS_LABELS,
    COMPLETION_RULE_LABELS,
    DIRECTION_LABELS,
    FORMAT_LABELS,
    LEVEL_LABELS,
    MATERIAL_KIND_LABELS,
    AnswerStatus,
    CompletionRule,
    MaterialKind,
)
from events.models import (
    ATTENDANCE_STATUS_LABELS,
    STATUS_LABELS,
    AttendanceStatus,
    RegistrationStatus,
    Visibility,
)
from webapp.forms import BoundedDateTimeField, WholeNumberField


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
    # Always has a value: no `required` attribute (HTML wants an empty first option with it).
    programme_id = SelectField(
        _l("Programme"), coerce=int, validators=[DataRequired()], render_kw={"required": False}
    )
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
    academic_hours = WholeNumberField(
        _l("Academic hours"), default=0, validators=[Optional(), NumberRange(min=0, max=2000)]
    )
    capacity = WholeNumberField(
        _l("Places (empty: no limit)"), validators=[Optional(), NumberRange(min=1, max=100000)]
    )
    registration_opens_at = BoundedDateTimeField(
        _l("Enrolment opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    registration_closes_at = BoundedDateTimeField(
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


# --- Learning materials -----------------------------------------------------------------


class ModuleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    opens_at = BoundedDateTimeField(
        _l("Opens on (empty: at once)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    opens_after_previous = BooleanField(_l("Opens when the previous module is complete"))
    hidden = BooleanField(_l("Hidden from participants"))


class MaterialForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in MATERIAL_KIND_LABELS.items()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(
        _l("Text (Markdown): the page, or the task's instructions"), validators=[Optional()]
    )
    url = URLField(
        _l("Link (video or external page)"),
        validators=[Optional(), URL(message=_l("Give a full link, https://…")), Length(max=1000)],
    )
    file = FileField(_l("File (PDF, DOCX, XLSX, PPTX, PNG, JPEG)"))
    completion = SelectField(
        _l("Complete when"), choices=[(k.value, v) for k, v in COMPLETION_RULE_LABELS.items()]
    )
    required = BooleanField(_l("Required for completing the course"), default=True)
    opens_at = BoundedDateTimeField(
        _l("Opens on (empty: at once)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    opens_after_previous = BooleanField(_l("Opens when the previous material is complete"))
    due_at = BoundedDateTimeField(
        _l("A task's answer is due on (empty: no deadline)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    hidden = BooleanField(_l("Hidden from participants"))

    def validate_url(self, field):
        if self.kind.data == MaterialKind.LINK and not field.data:
            raise ValidationError(_l("A link material needs its link."))

    def validate_completion(self, field):
        if field.data == CompletionRule.ACCEPTED and self.kind.data != MaterialKind.TASK:
            raise ValidationError(_l("Only a task's answer can be accepted."))


class TaskAnswerForm(FlaskForm):
    text = TextAreaField(_l("Your answer"), validators=[Optional(), Length(max=20000)])
    file = FileField(_l("File (PDF, DOCX, XLSX, PPTX, PNG, JPEG)"))


class ReviewForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[
            (AnswerStatus.ACCEPTED.value, ANSWER_STATUS_LABELS[AnswerStatus.ACCEPTED]),
            (AnswerStatus.NEEDS_REWORK.value, ANSWER_STATUS_LABELS[AnswerStatus.NEEDS_REWORK]),
        ],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])


class CompletionRulesForm(FlaskForm):
    min_attendance_rate = WholeNumberField(
        _l("Minimum attendance of past sessions, % (empty: not checked)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    requires_materials = BooleanField(_l("All required materials complete"))
    requires_tasks = BooleanField(_l("All required tasks accepted"))
    requires_signoff = BooleanField(_l("The trainer's sign-off"))


# --- attendance ---------------------------------------------------------------------------


class MarkAttendanceForm(FlaskForm):
    """One button of the register: a participant's status at the session."""

    registration_id = WholeNumberField(validators=[DataRequired()])
    status = SelectField(
        choices=[(s.value, ATTENDANCE_STATUS_LABELS[s]) for s in AttendanceStatus],
        validators=[DataRequired()],
    )


class AttendanceSettingsForm(FlaskForm):
    attendance_threshold = WholeNumberField(
        _l("Flag participants below this attendance, %"),
        validators=[DataRequired(), NumberRange(min=1, max=100)],
    )
    code_step_seconds = WholeNumberField(
        _l("The self-check-in code changes every (seconds)"),
        validators=[DataRequired(), NumberRange(min=5, max=300)],
    )
    refuse_same_ip = BooleanField(
        _l("Refuse a second participant's self-check-in from the same network address")
    )
