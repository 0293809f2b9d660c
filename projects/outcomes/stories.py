"""Projects' stories: the team writes, organisers approve, the public pages show only what
the team consented to publish.

`public_view()` is the one door to the public: the pages, the home page and the API render
its dict, which holds an item only when the story is approved and that item's consent is
given; nothing else of the project (members' names, contacts) passes unless consented.
Any edit of an approved story takes it off the public pages until it is approved again.
"""

import re
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from projects.models import Project, ProjectMember
from projects.outcomes.models import ProjectStory, StoryPhoto, StoryStatus
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.services import latin
from webapp.storage import JPEG, PNG, UploadRefused, delete_stored, save_upload
from webapp.transactions import unit_of_work
from webapp.types import utcnow
from webapp.urls import base_url

PHOTO_TYPES = (PNG, JPEG)
MAX_PHOTOS = 8
ITEMS = ("story", "problem", "actions", "results")


class StoryError(ServiceError):
    MESSAGES = {
        "title": _l("Give the story a title."),
        "empty": _l("Write at least one part of the story before sending it."),
        "photo_type": _l("A photo must be a PNG or JPEG image."),
        "too_many": _l("A story has at most 8 photos."),
        "not_submitted": _l("Only a story sent for approval can be approved or returned."),
        "comment": _l("Say what to change: the team reads the comment."),
        "unknown": _l("No such photo."),
    }


@dataclass
class StoryData:
    title: str
    story: str = ""
    problem: str = ""
    actions: str = ""
    results: str = ""
    publish_story: bool = False
    publish_problem: bool = False
    publish_actions: bool = False
    publish_results: bool = False
    publish_partners: bool = False
    publish_municipality: bool = False
    publish_team: bool = False


def slug_for(title: str, project_id: int) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", latin(title).lower()).strip("-")[:80].strip("-")
    return f"{words or 'story'}-{project_id}"


def story_of(project_id: int) -> ProjectStory | None:
    return db.session.scalar(
        select(ProjectStory)
        .where(ProjectStory.project_id == project_id)
        .options(selectinload(ProjectStory.photos))
    )


def _locked_story(project_id: int) -> ProjectStory | None:
    return db.session.scalar(
        select(ProjectStory).where(ProjectStory.project_id == project_id).with_for_update()
    )


def _changed(story: ProjectStory) -> None:
    """An edit: the story leaves the public pages until approved again."""
    if story.status == StoryStatus.APPROVED:
        story.status = StoryStatus.SUBMITTED
    story.updated_at = utcnow()


def save_story(project_id: int, data: StoryData) -> ProjectStory:
    if not data.title.strip():
        raise StoryError("title", field="title")
    with unit_of_work():
        story = _locked_story(project_id)
        if story is None:
            story = ProjectStory(project_id=project_id, status=StoryStatus.DRAFT)
            db.session.add(story)
        for name, value in vars(data).items():
            setattr(story, name, value.strip() if isinstance(value, str) else value)
        story.slug = slug_for(story.title, project_id)
        _changed(story)
    return story


def submit(project_id: int) -> None:
    with unit_of_work():
        story = _locked_story(project_id)
        if story is None or not any(getattr(story, item).strip() for item in ITEMS):
            raise StoryError("empty")
        story.status = StoryStatus.SUBMITTED
        story.review_comment = ""


def review(story_id: int, approve: bool, comment: str, reviewer_id: int) -> None:
    """An organiser approves (the consented items go public) or returns it with a comment."""
    with unit_of_work():
        story = db.session.get(ProjectStory, story_id, with_for_update=True)
        if story is None or story.status != StoryStatus.SUBMITTED:
            raise StoryError("not_submitted")
        if not approve and not comment.strip():
            raise StoryError("comment", field="comment")
        story.status = StoryStatus.APPROVED if approve else StoryStatus.RETURNED
        story.review_comment = comment.strip()
        story.reviewed_by_id = reviewer_id
        if approve and story.published_at is None:
            story.published_at = utcnow()


