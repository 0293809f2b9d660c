"""The outcomes blueprint: the entry audit and the story of a project (its team and the
organisers), the organisers' review of stories, and the public stories with their API."""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from projects import services as project_services
from projects.models import Project
from projects.outcomes import audit, stories
from projects.outcomes.forms import PhotoForm, StoryForm
from projects.outcomes.models import StoryPhoto
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import roles_required
from webapp.storage import StoredFile, UploadRefused, file_response

bp = Blueprint("stories", __name__, template_folder="templates")


def _project(project_id: int, allowed=project_services.may_edit) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    if not allowed(current_user, project):
        abort(403)
    return project


def _back(project_id: int, anchor: str = ""):
    return redirect(url_for("stories.edit_story", project_id=project_id) + anchor)


@bp.app_context_processor
def outcome_panels():
    """For the project page (projects/project.html): the audit's summary and the story."""
    return {"audit_summary": audit.summary, "project_story": stories.story_of}


# --- the entry audit ---------------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/audit", methods=["GET", "POST"])
@login_required
def take_audit(project_id: int):
    project = _project(project_id)
    confirm = ConfirmForm()
    errors: dict[str, str] = {}
    given = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST":
        if not confirm.validate_on_submit():
            abort(400)
        try:
            audit.take_audit(project.id, given, current_user)
        except ServiceError as error:
            errors[error.field or ""] = error.message
        else:
            flash(_("The audit is saved: its score and gaps are on the project page."), "success")
            return redirect(url_for("projects.project_page", project_id=project.id) + "#audit")
    return render_template(
        "outcomes/audit.html",
        project=project,
        areas=audit.AREAS,
        answers=audit.ANSWER_LABELS,
        field_name=audit.field_name,
        given=given,
        errors=errors,
        confirm=confirm,
    ), (400 if errors else 200)


# --- the team's story -----------------------------------------------------------------------


@bp.route("/projects/<int:project_id>/story", methods=["GET", "POST"])
@login_required
def edit_story(project_id: int):
    project = _project(project_id)
    story = stories.story_of(project.id)
    form = StoryForm(obj=story)
    if form.validate_on_submit():
        data = stories.StoryData(
            **{name: form[name].data for name in stories.StoryData.__dataclass_fields__}
        )
        try:
            stories.save_story(project.id, data)
        except ServiceError as error:
            flash(error.message, "danger")
        else:
            flash(_("The story is saved."), "success")
            return _back(project.id)
    return render_template(
        "outcomes/story_edit.html",
        project=project,
        story=story,
        form=form,
        photo_form=PhotoForm(),
        confirm=ConfirmForm(),
    ), (400 if form.errors else 200)


@bp.route("/projects/<int:project_id>/story/submit", methods=["POST"])
@login_required
def submit_story(project_id: int):
    project = _project(project_id)
    if ConfirmForm().validate_on_submit():
        try:
            stories.submit(project.id)
        except ServiceError as error:
            flash(error.message, "danger")
        else:
            flash(_("The story is sent to the organisers for approval."), "success")
    return _back(project.id)


@bp.route("/projects/<int:project_id>/story/photos", methods=["POST"])
@login_required
def add_photo(project_id: int):
    project = _project(project_id)
    form = PhotoForm()
    if form.validate_on_submit():
        upload = form.photo.data
        try:
            stories.add_photo(
                project.id, upload.stream, upload.filename or "", form.caption.data or "",
                form.publish.data,
            )  # fmt: skip
        except (ServiceError, UploadRefused) as error:
            flash(str(error.message), "danger")
        else:
            flash(_("The photo is added."), "success")
    elif form.errors:
        flash(_("Choose a photo to upload."), "danger")
    return _back(project.id, "#photos")


@bp.route("/projects/<int:project_id>/story/photos/<int:photo_id>", methods=["POST"])
@login_required
def change_photo(project_id: int, photo_id: int):
    project = _project(project_id)
    if ConfirmForm().validate_on_submit():
        action = request.form.get("action")
        try:
            stories.change_photo(
                project.id,
                photo_id,
                publish={"publish": True, "hide": False}.get(action),
                delete=action == "delete",
            )
        except ServiceError as error:
            flash(error.message, "danger")
    return _back(project.id, "#photos")


@bp.route("/projects/<int:project_id>/story/photos/<int:photo_id>/file")
@login_required
def team_photo(project_id: int, photo_id: int):
    """A photo as the team and organisers see it before publishing."""
    project = _project(project_id, project_services.may_view)
    photo = db.session.get(StoryPhoto, photo_id)
    if photo is None or photo.story.project_id != project.id:
        abort(404)
    return _photo_response(photo)


def _photo_response(photo: StoryPhoto):
    return file_response(StoredFile(photo.storage_name, f"photo-{photo.id}", photo.content_type, 0))


# --- organisers' review ---------------------------------------------------------------------


@bp.route("/manage/stories")
@roles_required(Role.ORGANISER)
def review_queue():
    return render_template(
        "outcomes/review.html", queue=stories.review_queue(), confirm=ConfirmForm()
    )


@bp.route("/manage/stories/<int:story_id>/review", methods=["POST"])
@roles_required(Role.ORGANISER)
def review_story(story_id: int):
    if ConfirmForm().validate_on_submit() and request.form.get("decision") in ("approve", "return"):
        try:
            stories.review(
                story_id,
                request.form["decision"] == "approve",
                request.form.get("comment", ""),
                current_user.id,
            )
        except ServiceError as error:
            flash(error.message, "danger")
        else:
            flash(_("Decision recorded."), "success")
    return redirect(url_for("stories.review_queue"))


# --- public -----------------------------------------------------------------------------------


@bp.route("/stories/")
def story_list():
    page = max(1, request.args.get("page", 1, type=int))
    items, pages = stories.published_page(page)
    return render_template("outcomes/stories.html", items=items, page=page, pages=pages)


@bp.route("/stories/<slug>")
def story_page(slug: str):
    item = stories.published_by_slug(slug)
    if item is None:
        abort(404)
    return render_template("outcomes/story.html", item=item)


@bp.route("/stories/photos/<int:photo_id>")
def public_photo(photo_id: int):
    photo = stories.public_photo(photo_id)
    if photo is None:
        abort(404)
    return _photo_response(photo)


@bp.route("/api/v1/stories")
def api_stories():
    """The published stories for the centre's website: the consented items only."""
    page = max(1, request.args.get("page", 1, type=int))
    items, pages = stories.published_page(page, per_page=50)
    return jsonify({"stories": items, "page": page, "pages": pages})
