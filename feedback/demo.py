"""Demo feedback (signals.demo_data_loading, after the courses' and events' demo): a form
on every past outreach event (NPS) and on the latest past session of each course
(satisfaction, anonymous on every other course), their attendees invited — the demo does
not mail them — and about seven in ten answers."""

import random

from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import Course
from events.models import Event, Session
from feedback import services
from feedback.models import FeedbackForm, FeedbackInvitation, FeedbackKind
from webapp.extensions import db
from webapp.services import find_user, random_secret
from webapp.transactions import unit_of_work
from webapp.types import utcnow

ORGANISER = "organiser@tropa.demo"
COMMENTS = [
    "Очень полезно, спасибо!",
    "Хотелось бы больше практики.",
    "Отличный тренер, всё понятно.",
    "Мало времени на вопросы.",
    "Нашли партнёров для проекта.",
]


def load_demo_feedback(_sender=None) -> str:
    rng = random.Random("tropa-demo-feedback")
    organiser = find_user(ORGANISER)
    now = utcnow()
    ended = (
        select(Session.event_id).group_by(Session.event_id).having(func.max(Session.ends_at) < now)
    )
    events = db.session.scalars(
        select(Event).where(Event.kind == "event", Event.id.in_(ended)).order_by(Event.id)
    ).all()
    forms = [
        services.create_form(event.id, services.FormData(title=_("Event NPS")), organiser,
                             template="event_nps")
        for event in events
    ]  # fmt: skip
    courses = db.session.scalars(select(Course).order_by(Course.id)).all()
    for number, course in enumerate(courses):
        past = [s for s in course.sessions if s.ends_at < now and not s.cancelled_at]
        if past:
            data = services.FormData(
                title=_("Session satisfaction"), session_id=past[-1].id, anonymous=number % 2 == 1
            )
            forms.append(
                services.create_form(course.id, data, organiser, template="session_satisfaction")
            )
    for form in forms:
        services.set_active(form.id, True)
    with unit_of_work():
        pairs = db.session.execute(services.due_invitations(now, 100_000)).all()
        invitations = [
            FeedbackInvitation(form_id=form_id, registration_id=registration_id,
                               token=random_secret())
            for form_id, registration_id in pairs
        ]  # fmt: skip
        db.session.add_all(invitations)
    answered = 0
    for invitation in invitations:
        if rng.random() < 0.7:
            form = db.session.get(FeedbackForm, invitation.form_id)
            held = form.session or form.event.sessions[-1]
            on = held.ends_at.astimezone(form.event.tz).date()  # answered the day it ended
            services.submit_answers(invitation.token, _answers(rng, form), on=on)
            answered += 1
    return _(
        "Demo feedback: %(forms)d forms, %(invited)d invited, %(answered)d answered.",
        forms=len(forms),
        invited=len(invitations),
        answered=answered,
    )


def _answers(rng: random.Random, form) -> dict[int, list[str]]:
    """Mostly good marks, a few poor ones, a comment now and then."""
    given = {}
    for question in form.questions:
        if question.kind == FeedbackKind.RATING5:
            given[question.id] = [str(rng.choices([5, 4, 3, 2], weights=[5, 4, 2, 1])[0])]
        elif question.kind == FeedbackKind.RATING10:
            given[question.id] = [str(rng.choices([10, 9, 8, 7, 5], weights=[4, 4, 3, 2, 1])[0])]
        elif question.kind == FeedbackKind.TEXT and rng.random() < 0.4:
            given[question.id] = [rng.choice(COMMENTS)]
        elif question.kind in (FeedbackKind.CHOICE, FeedbackKind.YESNO):
            given[question.id] = [rng.choice(question.choices)]
    return given
