"""An organiser issues participation certificates to everyone who came, on a phone: the
progress page steps through the batch by itself (CSRF on, as in production), the bar
reaches 100% and the ZIP is offered; the participant then finds theirs under My
certificates."""

import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_learning import PHONE, sign_in
from tests.certificates_support import add_people, certificates_of, make_event
from webapp.extensions import db

pytestmark = pytest.mark.browser

PEOPLE = 60


def test_an_organiser_issues_to_everyone_and_downloads_the_zip(open_page, users, shots_dir):
    event = make_event()
    add_people(event, PEOPLE, attended=True)
    add_people(event, 1, attended=True, user=users["participant"])
    page: Page = open_page(**PHONE)
    sign_in(page, users["organiser"])

    page.goto(f"/events/{event.id}/certificates")
    page.screenshot(path=str(shots_dir / "event-certificates-phone.png"), full_page=False)
    page.locator("form[action$='/certificates/batch'] button").click()
    page.wait_for_url(re.compile(r"/certificate-batches/\d+$"))
    download_link = page.locator("#batch-zip")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(page.locator("#batch-bar")).to_have_text("100%")
    expect(page.locator("#batch-count")).to_contain_text(f"{PEOPLE + 1}")
    page.screenshot(path=str(shots_dir / "certificate-batch-phone.png"), full_page=True)
    with page.expect_download() as download:
        download_link.click()
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert len(names) == PEOPLE + 1
    db.session.rollback()  # a fresh snapshot: the server's writes
    assert len(certificates_of(event.id)) == PEOPLE + 1

    page.context.clear_cookies()
    sign_in(page, users["participant"])
    page.goto("/my/certificates")
    expect(page.locator("[data-certificate]")).to_have_count(1)
    expect(page.locator("main")).to_contain_text(event.title)
    page.screenshot(path=str(shots_dir / "my-certificates-phone.png"), full_page=True)
