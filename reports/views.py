"""The reports blueprint: the monitoring dashboard at /reports/, the lists behind its
numbers, their XLSX exports, the funder's workbook and the programmes' targets."""

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_number, format_percent
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import SelectPagination

from reports import outcomes, services
from reports.forms import ReportFilterForm, target_field_name, targets_form
from reports.models import DEFAULT_TARGETS, Indicator
from reports.services import ReportError, dashboard, lists, targets
from webapp.export import xlsx_response, xlsx_workbook_response
from webapp.extensions import db
from webapp.filters import local_date, month_label
from webapp.models import ORGANISATION_TYPE_LABELS, Role
from webapp.permissions import roles_required

bp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    template_folder="templates",
    static_folder="static/reports",
    static_url_path="/static",
)
# the dashboard's lists, then the outcomes' (feedback, audits: reports.outcomes)
LISTINGS = {**lists.LISTINGS, **outcomes.LISTINGS}
LISTING_NAMES = ",".join(LISTINGS)
PAGE_SIZE = 50


class RowPagination(SelectPagination):
    """Pages of whole rows: Flask-SQLAlchemy's own keep only each row's first column."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select))


@bp.context_processor
def number_formats():
    """Numbers and percentages in the user's locale."""
    return {"format_number": format_number, "format_percent": format_percent}


def read_filters(programmes) -> tuple[ReportFilterForm, services.ReportFilter | None]:
    """The filters of the query string; None when they do not validate (the form says why)."""
    form = ReportFilterForm(programmes, request.args)
    if not form.validate():
        return form, None
    return form, services.ReportFilter(
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        programme_id=int(form.programme.data) if form.programme.data else None,
        municipality=form.municipality.data or None,
        zone=current_app.config["TROPA_TIMEZONE"],
    )


def bad_filters(form: ReportFilterForm):
    return render_template("reports/dashboard.html", form=form, report=None), 400


def progress(value: int, target: int) -> float | None:
    return value / target if target else None


def summary(filters: services.ReportFilter, figures: dashboard.Figures) -> list[dict]:
    """The targets against their values, in Indicator order."""
    goals = targets.targets(filters.programme_id)
    return [
        {
            "indicator": indicator,
            "label": indicator.label,
            "target": goals[indicator],
            "value": figures.values[indicator.value],
            "progress": progress(figures.values[indicator.value], goals[indicator]),
        }
        for indicator in Indicator
    ]


@bp.route("/", endpoint="dashboard")
@roles_required(Role.ORGANISER)
def dashboard_page():
    programmes = services.programmes()
    form, filters = read_filters(programmes)
    if filters is None:
        return bad_filters(form)
    data = dashboard.dashboard_data(filters)
    months = data.months
    report = {
        "targets": summary(filters, data.figures),
        "figures": data.figures,
        "outcomes": data.outcomes,
        "months": months,
        "chart": {
            "labels": [month_label(month) for month, _courses, _events in months],
            "courses": [courses for _month, courses, _events in months],
            "events": [events for _month, _courses, events in months],
            "course_label": _("Courses"),
            "event_label": _("Events"),
        },
    }
    return render_template(
        "reports/dashboard.html",
        form=form,
        report=report,
        query=request.args.to_dict(),
    )


@bp.route(f"/<any({LISTING_NAMES}):indicator>")
@roles_required(Role.ORGANISER)
def listing(indicator: str):
    chosen = LISTINGS[indicator]  # the route accepts only these names
    form, filters = read_filters(services.programmes())
    if filters is None:
        return bad_filters(form)
    page = RowPagination(
        select=chosen.rows(filters), session=db.session(), per_page=PAGE_SIZE, error_out=False
    )
    rows = [
        [shown(value, kind) for value, kind in zip(row, chosen.kinds, strict=True)]
        for row in page.items
    ]
    return render_template(
        "reports/listing.html",
        listing=chosen,
        page=page,
        rows=rows,
        form=form,
        query={key: value for key, value in request.args.items() if key != "page"},
    )


@bp.route(f"/<any({LISTING_NAMES}):indicator>.xlsx")
@roles_required(Role.ORGANISER)
def export_listing(indicator: str):
    chosen = LISTINGS[indicator]  # the route accepts only these names
    form, filters = read_filters(services.programmes())
    if filters is None:
        return bad_filters(form)
    return xlsx_response(
        f"{chosen.label}.xlsx", [str(h) for h in chosen.header], sheet_rows(chosen, filters)
    )