def add_photo(
    project_id: int, stream: BinaryIO, filename: str, caption: str, publish: bool
) -> StoryPhoto:
    """A photo checked by its content (webapp.storage, as materials are): PNG or JPEG only."""
    stored = save_upload(stream, filename)  # raises UploadRefused
    try:
        if stored.content_type not in PHOTO_TYPES:
            raise StoryError("photo_type", field="photo")
        with unit_of_work():
            story = _locked_story(project_id)
            if story is None:
                raise StoryError("empty")
            if len(story.photos) >= MAX_PHOTOS:
                raise StoryError("too_many", field="photo")
            photo = StoryPhoto(
                storage_name=stored.storage_name,
                content_type=stored.content_type,
                caption=caption.strip()[:300],
                publish=publish,
            )
            story.photos.append(photo)
            _changed(story)
    except (StoryError, UploadRefused):
        delete_stored(stored.storage_name)
        raise
    return photo


def change_photo(project_id: int, photo_id: int, publish: bool | None, delete: bool) -> None:
    removed = None
    with unit_of_work():
        story = _locked_story(project_id)
        photo = next((p for p in story.photos if p.id == photo_id), None) if story else None
        if photo is None:
            raise StoryError("unknown")
        if delete:
            removed = photo.storage_name
            story.photos.remove(photo)
        elif publish is not None:
            photo.publish = publish
        _changed(story)
    if removed:
        delete_stored(removed)


def review_queue() -> list[ProjectStory]:
    return list(
        db.session.scalars(
            select(ProjectStory)
            .where(ProjectStory.status == StoryStatus.SUBMITTED)
            .options(joinedload(ProjectStory.project), selectinload(ProjectStory.photos))
            .order_by(ProjectStory.updated_at)
        )
    )


# --- the public side ------------------------------------------------------------------------


def _published():
    return (
        select(ProjectStory)
        .where(ProjectStory.status == StoryStatus.APPROVED)
        .options(
            joinedload(ProjectStory.project).selectinload(Project.partners),
            joinedload(ProjectStory.project)
            .selectinload(Project.members)
            .joinedload(ProjectMember.user),
            selectinload(ProjectStory.photos),
        )
        .order_by(ProjectStory.published_at.desc(), ProjectStory.id.desc())
    )


def published_page(page: int, per_page: int = 12) -> tuple[list[dict], int]:
    """(public views of one page, number of pages)."""
    total = db.session.scalar(
        select(func.count()).where(ProjectStory.status == StoryStatus.APPROVED)
    )
    stories = db.session.scalars(_published().limit(per_page).offset((page - 1) * per_page))
    return [public_view(story) for story in stories.unique()], max(1, -(-total // per_page))


def latest(count: int = 3) -> list[dict]:
    return [public_view(story) for story in db.session.scalars(_published().limit(count)).unique()]


def published_by_slug(slug: str) -> dict | None:
    story = db.session.scalars(_published().where(ProjectStory.slug == slug)).unique().first()
    return public_view(story) if story else None


def public_photo(photo_id: int) -> StoryPhoto | None:
    """A photo the public may see: consented, of an approved story."""
    return db.session.scalar(
        select(StoryPhoto)
        .join(ProjectStory, ProjectStory.id == StoryPhoto.story_id)
        .where(
            StoryPhoto.id == photo_id,
            StoryPhoto.publish.is_(True),
            ProjectStory.status == StoryStatus.APPROVED,
        )
    )


def public_view(story: ProjectStory) -> dict:
    """What the public may see of an approved story: the consented items only."""
    if story.status != StoryStatus.APPROVED:
        raise ValueError("only approved stories are public")
    project = story.project
    base = base_url()
    view = {
        "slug": story.slug,
        "title": story.title,
        "url": f"{base}/stories/{story.slug}",
        "level": project.level,
        "published_at": story.published_at.isoformat() if story.published_at else None,
        "photos": [
            {"id": photo.id, "url": f"{base}/stories/photos/{photo.id}", "caption": photo.caption}
            for photo in story.photos
            if photo.publish
        ],
    }
    for item in ITEMS:
        view[item] = getattr(story, item) if getattr(story, f"publish_{item}") else None
    view["municipality"] = project.municipality if story.publish_municipality else None
    view["partners"] = (
        [organisation.name for organisation in project.partners] if story.publish_partners else []
    )
    view["team"] = (
        [member.user.full_name for member in project.members] if story.publish_team else []
    )
    return view
