"""The feedback blueprint: organisers build forms per event or course and read the results;
invited people answer by their personal link /f/<token> (no sign-in)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from events.models import Event
from feedback import results as feedback_results
from feedback import services
from feedback.forms import NewFormForm, QuestionForm, SettingsForm
from feedback.models import FeedbackForm
from feedback.services import FeedbackError
from webapp.export import table_response
from webapp.extensions import db, limiter
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import roles_required

bp = Blueprint(
    "feedback",
    __name__,
    template_folder="templates",
    static_folder="static/feedback",
    static_url_path="/feedback/static",
)


@bp.context_processor
def number_formats():
    return {"format_number": format_number, "format_percent": format_percent}


@bp.app_template_filter("feedback_choice")
def feedback_choice(value: str) -> str:
    """A choice as shown: the library's keys translated, the organisers' own as typed."""
    return services.choice_label(value)


def _answer_rate_limit() -> str:
    return current_app.config["TROPA_FEEDBACK_RATE_LIMIT"]


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id, options=[selectinload(Event.sessions)])
    if event is None:
        abort(404)
    return event


def _form(form_id: int) -> FeedbackForm:
    form = db.session.get(FeedbackForm, form_id)
    if form is None:
        abort(404)
    return form


def _show_error(form, error: FeedbackError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "danger")


def _settings(form: SettingsForm) -> services.FormData:
    return services.FormData(
        title=form.title.data or "",
        intro=form.intro.data or "",
        anonymous=form.anonymous.data,
        closes_on=form.closes_on.data,
        session_id=int(form.session_id.data) if form.session_id.data else None,
    )


# --- organisers: building forms ------------------------------------------------------------


@bp.route("/manage/events/<int:event_id>/feedback", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def event_forms(event_id: int):
    event = _event(event_id)
    form = NewFormForm(event)
    if form.validate_on_submit():
        try:
            created = services.create_form(
                event.id, _settings(form), current_user, template=form.template.data or None
            )
        except FeedbackError as error:
            _show_error(form, error)
        else:
            flash(_("The form is created. Check its questions, then open it."), "success")
            return redirect(url_for("feedback.edit_form", form_id=created.id))
    return render_template(
        "feedback/event_forms.html",
        event=event,
        forms=services.forms_of_event(event.id),
        form=form,
    ), (400 if form.errors else 200)


@bp.route("/manage/feedback/<int:form_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_form(form_id: int):
    feedback_form = _form(form_id)
    chosen_session = {"session_id": str(feedback_form.session_id or "")}
    settings = SettingsForm(
        feedback_form.event,
        obj=feedback_form,
        data=chosen_session if request.method == "GET" else None,
    )
    question = QuestionForm(prefix="q")
    if request.form.get("what") == "settings" and settings.validate_on_submit():
        try:
            services.update_form(feedback_form.id, _settings(settings))
        except FeedbackError as error:
            _show_error(settings, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("feedback.edit_form", form_id=form_id))
    elif request.form.get("what") == "question" and question.validate_on_submit():
        try:
            services.save_question(
                feedback_form.id,
                None,
                services.QuestionData(
                    label=question.label.data,
                    kind=question.kind.data,
                    options=question.options.data or "",
                    required=question.required.data,
                ),
            )
        except FeedbackError as error:
            _show_error(question, error)
        else:
            return redirect(url_for("feedback.edit_form", form_id=form_id) + "#questions")
    failed = bool(settings.errors or question.errors) and request.method == "POST"
    return render_template(
        "feedback/edit_form.html",
        feedback_form=feedback_form,
        settings=settings,
        question=question,
        confirm=ConfirmForm(),
        choice_label=services.choice_label,
    ), (400 if failed else 200)


@bp.route("/manage/feedback/<int:form_id>/questions/<int:question_id>/delete", methods=["POST"])
@roles_required(Role.ORGANISER)
def delete_question(form_id: int, question_id: int):
    _form(form_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_question(form_id, question_id)
        except FeedbackError as error:
            flash(error.message, "danger")
    return redirect(url_for("feedback.edit_form", form_id=form_id) + "#questions")


@bp.route("/manage/feedback/<int:form_id>/active", methods=["POST"])
@roles_required(Role.ORGANISER)
def set_active(form_id: int):
    feedback_form = _form(form_id)
    if ConfirmForm().validate_on_submit() and request.form.get("active") in ("0", "1"):
        try:
            services.set_active(feedback_form.id, request.form["active"] == "1")
        except FeedbackError as error:
            flash(error.message, "danger")
    return redirect(url_for("feedback.edit_form", form_id=form_id))


# --- results ---------------------------------------------------------------------------------


def _readable_form(form_id: int) -> FeedbackForm:
    feedback_form = _form(form_id)
    if not services.may_see_results(current_user, feedback_form):
        abort(403)
    return feedback_form


@bp.route("/feedback/<int:form_id>/results")
@login_required
def results(form_id: int):
    feedback_form = _readable_form(form_id)
    figures = feedback_results.results(feedback_form)
    charts = [
        {
            "id": f"chart-{item.question.id}",
            "label": item.question.label,
            "labels": [label for label, _count in item.distribution],
            "counts": [count for _label, count in item.distribution],
        }
        for item in figures.questions
        if item.distribution
    ]
    return render_template(
        "feedback/results.html", outcome=figures, feedback_form=feedback_form, charts=charts
    )


@bp.route("/feedback/<int:form_id>/results.<any(csv, xlsx):fmt>")
@login_required
def export_results(form_id: int, fmt: str):
    feedback_form = _readable_form(form_id)
    header, rows = feedback_results.export_rows(feedback_form)
    return table_response(fmt, f"feedback-{feedback_form.id}", header, rows)


@bp.route("/feedback/")
@roles_required(Role.ORGANISER)
def overview():
    return render_template(
        "feedback/overview.html",
        forms=services.all_forms(),
        by_course=feedback_results.satisfaction_by_course(),
        by_trainer=feedback_results.satisfaction_by_trainer(),
    )


# --- answering by the personal link --------------------------------------------------------


@bp.route("/f/<feedback_token>", methods=["GET", "POST"])
@limiter.limit(_answer_rate_limit)
def answer(feedback_token: str):
    invitation = services.find_invitation(feedback_token)
    if invitation is None:
        return render_template("feedback/not_found.html"), 404
    confirm = ConfirmForm()
    errors: dict[str, str] = {}
    given = services.previous_answers(invitation)
    if request.method == "POST":
        if not confirm.validate_on_submit():
            abort(400)
        given = {
            question.id: request.form.getlist(f"q{question.id}")
            for question in invitation.form.questions
        }
        try:
            services.submit_answers(invitation.token, given)
        except FeedbackError as error:
            if error.field:
                errors[error.field] = error.message
            else:
                flash(error.message, "danger")
        else:
            flash(_("Thank you! Your answers are saved."), "success")
            return redirect(url_for("feedback.answer", feedback_token=invitation.token))
    return render_template(
        "feedback/answer.html",
        invitation=invitation,
        feedback_form=invitation.form,
        refusal=services.may_answer(invitation),
        given=given,
        errors=errors,
        confirm=confirm,
        choice_label=services.choice_label,
    ), (400 if errors else 200)
