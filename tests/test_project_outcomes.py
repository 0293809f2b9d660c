"""The entry audit (score, gaps, suggested courses, before/after) and projects' stories:
nothing unapproved or unconsented ever reaches the public pages or the API."""

from datetime import timedelta

from courses.models import Direction
from projects import services as project_services
from projects.outcomes import audit, stories
from projects.services import editing, mentoring
from tests.conftest import login
from tests.outcomes_support import approved_story, png_bytes
from tests.projects_support import give_organisation, make_project, organisation
from webapp.extensions import db

ALL = {audit.field_name(area, n): "3" for area in audit.AREAS for n in range(3)}


def answers(**area_points) -> dict[str, str]:
    """Every statement 3 (yes), except the areas given: every statement of those this value."""
    given = dict(ALL)
    for area, value in area_points.items():
        for number in range(3):
            given[audit.field_name(area, number)] = str(value)
    return given


def test_the_audit_scores_areas_finds_gaps_and_suggests_courses(
    client, users, course, make_course, english
):
    give_organisation(users["participant"])
    project = make_project(users["participant"], course.programme, direction="parents_children")
    # the rule: the gap area's level, the project's direction or "other", a session to come
    finances_course = make_course(title="Финансы НКО", level=1, direction=Direction.OTHER)
    make_course(title="Чужое направление", level=1, direction=Direction.OLDER_PEOPLE)
    marketing = make_course(title="Маркетинг", level=3, direction=Direction.PARENTS_CHILDREN)
    login(client, users["participant"])
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'id="take-audit"' in page  # the entry audit is due on level 1
    refused = client.post(f"/projects/{project.id}/audit", data={"team.0": "3"})
    assert refused.status_code == 400 and "Answer every statement" in refused.get_data(True)
    client.post(f"/projects/{project.id}/audit", data=answers(finances=0, market=1))
    summary = audit.summary(project)
    assert summary.latest.finances == 0 and summary.latest.market == 33
    assert summary.latest.score == round((100 * 4 + 0 + 33) / 6)
    assert summary.gaps == ["finances", "market"] and not summary.due
    assert [c.id for c in summary.suggestions["finances"]] == [finances_course.id]
    assert [c.id for c in summary.suggestions["market"]] == [marketing.id]
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    panel = page[page.index('id="audit"') : page.index('id="story"')]
    assert 'id="audit-score"' in panel and "Финансы НКО" in panel
    assert "Чужое направление" not in panel and 'id="take-audit"' not in panel
    # a level move makes it due again; the re-take shows the change
    editing.change_level(project, 2, "Прототип готов", users["organiser"])
    assert audit.summary(project).due
    client.post(f"/projects/{project.id}/audit", data=answers(finances=2))
    summary = audit.summary(project)
    assert summary.change == summary.latest.score - summary.first.score > 0


def test_the_mentor_reads_the_audit_but_does_not_take_it(client, users, course):
    project = make_project(users["participant"], course.programme)
    mentoring.set_mentor(project, users["trainer"].id)
    login(client, users["trainer"])
    assert client.get(f"/projects/{project.id}").status_code == 200
    assert client.post(f"/projects/{project.id}/audit", data=ALL).status_code == 403


def test_only_approved_and_consented_story_content_is_public(client, users, course):
    give_organisation(users["participant"])
    partner = organisation("Фонд «Опора»", inn="7707083893")
    project = make_project(
        users["participant"], course.programme, is_joint=True, partners=[partner.inn]
    )
    secret_results = "Секретные результаты"
    data = stories.StoryData(
        title="Семейная гостиная",
        story="История для всех",
        problem="Проблема для всех",
        results=secret_results,  # not consented
        publish_story=True,
        publish_problem=True,
        publish_partners=False,
        publish_municipality=True,
    )
    story = stories.save_story(project.id, data)
    stories.add_photo(project.id, png_bytes(), "a.png", "Можно", publish=True)
    stories.add_photo(project.id, png_bytes("red"), "b.png", "Нельзя", publish=False)
    photos = stories.story_of(project.id).photos

    def public_texts() -> str:
        pages = [client.get("/stories/"), client.get("/"), client.get("/api/v1/stories"),
                 client.get(f"/stories/{story.slug}")]  # fmt: skip
        return "".join(p.get_data(as_text=True) for p in pages)

    # a draft and a story waiting for approval are nowhere
    assert "Семейная гостиная" not in public_texts()
    assert client.get(f"/stories/{story.slug}").status_code == 404
    stories.submit(project.id)
    assert "Семейная гостиная" not in public_texts()
    assert client.get(f"/stories/photos/{photos[0].id}").status_code == 404
    stories.review(story.id, True, "", users["organiser"].id)
    shown = public_texts()
    assert "Семейная гостиная" in shown and "История для всех" in shown
    assert secret_results not in shown
    assert "Фонд «Опора»" not in shown  # partners not consented
    assert users["participant"].full_name not in shown  # the team's names not consented
    assert "Великий Новгород" in shown  # the municipality is
    assert client.get(f"/stories/photos/{photos[0].id}").status_code == 200
    assert client.get(f"/stories/photos/{photos[1].id}").status_code == 404
    assert f"/stories/photos/{photos[1].id}" not in shown
    api = client.get("/api/v1/stories").get_json()["stories"][0]
    assert api["results"] is None and api["partners"] == [] and api["level"] == 1
    # an edit takes it off the public pages until approved again
    stories.save_story(project.id, stories.StoryData(**{**vars(data), "publish_partners": True}))
    assert client.get(f"/stories/{story.slug}").status_code == 404
    stories.review(story.id, True, "", users["organiser"].id)
    assert "Фонд «Опора»" in client.get(f"/stories/{story.slug}").get_data(as_text=True)


def test_a_story_is_returned_with_a_comment_and_photos_are_checked(client, users, course, english):
    project = make_project(users["participant"], course.programme)
    login(client, users["participant"])
    assert client.post(f"/projects/{project.id}/story", data={"title": "Наша история",
                       "story": "Текст", "publish_story": "y"}).status_code == 302  # fmt: skip
    fake = client.post(
        f"/projects/{project.id}/story/photos",
        data={"photo": (png_bytes().__class__(b"<html>not an image</html>"), "x.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert stories.story_of(project.id).photos == []
    assert "not" in fake.get_data(as_text=True).lower()
    client.post(f"/projects/{project.id}/story/submit")
    story = stories.story_of(project.id)
    client.post("/logout")
    login(client, users["organiser"])
    assert "Наша история" in client.get("/manage/stories").get_data(as_text=True)
    no_comment = client.post(f"/manage/stories/{story.id}/review", data={"decision": "return"},
                             follow_redirects=True)  # fmt: skip
    assert "Say what to change" in no_comment.get_data(as_text=True)
    client.post(f"/manage/stories/{story.id}/review",
                data={"decision": "return", "comment": "Добавьте результаты"})  # fmt: skip
    db.session.expire_all()
    assert stories.story_of(project.id).status == "returned"
    assert client.get(f"/stories/{story.slug}").status_code == 404


def test_the_home_page_shows_the_latest_stories(client, users, course):
    projects = [make_project(users["participant"], course.programme, title=f"Проект {n}",
                             started_on=project_services.today() - timedelta(days=n))
                for n in range(4)]  # fmt: skip
    for project in projects:
        approved_story(project, title=f"История {project.title}")
    home = client.get("/").get_data(as_text=True)
    assert 'id="latest-stories"' in home
    assert sum(f"История Проект {n}" in home for n in range(4)) == 3
