"""Forms of the template editor. The layout form is a table of fields with their
coordinates: it works without JavaScript, and the visual editor only fills it in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from certificates.layout import ALIGNMENTS, FIELD_TYPES, FONT_LABELS
from certificates.models import TemplateKind


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _kind_choices():
    return [(kind.value, kind.label) for kind in TemplateKind]


class TemplateForm(FlaskForm):
    """Creating a template, and its title and kind afterwards."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    kind = SelectField(_l("Kind"), choices=_kind_choices)


class BackgroundForm(FlaskForm):
    file = FileField(
        _l("Background (PDF page, PNG or JPEG, A4)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


class SignatureForm(FlaskForm):
    file = FileField(
        _l("Signature image (PNG or JPEG)"), validators=[FileRequired(_l("Choose a file."))]
    )


class LayoutFieldForm(Form):
    """One placed field. Values stay text: certificates.layout.validate_layout checks
    them and says what is wrong in the organiser's words."""

    type = SelectField(
        _l("Field"), choices=lambda: [("", "—"), *FIELD_TYPES.items()], validate_choice=False
    )
    x = StringField(_l("X, mm"))
    y = StringField(_l("Y, mm"))
    width = StringField(_l("Width, mm"))
    height = StringField(_l("Height, mm"))
    font = SelectField(_l("Font"), choices=lambda: list(FONT_LABELS.items()), validate_choice=False)
    size = StringField(_l("Size, pt"))
    align = SelectField(
        _l("Alignment"),
        choices=lambda: list(zip(ALIGNMENTS, [_l("Left"), _l("Centre"), _l("Right")], strict=True)),
        validate_choice=False,
    )
    color = StringField(_l("Colour"))
    text = StringField(_l("Text"), filters=[_strip])
    image = HiddenField()
    remove = BooleanField(_l("Remove"))


class LayoutForm(FlaskForm):
    fields = FieldList(FormField(LayoutFieldForm))

    def layout(self) -> dict:
        """The layout the rows describe: rows without a type or marked "remove" are left
        out; numbers are parsed, anything else is passed on for validation to report."""
        fields = []
        for row in self.fields:
            data = row.form.data
            if not data["type"] or data["remove"]:
                continue
            field = {"type": data["type"]}
            for key in ("x", "y", "width", "height", "size"):
                field[key] = _number(data[key])
            if data["type"] == "qr":
                del field["size"]
            elif data["type"] == "signature":
                del field["size"]
                field["image"] = data["image"]
            else:
                field.update(font=data["font"], align=data["align"], color=data["color"])
                if data["type"] == "text":
                    field["text"] = data["text"]
            fields.append(field)
        return {"fields": fields}


def _number(value: str | None):
    """A float for '12', '12.5' or '12,5' (a Russian keyboard's decimal comma); the text as
    it was otherwise, for the validation message."""
    try:
        return float((value or "").strip().replace(",", "."))
    except ValueError:
        return value
