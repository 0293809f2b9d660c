"""Feedback forms, audits and stories for the tests, made by the real services."""

from datetime import timedelta
from io import BytesIO

from PIL import Image

from events.models import Attendance, AttendanceMethod, AttendanceStatus, Registration
from feedback import services as feedback
from projects.outcomes import stories
from webapp.extensions import db
from webapp.transactions import unit_of_work
from webapp.types import utcnow


def png_bytes(colour="green") -> BytesIO:
    out = BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, "PNG")
    out.seek(0)
    return out


def make_form(event, creator, template="session_satisfaction", active=True, **settings):
    form = feedback.create_form(
        event.id,
        feedback.FormData(title=settings.pop("title", "Как прошло занятие?"), **settings),
        creator,
        template=template,
    )
    if active:
        feedback.set_active(form.id, True)
    return form


def mark(registration: Registration, session, status=AttendanceStatus.PRESENT) -> None:
    db.session.add(
        Attendance(
            registration_id=registration.id,
            session_id=session.id,
            status=status,
            method=AttendanceMethod.MANUAL,
        )
    )
    db.session.commit()


def end_sessions(event) -> None:
    """Move the event's sessions into the past (they ended an hour ago, a day apart)."""
    end = utcnow() - timedelta(hours=1)
    for number, session in enumerate(reversed(event.sessions)):
        session.ends_at = end - timedelta(days=number)
        session.starts_at = session.ends_at - timedelta(hours=2)
    db.session.commit()


def invite_now(form, registration) -> str:
    """An invitation made at once (the worker's own step), its token."""
    with unit_of_work():
        invitation = feedback.invite(form, registration)
    return invitation.token


def approved_story(project, **fields) -> "stories.ProjectStory":
    data = stories.StoryData(
        title=fields.pop("title", "Семейная гостиная"),
        story=fields.pop("story", "Мы начали с чаепитий для родителей."),
        problem=fields.pop("problem", "Родителям детей с ОВЗ не с кем поговорить."),
        publish_story=True,
        publish_problem=True,
        publish_municipality=True,
        publish_partners=True,
        **fields,
    )
    story = stories.save_story(project.id, data)
    stories.add_photo(project.id, png_bytes(), "photo.png", "Первая встреча", publish=True)
    stories.submit(project.id)
    stories.review(story.id, True, "", reviewer_id=project.created_by_id or 1)
    return stories.story_of(project.id)


def outcomes_world(users: dict, course, registration, project_id: int) -> dict:
    """A course feedback form with the participant invited; the project's approved story
    with a published photo."""
    from projects.models import Project

    form = make_form(course, users["organiser"])
    token = invite_now(form, registration)
    story = approved_story(db.session.get(Project, project_id))
    return {
        "form_id": form.id,
        "feedback_token": token,
        "story_id": story.id,
        "slug": story.slug,
        "photo_id": story.photos[0].id,
    }
