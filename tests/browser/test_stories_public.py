"""The public story pages on a phone: readable without sideways scrolling, headings in
order, images described, no duplicate ids; nothing the team did not consent to shows."""

import pytest

from tests.browser.support import PHONE
from tests.outcomes_support import approved_story
from tests.projects_support import give_organisation, make_project

pytestmark = pytest.mark.browser

STRUCTURE = """() => {
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const levels = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]);
  const skipped = levels.some((level, i) => i > 0 && level > levels[i - 1] + 1);
  const unlabelled = [...document.querySelectorAll('input:not([type=hidden]),select,textarea')]
    .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')).length;
  return {
    duplicates: ids.filter((id, i) => ids.indexOf(id) !== i),
    h1: levels.filter(l => l === 1).length, skipped, unlabelled,
    noAlt: [...document.querySelectorAll('img')].filter(i => !i.hasAttribute('alt')).length,
    width: document.documentElement.scrollWidth,
  };
}"""


def test_the_public_story_pages_are_accessible_on_a_phone(open_page, users, course):
    give_organisation(users["participant"])
    project = make_project(users["participant"], course.programme)
    story = approved_story(project, results="Не для публикации", publish_results=False)
    page = open_page(**PHONE)
    for url in ("/stories/", f"/stories/{story.slug}", "/"):
        page.goto(url)
        found = page.evaluate(STRUCTURE)
        assert found == {"duplicates": [], "h1": 1, "skipped": False, "unlabelled": 0,
                         "noAlt": 0, "width": found["width"]}, (url, found)  # fmt: skip
        assert found["width"] <= 360, url
        assert "Не для публикации" not in page.content()
        assert story.title in page.content()
    page.goto(f"/stories/{story.slug}")
    assert page.locator("#story img").evaluate("img => img.naturalWidth") > 0  # the photo loads
