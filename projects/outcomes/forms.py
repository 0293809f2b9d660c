"""The team's story form and a photo upload; the audit's questionnaire is built from
projects.outcomes.audit.AREAS in its template."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class StoryForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    story = TextAreaField(_l("Our story"), validators=[Length(max=10000)])
    publish_story = BooleanField(_l("Publish this part"))
    problem = TextAreaField(_l("The problem we took on"), validators=[Length(max=5000)])
    publish_problem = BooleanField(_l("Publish this part"))
    actions = TextAreaField(_l("What we did"), validators=[Length(max=5000)])
    publish_actions = BooleanField(_l("Publish this part"))
    results = TextAreaField(_l("Results"), validators=[Length(max=5000)])
    publish_results = BooleanField(_l("Publish this part"))
    publish_municipality = BooleanField(_l("Publish the municipality"))
    publish_partners = BooleanField(_l("Publish the partner organisations"))
    publish_team = BooleanField(_l("Publish the team members' names (each member agreed)"))


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (PNG or JPEG)"), validators=[FileRequired()])
    caption = StringField(_l("Caption"), validators=[Length(max=300)])
    publish = BooleanField(_l("Publish this photo (everyone in it agreed)"))
