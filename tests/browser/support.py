"""What the Chromium tests share: signing in through the real login form, a phone's screen."""

import re

from playwright.sync_api import Page

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
