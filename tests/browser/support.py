"""What the Chromium tests share: signing in through the real login form, a phone's screen."""

import contextlib
import re

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import PASSWORD

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def sign_in(page: Page, user) -> None:
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def page_width(page: Page) -> int:
    """The document's width once the page has loaded: measured before its stylesheets apply
    (a click that navigates returns early), an unstyled table is wider than any phone."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def settled_width(page: Page, screen: int) -> int:
    """The document's width once it fits the screen, or after a few seconds if it never
    does: after a resize, charts (Chart.js hears of it from a ResizeObserver) redraw at
    their new size a few frames later, sooner or later depending on the machine's load."""
    page.wait_for_load_state("load")
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "(screen) => document.documentElement.scrollWidth <= screen", arg=screen, timeout=3000
        )
    return page.evaluate("document.documentElement.scrollWidth")


# The innermost elements that reach past the screen's right edge, named tag#id.class, so
# a failure says what to fix rather than only how wide the page became.
STICKING_OUT = """(width) => {
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map((c) => '.' + c).join('');
  const out = [...document.body.querySelectorAll('*')].filter(
    (e) => e.getBoundingClientRect().right > width + 1 && e.offsetParent !== null);
  return out.filter((e) => !out.some((o) => o !== e && e.contains(o)))
    .slice(0, 3).map((e) => name(e.parentElement) + ' > ' + name(e));
}"""


def sticking_out(page: Page, width: int) -> list[str]:
    return page.evaluate(STICKING_OUT, width)
