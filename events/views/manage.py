"""Events: organisers create and edit events, their agenda and registration questions,
and cancel them."""

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from events.forms import repeating
from events.forms.manage import AgendaSessionForm, EventForm, QuestionForm
from events.forms.repeating import NewAgendaSessionForm
from events.models import Event, EventKind, Question, Session
from events.services import editing, listing
from events.views import bp, event_for_managers
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import roles_required
from webapp.timezones import to_local, to_utc
from webapp.views import safe_next


def _managed_event(event_id: int) -> Event:
    """An outreach event the current user may manage (courses have their own pages)."""
    event = event_for_managers(event_id)
    if event.kind != listing.OUTREACH:
        abort(404)
    return event


@bp.route("/manage/events")
@roles_required(Role.ORGANISER)
def manage_events():
    page = db.paginate(listing.organisers_list_query(), per_page=25, error_out=False)
    return render_template(
        "events/manage_events.html", page=page, cards=listing.summarise(list(page.items))
    )


# --- the event -----------------------------------------------------------------------------


def _event_form(event: Event | None) -> EventForm:
    form = EventForm(obj=event, event_timezone=event.timezone if event else None)
    form.staff_ids.choices = [(user.id, user.full_name) for user in editing.staff_candidates()]
    if event and len(event.sessions) > 1:
        # An agenda sets the times; its sessions are edited on the agenda page.
        del form.starts_at
        del form.ends_at
    if event and request.method == "GET":
        form.staff_ids.data = [user.id for user in event.staff]
        zone = event.timezone
        form.registration_opens_at.data = to_local(event.registration_opens_at, zone)
        form.registration_closes_at.data = to_local(event.registration_closes_at, zone)
        if event.sessions and "starts_at" in form:
            form.starts_at.data = to_local(event.sessions[0].starts_at, zone)
            form.ends_at.data = to_local(event.sessions[0].ends_at, zone)
    elif event is None and request.method == "GET":
        form.asks_organisation.data = True  # the centre's reports count organisations
    return form


def _event_data(form: EventForm) -> editing.EventData:
    zone = form.timezone.data
    return editing.EventData(
        title=form.title.data.strip(),
        description=form.description.data or "",
        venue=(form.venue.data or "").strip() or None,
        address=(form.address.data or "").strip() or None,
        municipality=form.municipality.data or None,
        online_url=form.online_url.data or None,
        timezone=zone,
        capacity=form.capacity.data,
        registration_opens_at=to_utc(form.registration_opens_at.data, zone),
        registration_closes_at=to_utc(form.registration_closes_at.data, zone),
        visibility=form.visibility.data,
        requires_approval=form.requires_approval.data,
        asks_organisation=form.asks_organisation.data,
        staff_ids=form.staff_ids.data or [],
        starts_at=to_utc(form.starts_at.data, zone) if "starts_at" in form else None,
        ends_at=to_utc(form.ends_at.data, zone) if "ends_at" in form else None,
    )


