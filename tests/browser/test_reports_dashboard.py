"""An organiser reads the dashboard on a phone: the charts draw from the local Chart.js, the
page does not scroll sideways, a number opens into its list, a target is changed."""

import re

import pytest
from playwright.sync_api import expect

from reports import services
from reports.services import dashboard
from tests.browser.support import PHONE, page_width, sign_in
from tests.reports_support import build_world

pytestmark = pytest.mark.browser


def test_an_organiser_reads_the_dashboard_on_a_phone(open_page, users, shots_dir):
    world = build_world(people=30)
    trained = dashboard.figures(services.ReportFilter()).values["trained"]
    page = open_page(**PHONE)
    sign_in(page, users["organiser"])

    page.goto("/reports/")
    page.wait_for_function(
        "window.Chart && Chart.getChart('progress-chart') && Chart.getChart('registrations-chart')"
    )
    assert page_width(page) <= 360
    page.screenshot(path=str(shots_dir / "reports-dashboard-phone.png"), full_page=True)

    page.locator("a[data-indicator=trained]").click()
    expect(page.locator("#total")).to_have_text(str(trained))
    assert page_width(page) <= 360

    page.goto("/reports/targets")
    programme_id = world["programme_ids"][0]
    page.fill(f"#target_{programme_id}_trained", "7")
    page.locator("main form button[type=submit]").click()
    page.goto(f"/reports/?programme={programme_id}")
    expect(page.locator("[data-target=trained]")).to_have_text(re.compile(r"\b7$"))
