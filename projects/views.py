"""The projects blueprint: projects, their trajectories, the board of all projects."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from courses.models import LEVEL_LABELS, LEVEL_SHORT_LABELS, Course, Programme
from courses.services import programmes
from projects import demo as _demo  # noqa: F401  registers the demo projects
from projects import exports, services
from projects.forms import (
    BoardFilterForm,
    ConsultationForm,
    LevelForm,
    MentorForm,
    MilestoneForm,
    ProjectForm,
    StepEditForm,
    StepForm,
)
from projects.models import LEVELS, Milestone, ProgrammeStep, Project, ProjectStep
from projects.services import ProjectError, board, editing, mentoring, roadmap, steps
from webapp.export import attachment_disposition, xlsx_workbook_response
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import roles_required

bp = Blueprint("projects", __name__, template_folder="templates")


bp.add_app_template_filter(services.day, "day")


@bp.app_context_processor
def level_names():
    return {"LEVEL_LABELS": LEVEL_LABELS, "LEVEL_SHORT_LABELS": LEVEL_SHORT_LABELS}


def _project(project_id: int, allowed=services.may_view) -> Project:
    """The project, or 404; 403 unless the current user may do this with it."""
    project = editing.load_project(project_id)
    if project is None:
        abort(404)
    if not allowed(current_user, project):
        abort(403)
    return project


def _show_error(form, error: ProjectError) -> None:
    """The service's refusal under its field, or at the top of the page."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "danger")


def _courses() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(Course.level, Course.title)))


def _back(project: Project, anchor: str = ""):
    return redirect(url_for("projects.project_page", project_id=project.id) + anchor)


# --- lists ------------------------------------------------------------------------------------


@bp.route("/my/projects")
@login_required
def my_projects():
    projects = editing.projects_of(current_user)
    return render_template(
        "projects/my_projects.html",
        projects=projects,
        overdue=board.overdue_counts([p.id for p in projects]),
    )


@bp.route("/projects/board", endpoint="board")
@roles_required(Role.ORGANISER)
def board_page():
    form = BoardFilterForm(programmes(), board.municipalities(), request.args)
    form.validate()
    filters = board.BoardFilter(
        programme_id=form.programme.data if not form.programme.errors else None,
        municipality=form.municipality.data if not form.municipality.errors else None,
    )
    level = request.args.get("level", type=int)
    if level in LEVELS:
        page, cards = board.level_page(filters, level, request.args.get("page", 1, type=int))
        return render_template(
            "projects/board_level.html", form=form, level=level, page=page, cards=cards
        )
    return render_template(
        "projects/board.html",
        form=form,
        columns=board.columns(filters),
        limit=board.BOARD_COLUMN_LIMIT,
        programmes=programmes(),
    )


# --- a project ----------------------------------------------------------------------------------