@bp.route("/funder.xlsx")
@roles_required(Role.ORGANISER)
def funder_workbook():
    """The report for the funder: a summary sheet and the rows behind every number."""
    programmes = services.programmes()
    form, filters = read_filters(programmes)
    if filters is None:
        return bad_filters(form)
    data = dashboard.dashboard_data(filters)
    figures = data.figures
    summary_rows = [
        [row["label"], row["target"], row["value"], percent(row["progress"])]
        for row in summary(filters, figures)
    ]
    summary_rows += [
        [str(lists.LISTINGS["certificates"].label), None, figures.values["certificates"], None],
        [_("Attendance rate"), None, None, percent(figures.attendance_rate)],
        *outcomes.summary_rows(data.outcomes),
        [],
        *([[_("Period"), period_text(filters)]] if filters.date_from or filters.date_to else []),
        [_("Programme"), chosen_label(form.programme)],
        [_("Municipality"), chosen_label(form.municipality)],
    ]
    sheets = [(_("Summary"), [_("Indicator"), _("Target"), _("Value"), "%"], summary_rows)]
    sheets += [
        (str(chosen.label), [str(h) for h in chosen.header], sheet_rows(chosen, filters))
        for chosen in LISTINGS.values()
    ]
    stamp = datetime.now(ZoneInfo(filters.zone)).date().isoformat()
    title = _("Report for the funder")  # the file's name in the user's language
    return xlsx_workbook_response(f"{title} {stamp}.xlsx", sheets)


@bp.route("/targets", methods=["GET", "POST"], endpoint="targets")
@roles_required(Role.ORGANISER)
def targets_page():
    programmes = services.programmes()
    form = targets_form(programmes, targets.programme_targets())
    if form.validate_on_submit():
        chosen = {
            (programme.id, indicator): form[target_field_name(programme.id, indicator)].data
            for programme in programmes
            for indicator in Indicator
        }
        try:
            targets.save_targets(chosen)
        except ReportError as error:
            flash(error.message, "danger")
        else:
            flash(_("Targets saved."), "success")
            return redirect(url_for("reports.targets"))
    if form.errors:
        flash(_("Some targets are not whole numbers from 0 up: see the marked fields."), "danger")
    return render_template(
        "reports/targets.html",
        form=form,
        programmes=programmes,
        indicators=list(Indicator),
        field_name=target_field_name,
        defaults=DEFAULT_TARGETS,
    ), (400 if form.errors else 200)


# --- showing values -------------------------------------------------------------------------


def shown(value, kind: str) -> str:
    """A cell of a list page, in the user's language."""
    if value is None:
        return ""
    if kind == "date":
        return local_date(value)
    if kind == "number":
        return format_number(value)
    if kind == "organisation_type":
        return str(ORGANISATION_TYPE_LABELS[value])
    return str(value)


def sheet_rows(chosen: lists.Listing, filters: services.ReportFilter) -> Iterator[list]:
    """The rows of a spreadsheet: real numbers and dates (in the centre's zone). The zone
    and the labels are looked up once per sheet, not per cell (the funder's workbook has
    some 60,000 cells)."""
    zone = ZoneInfo(current_app.config["TROPA_TIMEZONE"])
    type_labels = {key: str(label) for key, label in ORGANISATION_TYPE_LABELS.items()}

    def cell(value, kind: str):
        if value is None:
            return None
        if kind == "date":
            return value.astimezone(zone).date()
        if kind == "organisation_type":
            return type_labels[value]
        return value

    for row in lists.listing_rows(chosen, filters):
        yield [cell(value, kind) for value, kind in zip(row, chosen.kinds, strict=True)]


def chosen_label(field) -> str:
    """What a validated select field shows for its value ("All programmes" for none)."""
    return str(dict(field.choices)[field.data or ""])


def percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 1)


def period_text(filters: services.ReportFilter) -> str:
    start = format_date(filters.date_from, "d MMMM y") if filters.date_from else "…"
    end = format_date(filters.date_to, "d MMMM y") if filters.date_to else "…"
    return f"{start} — {end}"
