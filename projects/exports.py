"""A project's "roadmap and technology map" — the document the centre gives its funders —
as a PDF and as the sheets of an XLSX workbook: the trajectory's steps per level with their
state, the roadmap's milestones with dates and status, and a summary of the consultations."""

import io
from xml.sax.saxutils import escape

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from courses.models import LEVEL_LABELS
from events.services.tickets import BOLD, REGULAR, a4_document, register_fonts  # once per process
from projects.models import LEVELS, Project
from projects.services import is_overdue, today

# --- the rows both documents show ----------------------------------------------------------


def _day(value) -> str:
    return format_date(value, "dd.MM.yyyy") if value else ""


def summary_rows(project: Project) -> list[tuple[str, str]]:
    partners = ", ".join(o.name for o in project.partners)
    members = ", ".join(
        f"{m.user.full_name} ({m.role.label})" for m in project.members if m.user is not None
    )
    return [
        (_("Project"), project.title),
        (_("Programme"), project.programme.title),
        (_("Direction"), project.direction.label),
        (_("Target group"), project.target_group),
        (_("Municipality"), project.municipality or ""),
        (_("Lead organisation"), project.organisation.name if project.organisation else ""),
        (_("Partner organisations"), partners),
        (_("Joint project"), _("yes") if project.is_joint else _("no")),
        (_("Team"), members),
        (_("Mentor"), project.mentor.full_name if project.mentor else ""),
        (_("Started on"), _day(project.started_on)),
        (_("Current level"), str(LEVEL_LABELS[project.level])),
        (_("Description"), project.description),
    ]


def step_rows(project: Project) -> list[list]:
    return [
        [
            step.level,
            step.title,
            step.course.title if step.course else "",
            _("done") if step.done_at else _("to do"),
            _day(step.done_at.date()) if step.done_at else "",
        ]
        for step in project.steps
    ]


def milestone_rows(project: Project) -> list[list]:
    on = today()
    return [
        [
            m.level,
            m.title,
            _day(m.due_on),
            m.status.label,
            _day(m.done_on),
            _("overdue") if is_overdue(m, on) else "",
        ]
        for m in project.milestones
    ]


def consultation_rows(project: Project) -> list[list]:
    return [
        [
            _day(c.held_on),
            c.level,
            c.expert.full_name if c.expert else "",
            c.topic,
            c.notes,
            c.next_steps,
        ]
        for c in project.consultations
    ]


def step_header():
    return [_("Level"), _("Step"), _("Course"), _("State"), _("Done on")]


def milestone_header():
    return [_("Level"), _("Milestone"), _("Due on"), _("Status"), _("Done on"), _("Overdue")]


def consultation_header():
    return [_("Date"), _("Level"), _("Expert"), _("Topic"), _("Notes"), _("Next steps")]


# --- XLSX -----------------------------------------------------------------------------------


def roadmap_sheets(project: Project) -> list[tuple[str, list[str], list]]:
    """The workbook's four sheets (title, header, rows): the project, its trajectory, its
    roadmap, its consultations; webapp.export.xlsx_workbook_response writes them."""
    return [
        (_("Project"), [_("Field"), _("Value")], summary_rows(project)),
        (_("Trajectory"), step_header(), step_rows(project)),
        (_("Roadmap"), milestone_header(), milestone_rows(project)),
        (_("Consultations"), consultation_header(), consultation_rows(project)),
    ]


# --- PDF --------------------------------------------------------------------------------------

_TEXT = ParagraphStyle("text", fontName=REGULAR, fontSize=9, leading=11.5)
_SMALL = ParagraphStyle("small", parent=_TEXT, fontSize=8, leading=10)
_TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=17, leading=21, spaceAfter=4)
_HEADING = ParagraphStyle("heading", fontName=BOLD, fontSize=12, leading=15, spaceBefore=10)
_OVERDUE = colors.HexColor("#b91c1c")


def _cell(value, style=_TEXT) -> Paragraph:
    return Paragraph(escape(str(value)).replace("\n", "<br/>"), style)


def _table(header: list[str], rows: list[list], widths: list[float], marks=()) -> Table:
    """A wrapped, repeated-header table; `marks` are the rows drawn in red (overdue)."""
    data = [[_cell(h, _SMALL) for h in header]] + [[_cell(v) for v in row] for row in rows]
    style = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe9")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9ca3af")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index in marks:
        style.append(("BOX", (0, index + 1), (-1, index + 1), 1.2, _OVERDUE))
    return Table(data, colWidths=widths, repeatRows=1, style=TableStyle(style))


def roadmap_pdf(project: Project) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    document = a4_document(buffer, f"{_('Roadmap and technology map')}: {project.title}")
    width = document.width
    story = [
        _cell(_("Roadmap and technology map"), _TEXT),
        _cell(project.title, _TITLE),
        Table(
            [[_cell(k, _SMALL), _cell(v)] for k, v in summary_rows(project) if v],
            colWidths=[45 * mm, width - 45 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),
    ]
    steps = step_rows(project)
    for level in LEVELS:
        marker = " ◀" if level == project.level else ""
        story.append(_cell(f"{LEVEL_LABELS[level]}{marker}", _HEADING))
        rows = [row[1:] for row in steps if row[0] == level]
        if rows:
            widths = [width * 0.42, width * 0.28, width * 0.14, width * 0.16]
            story.append(_table(step_header()[1:], rows, widths))
        else:
            story.append(_cell(_("No steps on this level."), _SMALL))
    story.append(_cell(_("Roadmap"), _HEADING))
    milestones = milestone_rows(project)
    if milestones:
        overdue = [i for i, row in enumerate(milestones) if row[-1]]
        widths = [width * f for f in (0.08, 0.38, 0.14, 0.14, 0.14, 0.12)]
        story.append(_table(milestone_header(), milestones, widths, overdue))
    else:
        story.append(_cell(_("No milestones yet."), _SMALL))
    story.append(_cell(_("Consultations"), _HEADING))
    consultations = consultation_rows(project)
    if consultations:
        widths = [width * f for f in (0.12, 0.07, 0.18, 0.2, 0.23, 0.2)]
        story.append(_table(consultation_header(), consultations, widths))
    else:
        story.append(_cell(_("No consultations yet."), _SMALL))
    story.append(Spacer(1, 6 * mm))
    story.append(_cell(_("Prepared on %(day)s.", day=_day(today())), _SMALL))
    document.build(story)
    return buffer.getvalue()