def _project_data(form: ProjectForm) -> editing.ProjectData:
    return editing.ProjectData(
        title=form.title.data or "",
        programme_id=form.programme_id.data,
        direction=form.direction.data,
        started_on=form.started_on.data,
        target_group=form.target_group.data or "",
        municipality=form.municipality.data or None,
        description=form.description.data or "",
        is_joint=form.is_joint.data,
        member_emails=form.member_email_list(),
        partners=form.partner_list(),
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new_project():
    form = ProjectForm(programmes())
    if request.method == "GET":
        form.municipality.data = current_user.municipality or ""
        form.started_on.data = services.today()
    if form.validate_on_submit():
        try:
            project = editing.create_project(_project_data(form), current_user)
        except ProjectError as error:
            _show_error(form, error)
        else:
            flash(_("Project registered. Its trajectory has the programme's steps."))
            return _back(project)
    return render_template("projects/edit_project.html", form=form, project=None)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit_project(project_id: int):
    project = _project(project_id, services.may_edit)
    form = ProjectForm(programmes(), obj=project)
    if request.method == "GET":
        form.member_emails.data = "\n".join(
            m.user.email for m in project.members if m.role != "leader"
        )
        form.partners.data = "\n".join(o.inn or o.name for o in project.partners)
    if form.validate_on_submit():
        try:
            editing.update_project(project, _project_data(form))
        except ProjectError as error:
            _show_error(form, error)
        else:
            flash(_("Project saved."))
            return _back(project)
    return render_template("projects/edit_project.html", form=form, project=project)


@bp.route("/projects/<int:project_id>")
@login_required
def project_page(project_id: int):
    project = _project(project_id)
    may_edit = services.may_edit(current_user, project)
    is_organiser = services.is_organiser(current_user)
    mentor_form = MentorForm(mentoring.possible_mentors(), formdata=None) if is_organiser else None
    if mentor_form:
        mentor_form.mentor_id.data = project.mentor_id
    return render_template(
        "projects/project.html",
        project=project,
        levels=steps.trajectory(project),
        overdue={m.id for m in project.milestones if services.is_overdue(m)},
        may_edit=may_edit,
        may_log=services.may_log(current_user, project),
        is_organiser=is_organiser,
        step_form=StepForm(_courses(), formdata=None) if may_edit else None,
        mentor_form=mentor_form,
        confirm_form=ConfirmForm(),
    )


@bp.route("/projects/<int:project_id>/mentor", methods=["POST"])
@roles_required(Role.ORGANISER)
def set_mentor(project_id: int):
    project = _project(project_id)
    form = MentorForm(mentoring.possible_mentors())
    if not form.validate_on_submit():
        flash(_("Choose a trainer as the mentor."), "danger")
        return _back(project)
    try:
        mentoring.set_mentor(project, form.mentor_id.data)
        flash(_("Mentor saved."))
    except ProjectError as error:
        flash(error.message, "danger")
    return _back(project)


# --- steps ------------------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/steps", methods=["POST"])
@login_required
def add_step(project_id: int):
    project = _project(project_id, services.may_edit)
    form = StepForm(_courses())
    if form.validate_on_submit():
        try:
            steps.add_step(project, form.level.data, form.title.data, form.course_id.data)
            flash(_("Step added."))
        except ProjectError as error:
            flash(error.message, "danger")
    else:
        flash(_("Give the step a title and a level."), "danger")
    return _back(project, "#trajectory")


@bp.route("/projects/<int:project_id>/steps/<int:step_id>", methods=["POST"])
@login_required
def step_action(project_id: int, step_id: int):
    """Tick or untick a step (the team, organisers, the mentor); rename or delete it (the
    team, organisers)."""
    project = _project(project_id, services.may_log)
    step = db.session.get(ProjectStep, step_id)
    if step is None or step.project_id != project.id:
        abort(404)
    action = request.form.get("action")
    if action in ("done", "undone"):
        steps.set_step_done(step, current_user, action == "done")
        return _back(project, "#trajectory")
    if not services.may_edit(current_user, project):
        abort(403)
    if action == "delete":
        steps.delete_step(step)
        flash(_("Step deleted."))
    elif action == "save":
        _save_step(steps.save_step, step)
    else:
        flash(_("Nothing to do: choose tick, save or delete."), "danger")
    return _back(project, "#trajectory")


def _save_step(save, step) -> None:
    """A renamed step (of a project or a programme), or the form's complaint."""
    form = StepEditForm(_courses())
    if not form.validate_on_submit():
        flash(_("Give the step a title and choose a course from the list."), "danger")
        return
    try:
        save(step, form.title.data, form.course_id.data)
        flash(_("Step saved."))
    except ProjectError as error:
        flash(error.message, "danger")


# --- roadmap and consultations -----------------------------------------------------------------


def _milestone_page(project: Project, milestone: Milestone | None):
    form = MilestoneForm(obj=milestone)
    if request.method == "GET" and milestone is None:
        form.level.data = project.level
    if form.validate_on_submit():
        data = roadmap.MilestoneData(
            title=form.title.data,
            level=form.level.data,
            due_on=form.due_on.data,
            status=form.status.data,
            done_on=form.done_on.data,
            notes=form.notes.data or "",
        )
        try:
            roadmap.save_milestone(project, milestone, data)
        except ProjectError as error:
            _show_error(form, error)
        else:
            flash(_("Milestone saved."))
            return _back(project, "#roadmap")
    return render_template(
        "projects/edit_milestone.html", form=form, project=project, milestone=milestone
    )


@bp.route("/projects/<int:project_id>/milestones/new", methods=["GET", "POST"])
@login_required
def new_milestone(project_id: int):
    return _milestone_page(_project(project_id, services.may_edit), None)


def _milestone(project: Project, milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        abort(404)
    return milestone


@bp.route("/projects/<int:project_id>/milestones/<int:milestone_id>", methods=["GET", "POST"])
@login_required
def edit_milestone(project_id: int, milestone_id: int):
    project = _project(project_id, services.may_edit)
    return _milestone_page(project, _milestone(project, milestone_id))


@bp.route("/projects/<int:project_id>/milestones/<int:milestone_id>/delete", methods=["POST"])
@login_required
def delete_milestone(project_id: int, milestone_id: int):
    project = _project(project_id, services.may_edit)
    roadmap.delete_milestone(_milestone(project, milestone_id))
    flash(_("Milestone deleted."))
    return _back(project, "#roadmap")


@bp.route("/projects/<int:project_id>/consultations/new", methods=["GET", "POST"])
@login_required
def new_consultation(project_id: int):
    project = _project(project_id, services.may_log)
    form = ConsultationForm(mentoring.possible_mentors())
    if request.method == "GET":
        form.held_on.data = services.today()
        form.level.data = project.level
        is_trainer = current_user.has_role(Role.TRAINER)
        form.expert_id.data = current_user.id if is_trainer else project.mentor_id
    if form.validate_on_submit():
        data = mentoring.ConsultationData(
            held_on=form.held_on.data,
            topic=form.topic.data,
            level=form.level.data,
            expert_id=form.expert_id.data,
            notes=form.notes.data or "",
            next_steps=form.next_steps.data or "",
        )
        try:
            mentoring.add_consultation(project, data)
        except ProjectError as error:
            _show_error(form, error)
        else:
            flash(_("Consultation logged."))
            return _back(project, "#consultations")
    return render_template("projects/new_consultation.html", form=form, project=project)


# --- levels -------------------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/level", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def change_level(project_id: int):
    project = _project(project_id)
    form = LevelForm()
    if request.method == "GET":
        form.to_level.data = min(project.level + 1, LEVELS[-1])
    if form.validate_on_submit():
        try:
            editing.change_level(
                project, form.to_level.data, form.comment.data, current_user, form.confirm_skip.data
            )
        except ProjectError as error:
            _show_error(form, error)
        else:
            flash(_("The project is now on %(level)s.", level=LEVEL_SHORT_LABELS[project.level]))
            return _back(project)
    return render_template("projects/change_level.html", form=form, project=project)


# --- exports --------------------------------------------------------------------------------------


def _filename(project: Project, extension: str) -> str:
    return f"{_('Roadmap')} — {project.title}.{extension}"


@bp.route("/projects/<int:project_id>/roadmap.pdf")
@login_required
def roadmap_pdf(project_id: int):
    project = _project(project_id)
    disposition = attachment_disposition(_filename(project, "pdf"), "roadmap.pdf")
    return Response(
        exports.roadmap_pdf(project),
        mimetype="application/pdf",
        headers={"Content-Disposition": disposition},
    )


@bp.route("/projects/<int:project_id>/roadmap.xlsx")
@login_required
def roadmap_xlsx(project_id: int):
    project = _project(project_id)
    return xlsx_workbook_response(_filename(project, "xlsx"), exports.roadmap_sheets(project))


# --- a programme's default steps ----------------------------------------------------------------


@bp.route("/manage/programmes/<int:programme_id>/steps", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def programme_steps(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    courses = _courses()
    form = StepForm(courses)
    if form.validate_on_submit():
        try:
            steps.add_programme_step(
                programme, form.level.data, form.title.data, form.course_id.data
            )
        except ProjectError as error:
            _show_error(form, error)
        else:
            flash(_("Step added. New projects of the programme start with it."))
            return redirect(url_for("projects.programme_steps", programme_id=programme.id))
    return render_template(
        "projects/programme_steps.html",
        programme=programme,
        steps=steps.programme_steps(programme.id),
        defaults=steps.DEFAULT_STEPS,
        courses=courses,
        form=form,
    )


@bp.route("/manage/programmes/<int:programme_id>/steps/<int:programme_step_id>", methods=["POST"])
@roles_required(Role.ORGANISER)
def programme_step(programme_id: int, programme_step_id: int):
    step = db.session.get(ProgrammeStep, programme_step_id)
    if step is None or step.programme_id != programme_id:
        abort(404)
    if request.form.get("action") == "delete":
        steps.delete_programme_step(step)
        flash(_("Step deleted."))
    else:
        _save_step(steps.save_programme_step, step)
    return redirect(url_for("projects.programme_steps", programme_id=programme_id))
