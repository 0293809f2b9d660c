"""Forms of issuing: an event's certificate settings and revoking with a reason."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

DEFAULT_TEMPLATE = 0  # the template_id choice meaning "the default template of the kind"


class CertificateSettingsForm(FlaskForm):
    enabled = BooleanField(_l("Issue certificates"))
    template_id = SelectField(_l("Template"), coerce=int, default=DEFAULT_TEMPLATE)

    def set_templates(self, templates) -> None:
        self.template_id.choices = [(DEFAULT_TEMPLATE, _l("The default template"))] + [
            (template.id, template.title) for template in templates
        ]


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Give the reason: it is shown on the verification page.")),
            Length(max=1000),
        ],
        description=_l("Shown on the public verification page. Revoking cannot be undone."),
    )
