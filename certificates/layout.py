"""A certificate template's layout: what an organiser may place on the page, as a schema.

A layout is JSON from the template editor: `{"fields": [...]}`, each field a box in
millimetres from the page's top-left corner. Its schema is written once, as dataclasses
whose fields carry their rule (a number, one of some choices, a pattern) and the message
an organiser reads when the rule is broken; `validate_layout` reads any JSON against it and
returns the layout in its normal form, or LayoutError listing every problem, field by field.
Drawing is certificates.rendering.
"""

import dataclasses
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# layout name → (reportlab name, file); the editor shows the same files through @font-face
FONTS = {
    "sans": ("DejaVuSans", "DejaVuSans.ttf"),
    "sans-bold": ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf"),
    "serif": ("DejaVuSerif", "DejaVuSerif.ttf"),
    "serif-bold": ("DejaVuSerif-Bold", "DejaVuSerif-Bold.ttf"),
}
FONT_LABELS = {
    "sans": _l("DejaVu Sans"),
    "sans-bold": _l("DejaVu Sans Bold"),
    "serif": _l("DejaVu Serif"),
    "serif-bold": _l("DejaVu Serif Bold"),
}
ALIGNMENTS = ("left", "center", "right")

# Field types: what each prints. The text types print the snapshot's value in Russian;
# "text" prints its own text with {placeholders} (the text types' names) filled in.
FIELD_TYPES = {
    "holder_name": _l("Participant name"),
    "title": _l("Course or event title"),
    "programme": _l("Programme"),
    "hours": _l("Academic hours"),
    "dates": _l("Dates"),
    "issued_on": _l("Issue date"),
    "serial": _l("Serial number"),
    "issuer": _l("Issuing organisation"),
    "trainers": _l("Trainer names"),
    "text": _l("Free text"),
    "signature": _l("Signature image"),
    "qr": _l("QR code of the verification address"),
}
TEXT_TYPES = (
    "holder_name",
    "title",
    "programme",
    "hours",
    "dates",
    "issued_on",
    "serial",
    "issuer",
    "trainers",
)
PLACEHOLDER = re.compile(r"\{([a-z_]*)\}")

PAGE_MM = {False: (210.0, 297.0), True: (297.0, 210.0)}  # landscape → (width, height)
MIN_BOX_MM = 2.0
FONT_SIZES = (4.0, 120.0)
MAX_FIELDS = 60
MAX_TEXT = 500
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


class LayoutError(ValueError):
    """A layout that cannot be rendered; `messages` say what to fix, field by field."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def page_size_mm(is_landscape: bool) -> tuple[float, float]:
    return PAGE_MM[bool(is_landscape)]


# --- the schema --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one key of a field is read: a number (optionally within bounds, rounded to 0.1)
    or one of `choices` or a string matching `pattern`; `problem(value)` is the message
    when it is wrong; a key without `required` takes `default` when absent."""

    problem: Callable[[object], str]
    number: bool = False
    bounds: tuple[float, float] | None = None
    choices: Collection[str] | None = None
    pattern: re.Pattern | None = None
    lower: bool = False  # store it lower-cased (colours)

    def read(self, value) -> object | None:
        """The clean value, or None when the rule is broken."""
        if self.number:
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                return None
            if self.bounds and not self.bounds[0] <= value <= self.bounds[1]:
                return None
            return round(float(value), 1)
        if self.choices is not None:
            return value if isinstance(value, str) and value in self.choices else None
        if self.pattern is not None:
            if not isinstance(value, str) or not self.pattern.fullmatch(value):
                return None
            return value.lower() if self.lower else value
        return value


def rule(problem: Callable[[object], str], default=dataclasses.MISSING, **checks):
    """A schema field: its Rule in the dataclass field's metadata."""
    return field(default=default, metadata={"rule": Rule(problem, **checks)})


def _millimetres(key: str) -> Callable[[object], str]:
    return lambda _value: _("%(key)s must be a number of millimetres.", key=key)


@dataclass(frozen=True)
class Box:
    """Where a field sits on the page, in millimetres from its top-left corner."""

    x: float = rule(_millimetres("x"), number=True)
    y: float = rule(_millimetres("y"), number=True)
    width: float = rule(_millimetres("width"), number=True)
    height: float = rule(_millimetres("height"), number=True)

    def problems(self, page_width: float, page_height: float) -> list[str]:
        found = []
        if self.width < MIN_BOX_MM or self.height < MIN_BOX_MM:
            found.append(_("the box must be at least %(n)s mm wide and high.", n=MIN_BOX_MM))
        if (
            self.x < 0
            or self.y < 0
            or self.x + self.width > page_width + 0.05
            or self.y + self.height > page_height + 0.05
        ):
            found.append(
                _(
                    "the box is off the page (the page is %(w)s × %(h)s mm).",
                    w=int(page_width),
                    h=int(page_height),
                )
            )
        return found


