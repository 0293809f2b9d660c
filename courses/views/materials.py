"""Learning materials: the participant's course outline, materials, downloads and task
answers; the staff's module and material editing, progress grid, reviews and sign-off."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from courses import services as course_services
from courses.forms import (
    CompletionRulesForm,
    MaterialForm,
    ModuleForm,
    ReviewForm,
    TaskAnswerForm,
)
from courses.models import (
    AnswerStatus,
    CompletionRule,
    Course,
    Material,
    MaterialKind,
    Module,
    TaskAnswer,
)
from courses.services import completion
from courses.services import materials as learning
from courses.views import bp, is_staff_of, staff_course
from events.models import Registration
from webapp import storage
from webapp.export import table_response
from webapp.extensions import db
from webapp.filters import local_datetime
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import roles_required
from webapp.timezones import to_local, to_utc

# --- participants (and staff previewing) --------------------------------------------------


def _learner(course_id: int) -> tuple[Course, Registration | None, bool]:
    """The course, the user's confirmed registration and whether the user is its staff;
    403 for anyone else (not enrolled, waiting list, cancelled)."""
    course = db.get_or_404(Course, course_id)
    staff = is_staff_of(course)
    registration = learning.participant_registration(course, current_user)
    if registration is None and not staff:
        abort(403)
    return course, registration, staff


def _open_material(course_id: int, material_id: int):
    """The material as this user may see it, or 404 (not in the course, hidden) / 403."""
    course, registration, staff = _learner(course_id)
    outline = learning.outline(course, registration, staff=staff and registration is None)
    state = outline.find(material_id)
    if state is None:
        abort(404)
    return course, registration, staff, outline, state


def _closed_redirect(course, state):
    if state.opens_at:
        flash(
            _("This opens on %(date)s.", date=local_datetime(state.opens_at, course.timezone)),
            "warning",
        )
    else:
        flash(_("This opens when you complete what comes before it."), "warning")
    return redirect(url_for("courses.materials", course_id=course.id))


@bp.route("/courses/<int:course_id>/materials")
@login_required
def materials(course_id: int):
    course, registration, staff = _learner(course_id)
    state = completion.completion_state(registration) if registration else None
    outline = learning.outline(course, registration, staff=staff and registration is None)
    return render_template(
        "courses/materials.html",
        course=course,
        outline=outline,
        registration=registration,
        completion=state,
        staff=staff,
        form=ConfirmForm(),
    )


@bp.route("/courses/<int:course_id>/materials/<int:material_id>")
@login_required
def material(course_id: int, material_id: int):
    course, registration, staff, outline, state = _open_material(course_id, material_id)
    if not state.is_open:
        return _closed_redirect(course, state)
    if registration and state.material.kind != MaterialKind.FILE:
        newly_complete = not state.complete
        learning.record_view(registration, state.material)  # a file is viewed on download
        if newly_complete:  # viewing may have opened the next material
            outline = learning.outline(course, registration)
            state = outline.find(material_id)
    previous, following = outline.neighbours(material_id)
    return render_template(
        "courses/materials_item.html",
        course=course,
        state=state,
        previous=previous,
        following=following,
        registration=registration,
        answer_form=TaskAnswerForm(),
        form=ConfirmForm(),
        staff=staff,
    )


@bp.route("/courses/<int:course_id>/materials/<int:material_id>/file")
@login_required
def material_file(course_id: int, material_id: int):
    course, registration, _staff, _outline, state = _open_material(course_id, material_id)
    material = state.material
    if not state.is_open:
        return _closed_redirect(course, state)
    if not material.has_file:
        abort(404)
    if registration:
        learning.record_view(registration, material)
    return storage.file_response(_stored(material))


def _stored(owner) -> storage.StoredFile:
    return storage.StoredFile(
        owner.file_storage_name, owner.file_name, owner.file_content_type, owner.file_size
    )


@bp.route("/courses/<int:course_id>/materials/<int:material_id>/done", methods=["POST"])
@login_required
def mark_done(course_id: int, material_id: int):
    course, registration, _staff, _outline, state = _open_material(course_id, material_id)
    if registration is None or not ConfirmForm().validate_on_submit():
        abort(400)
    if not state.is_open:
        return _closed_redirect(course, state)
    undo = request.form.get("undo") == "1"
    learning.mark_done(registration, state.material, done=not undo)
    flash(_("Marked as not done.") if undo else _("Marked as done."))
    return redirect(url_for("courses.material", course_id=course.id, material_id=material_id))


@bp.route("/courses/<int:course_id>/materials/<int:material_id>/answer", methods=["POST"])
@login_required
def answer_task(course_id: int, material_id: int):
    course, registration, _staff, _outline, state = _open_material(course_id, material_id)
    if registration is None:
        abort(400)
    if not state.is_open:
        return _closed_redirect(course, state)
    form = TaskAnswerForm()
    back = url_for("courses.material", course_id=course.id, material_id=material_id)
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(back)
    upload = form.file.data
    try:
        learning.submit_answer(
            registration,
            state.material,
            form.text.data or "",
            (upload.stream, upload.filename) if upload else None,
        )
    except (learning.LearningRefused, storage.UploadRefused) as refused:
        flash(refused.message, "danger")
    else:
        flash(_("Your answer is sent to the trainer."), "success")
    return redirect(back)


@bp.route("/courses/<int:course_id>/answers/<int:answer_id>/file")
@login_required
def answer_file(course_id: int, answer_id: int):
    course, registration, staff = _learner(course_id)
    answer = db.get_or_404(TaskAnswer, answer_id)
    if answer.material.module.course_id != course.id or not answer.has_file:
        abort(404)
    if not staff and (registration is None or answer.registration_id != registration.id):
        abort(403)
    return storage.file_response(_stored(answer))


@bp.app_template_global()
def learning_progress(registrations) -> dict[int, tuple[int, int]]:
    """(complete, counted) materials per course id, for the progress bars of the course page
    and My learning."""
    return learning.progress_summaries([r for r in registrations if r is not None])


@bp.app_template_global()
def tasks_due(registrations) -> dict[int, list[Material]]:
    """Per course id, the tasks with a deadline still to do, for My learning."""
    return learning.due_tasks([r for r in registrations if r is not None])


# --- staff: modules ---------------------------------------------------------------------


def _staff_module(module_id: int) -> Module:
    module = db.get_or_404(Module, module_id)
    staff_course(module.course_id)
    return module


def _staff_material(material_id: int) -> Material:
    material = db.get_or_404(Material, material_id)
    staff_course(material.module.course_id)
    return material


def _back_to(course_id: int):
    return redirect(url_for("courses.materials", course_id=course_id))


@bp.route("/manage/courses/<int:course_id>/modules/new", methods=["GET", "POST"])
@login_required
def new_module(course_id: int):
    return _module_form(staff_course(course_id), None)


@bp.route("/manage/modules/<int:module_id>", methods=["GET", "POST"])
@login_required
def edit_module(module_id: int):
    module = _staff_module(module_id)
    return _module_form(module.course, module)


def _module_form(course: Course, module: Module | None):
    form = ModuleForm(obj=module)
    if request.method == "GET" and module and module.opens_at:
        form.opens_at.data = to_local(module.opens_at, course.timezone)
    if form.validate_on_submit():
        learning.save_module(
            course,
            module,
            title=form.title.data,
            opens_at=to_utc(form.opens_at.data, course.timezone),
            opens_after_previous=form.opens_after_previous.data,
            hidden=form.hidden.data,
        )
        flash(_("Module saved."))
        return _back_to(course.id)
    return render_template("courses/module_form.html", course=course, module=module, form=form)


@bp.route("/manage/modules/<int:module_id>/move/<any(up, down):direction>", methods=["POST"])
@login_required
def move_module(module_id: int, direction: str):
    module = _staff_module(module_id)
    if ConfirmForm().validate_on_submit():
        learning.move_module(module, direction)
    return _back_to(module.course_id)


@bp.route("/manage/modules/<int:module_id>/visibility", methods=["POST"])
@login_required
def toggle_module(module_id: int):
    module = _staff_module(module_id)
    if ConfirmForm().validate_on_submit():
        learning.save_module(module.course, module, hidden=not module.hidden)
    return _back_to(module.course_id)


@bp.route("/manage/modules/<int:module_id>/delete", methods=["POST"])
@login_required
def delete_module(module_id: int):
    module = _staff_module(module_id)
    course_id = module.course_id
    if ConfirmForm().validate_on_submit():
        learning.delete_module(module)
        flash(_("Module deleted."))
    return _back_to(course_id)


# --- staff: materials -------------------------------------------------------------------


@bp.route("/manage/modules/<int:module_id>/materials/new", methods=["GET", "POST"])
@login_required
def new_material(module_id: int):
    module = _staff_module(module_id)
    return _material_form(module, None)


@bp.route("/manage/materials/<int:material_id>", methods=["GET", "POST"])
@login_required
def edit_material(material_id: int):
    material = _staff_material(material_id)
    return _material_form(material.module, material)


def _material_form(module: Module, material: Material | None):
    course = module.course
    form = MaterialForm(obj=material)
    if request.method == "GET" and material is None:
        form.kind.data = request.args.get("kind", MaterialKind.PAGE.value)
        form.completion.data = CompletionRule.VIEWED.value
    if request.method == "GET" and material:
        form.opens_at.data = to_local(material.opens_at, course.timezone)
        form.due_at.data = to_local(material.due_at, course.timezone)
    if form.validate_on_submit():
        upload = form.file.data
        try:
            learning.save_material(
                module,
                material,
                (upload.stream, upload.filename) if upload else None,
                kind=MaterialKind(form.kind.data),
                title=form.title.data,
                body=form.body.data or "",
                url=form.url.data or None,
                completion=CompletionRule(form.completion.data),
                required=form.required.data,
                opens_at=to_utc(form.opens_at.data, course.timezone),
                opens_after_previous=form.opens_after_previous.data,
                due_at=to_utc(form.due_at.data, course.timezone)
                if form.kind.data == MaterialKind.TASK
                else None,
                hidden=form.hidden.data,
            )
        except storage.UploadRefused as refused:
            form.file.errors = [refused.message]
        else:
            flash(_("Material saved."))
            return _back_to(course.id)
    return render_template(
        "courses/materials_form.html", course=course, module=module, material=material, form=form
    )


@bp.route("/manage/materials/<int:material_id>/move/<any(up, down):direction>", methods=["POST"])
@login_required
def move_material(material_id: int, direction: str):
    material = _staff_material(material_id)
    if ConfirmForm().validate_on_submit():
        learning.move_material(material, direction)
    return _back_to(material.module.course_id)


@bp.route("/manage/materials/<int:material_id>/visibility", methods=["POST"])
@login_required
def toggle_material(material_id: int):
    material = _staff_material(material_id)
    if ConfirmForm().validate_on_submit():
        learning.toggle_material(material.id)
    return _back_to(material.module.course_id)


@bp.route("/manage/materials/<int:material_id>/delete", methods=["POST"])
@login_required
def delete_material(material_id: int):
    material = _staff_material(material_id)
    course_id = material.module.course_id
    if ConfirmForm().validate_on_submit():
        learning.delete_material(material)
        flash(_("Material deleted."))
    return _back_to(course_id)


# --- staff: progress, reviews, completion -------------------------------------------------


@bp.route("/manage/courses/<int:course_id>/progress")
@login_required
def progress(course_id: int):
    course = staff_course(course_id)
    states = completion.completion_states(course)
    grid = learning.progress_grid(course)
    return render_template(
        "courses/progress.html",
        course=course,
        grid=grid,
        states=states,
        form=ConfirmForm(),
        rules_form=CompletionRulesForm(obj=course),
    )


@bp.route("/manage/courses/<int:course_id>/progress.<any(csv, xlsx):fmt>")
@login_required
def export_progress(course_id: int, fmt: str):
    course = staff_course(course_id)
    states = completion.completion_states(course)
    grid = learning.progress_grid(course)
    labels = {
        "done": _("done"),
        "viewed": _("viewed"),
        "submitted": _("awaiting review"),
        "needs_rework": _("needs rework"),
        "": "",
    }
    header = [
        _("Full name"), _("E-mail"), _("Progress, %"), _("Attendance, %"), _("Completed"),
        _("Missing"), *[m.title for m in grid.materials],
    ]  # fmt: skip
    rows = []
    for registration in grid.registrations:
        state = states[registration.id]
        rows.append(
            [
                registration.full_name,
                registration.email,
                grid.percent(registration),
                state.attendance_rate,
                local_datetime(state.completed_at, course.timezone, "yyyy-MM-dd"),
                state.summary,
                *[labels[grid.cell(registration, m)] for m in grid.materials],
            ]
        )
    return table_response(fmt, f"progress-{course.id}", header, rows)


@bp.route("/manage/courses/<int:course_id>/completion-rules", methods=["POST"])
@roles_required(Role.ORGANISER)
def completion_rules(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = CompletionRulesForm()
    if form.validate_on_submit():
        rules = ("min_attendance_rate", "requires_materials", "requires_tasks", "requires_signoff")
        course_services.save_course_rules(
            course.id, {name: getattr(form, name).data for name in rules}
        )
        flash(_("Completion rules saved."))
    else:
        flash(_("Check the completion rules: the attendance rate is 0 to 100."), "danger")
    return redirect(url_for("courses.progress", course_id=course.id))


@bp.route("/manage/registrations/<int:registration_id>/sign-off", methods=["POST"])
@login_required
def sign_off(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    staff_course(registration.event_id)
    if ConfirmForm().validate_on_submit():
        completion.sign_off(registration, current_user, signed=request.form.get("undo") != "1")
        flash(_("Sign-off saved."))
    return redirect(url_for("courses.progress", course_id=registration.event_id))


@bp.route("/manage/courses/<int:course_id>/answers")
@login_required
def task_answers(course_id: int):
    course = staff_course(course_id)
    return render_template(
        "courses/task_answers.html",
        course=course,
        answers=learning.answers_to_review(course),
        form=ReviewForm(),
    )


@bp.route("/manage/answers/<int:answer_id>/review", methods=["POST"])
@login_required
def review_answer(answer_id: int):
    answer = db.get_or_404(TaskAnswer, answer_id)
    course = staff_course(answer.material.module.course_id)
    form = ReviewForm()
    if form.validate_on_submit():
        learning.review_answer(
            answer, current_user, AnswerStatus(form.decision.data), form.comment.data or ""
        )
        flash(_("Review saved."))
    return redirect(url_for("courses.task_answers", course_id=course.id))