@bp.route("/manage/events/new", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def new_event():
    form = _event_form(None)
    if form.validate_on_submit():
        event = editing.save_event(None, _event_data(form))
        flash(_("Event created. Add registration questions or agenda sessions if needed."))
        return redirect(url_for("events.manage_event", event_id=event.id))
    return render_template("events/edit_event.html", form=form, event=None)


@bp.route("/manage/events/<int:event_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def manage_event(event_id: int):
    event = _managed_event(event_id)
    form = _event_form(event)
    if form.validate_on_submit():
        editing.save_event(event, _event_data(form))
        flash(_("Event saved."))
        return redirect(url_for("events.manage_event", event_id=event.id))
    return render_template("events/edit_event.html", form=form, event=event)


@bp.route("/manage/events/<int:event_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def cancel_event(event_id: int):
    event = _managed_event(event_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        editing.cancel_event(event)
        flash(_("The event is cancelled. Registration is closed."), "warning")
        return redirect(url_for("events.event_page", event_id=event.id))
    return render_template("events/cancel_event.html", event=event, form=form)


# --- agenda --------------------------------------------------------------------------------


def _save_session(event: Event, session: Session | None, form: AgendaSessionForm) -> None:
    zone = event.timezone
    starts = to_utc(datetime.combine(form.date.data, form.starts.data), zone)
    ends = to_utc(datetime.combine(form.date.data, form.ends.data), zone)
    editing.save_session(event, session, starts, ends, form.room.data or "")


@bp.route("/manage/events/<int:event_id>/sessions", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def event_sessions(event_id: int):
    event = _managed_event(event_id)
    form = NewAgendaSessionForm()
    if form.validate_on_submit():
        if form.repeat.data == repeating.ONCE:
            _save_session(event, None, form)
            flash(_("Session added."))
            return redirect(url_for("events.event_sessions", event_id=event.id))
        if added := repeating.add_sessions(event.id, form):
            flash(_("Sessions added: %(n)s.", n=added))
            return redirect(url_for("events.event_sessions", event_id=event.id))
    return render_template(
        "events/sessions.html", event=event, form=form, delete_form=ConfirmForm()
    )


def _agenda_session(event: Event, event_session_id: int) -> Session:
    session = db.session.get(Session, event_session_id)
    if session is None or session.event_id != event.id:
        abort(404)
    return session


@bp.route("/manage/events/<int:event_id>/sessions/<int:event_session_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_event_session(event_id: int, event_session_id: int):
    event = _managed_event(event_id)
    session = _agenda_session(event, event_session_id)
    form = AgendaSessionForm()
    if request.method == "GET":
        starts = to_local(session.starts_at, event.timezone)
        form.date.data, form.starts.data = starts.date(), starts.time()
        form.ends.data = to_local(session.ends_at, event.timezone).time()
        form.room.data = session.room
    if form.validate_on_submit():
        _save_session(event, session, form)
        flash(_("Session saved."))
        return redirect(url_for("events.event_sessions", event_id=event.id))
    return render_template("events/edit_session.html", event=event, session=session, form=form)


@bp.route("/manage/events/<int:event_id>/sessions/<int:event_session_id>/delete", methods=["POST"])
@roles_required(Role.ORGANISER)
def delete_event_session(event_id: int, event_session_id: int):
    event = _managed_event(event_id)
    session = _agenda_session(event, event_session_id)
    if ConfirmForm().validate_on_submit():
        try:
            editing.delete_session(event, session)
        except editing.EditRefused as refused:
            flash(refused.message, "warning")
        else:
            flash(_("Session deleted."))
    return redirect(url_for("events.event_sessions", event_id=event.id))


@bp.route("/manage/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(Role.ORGANISER)
def cancel_session(session_id: int):
    """Cancel or restore one session of an event or a course (`restore=1`)."""
    session = db.get_or_404(Session, session_id)
    if ConfirmForm().validate_on_submit():
        restore = request.form.get("restore") == "1"
        editing.set_session_cancelled(session, cancelled=not restore)
        flash(_("Session restored.") if restore else _("Session cancelled."))
    back = (
        url_for("courses.manage_sessions", course_id=session.event_id)
        if session.event.kind == EventKind.COURSE
        else url_for("events.event_sessions", event_id=session.event_id)
    )
    return redirect(safe_next(back))


# --- registration questions ----------------------------------------------------------------


def _question_data(form: QuestionForm) -> editing.QuestionData:
    return editing.QuestionData(
        label=form.label.data,
        kind=form.kind.data,
        required=form.required.data,
        options=form.options.data or "",
    )


def _question(event: Event, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.event_id != event.id:
        abort(404)
    return question


@bp.route("/manage/events/<int:event_id>/questions", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def event_questions(event_id: int):
    event = _managed_event(event_id)
    form = QuestionForm()
    if form.validate_on_submit():
        editing.save_question(event, None, _question_data(form))
        flash(_("Question added."))
        return redirect(url_for("events.event_questions", event_id=event.id))
    return render_template(
        "events/questions.html", event=event, form=form, action_form=ConfirmForm()
    )


@bp.route("/manage/events/<int:event_id>/questions/<int:question_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_question(event_id: int, question_id: int):
    event = _managed_event(event_id)
    question = _question(event, question_id)
    form = QuestionForm(obj=question)
    if form.validate_on_submit():
        editing.save_question(event, question, _question_data(form))
        flash(_("Question saved."))
        return redirect(url_for("events.event_questions", event_id=event.id))
    return render_template("events/edit_question.html", event=event, form=form)


@bp.route("/manage/events/<int:event_id>/questions/<int:question_id>/delete", methods=["POST"])
@roles_required(Role.ORGANISER)
def delete_question(event_id: int, question_id: int):
    event = _managed_event(event_id)
    question = _question(event, question_id)
    if ConfirmForm().validate_on_submit():
        editing.delete_question(event, question)
        flash(_("Question deleted."))
    return redirect(url_for("events.event_questions", event_id=event.id))


@bp.route(
    "/manage/events/<int:event_id>/questions/<int:question_id>/<any(up, down):direction>",
    methods=["POST"],
)
@roles_required(Role.ORGANISER)
def move_question(event_id: int, question_id: int, direction: str):
    event = _managed_event(event_id)
    question = _question(event, question_id)
    if ConfirmForm().validate_on_submit():
        editing.move_question(event, question, -1 if direction == "up" else 1)
    return redirect(url_for("events.event_questions", event_id=event.id))