@dataclass(frozen=True)
class TextStyle:
    """How a text field is printed."""

    font: str = rule(
        lambda value: _("unknown font %(font)r.", font=str(value)[:40]), "sans", choices=FONTS
    )
    size: float = rule(
        lambda _value: _(
            "the font size must be from %(low)d to %(high)d pt.",
            low=FONT_SIZES[0],
            high=FONT_SIZES[1],
        ),
        12,
        number=True,
        bounds=FONT_SIZES,
    )
    align: str = rule(
        lambda _value: _("the alignment must be left, center or right."),
        "center",
        choices=ALIGNMENTS,
    )
    color: str = rule(
        lambda _value: _("the colour must look like #1a2b3c."),
        "#000000",
        pattern=COLOUR,
        lower=True,
    )


@dataclass(frozen=True)
class Signature:
    """A signature field's image: one of the template's uploads, by its storage name."""

    image: str = rule(
        lambda _value: _("a signature needs an uploaded image."), pattern=STORAGE_NAME
    )


# The parts each type of field is made of (a "text" field has its own text as well).
PARTS: dict[str, tuple[type, ...]] = {
    **{kind: (Box, TextStyle) for kind in (*TEXT_TYPES, "text")},
    "signature": (Box, Signature),
    "qr": (Box,),
}


def _read_part(part: type, raw: dict) -> tuple[dict, list[str]]:
    """The part's keys read from the raw field by their rules: (clean values, problems)."""
    clean, problems = {}, []
    for schema_field in dataclasses.fields(part):
        key, part_rule = schema_field.name, schema_field.metadata["rule"]
        if key not in raw and schema_field.default is not dataclasses.MISSING:
            clean[key] = schema_field.default
        elif (value := part_rule.read(raw.get(key))) is None:
            problems.append(part_rule.problem(raw.get(key)))
        else:
            clean[key] = value
    return clean, problems


def _free_text_problems(text) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return [_("a free text needs its text.")]
    if len(text) > MAX_TEXT:
        return [_("the text is longer than %(n)d characters.", n=MAX_TEXT)]
    unknown = sorted(set(PLACEHOLDER.findall(text)) - set(TEXT_TYPES))
    if unknown:
        return [
            _(
                "unknown placeholder %(names)s; known: %(known)s.",
                names=", ".join(f"{{{name}}}" for name in unknown),
                known=", ".join(f"{{{name}}}" for name in TEXT_TYPES),
            )
        ]
    return []


# --- validation --------------------------------------------------------------------------


def validate_layout(layout, is_landscape: bool) -> dict:
    """The layout in its normal form ({"fields": [...]}, numbers rounded to 0.1 mm), or
    LayoutError listing every problem."""
    if not isinstance(layout, dict) or not isinstance(layout.get("fields"), list):
        raise LayoutError([_('The layout must be an object with a list of "fields".')])
    fields = layout["fields"]
    if len(fields) > MAX_FIELDS:
        raise LayoutError([_("A layout has at most %(n)d fields.", n=MAX_FIELDS)])
    page_width, page_height = page_size_mm(is_landscape)
    errors: list[str] = []
    normal = []
    for number, raw in enumerate(fields, start=1):
        problems, clean = _validate_field(raw, page_width, page_height)
        errors += [_("Field %(n)d: %(problem)s", n=number, problem=p) for p in problems]
        normal.append(clean)
    if errors:
        raise LayoutError(errors)
    return {"fields": normal}


def _validate_field(raw, page_width: float, page_height: float) -> tuple[list[str], dict]:
    if not isinstance(raw, dict):
        return [_("must be an object.")], {}
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        return [_("unknown field type %(type)r.", type=str(kind)[:40])], {}
    clean: dict = {"type": kind}
    problems: list[str] = []
    for part in PARTS[kind]:
        values, part_problems = _read_part(part, raw)
        clean.update(values)
        problems += part_problems
        if part is Box and not part_problems:
            problems += Box(**values).problems(page_width, page_height)
    if kind == "text":
        text_problems = _free_text_problems(raw.get("text"))
        problems += text_problems
        if not text_problems:
            clean["text"] = raw["text"].strip()
    return problems, clean
