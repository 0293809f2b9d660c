"""The door check-in page in Chromium, on a phone-sized screen: a ticket's QR code shown to
the camera (Chromium's fake camera playing a video of it) or given as a photo; and the
offline mode: the network goes away, two tickets are scanned, it comes back, and the
server holds each check-in exactly once.

The page is read in English (/lang/en), so the wording checked here is the msgids'.
"""

import hashlib
import re
from pathlib import Path

import pytest
import qrcode
from flask import current_app
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from events.models import Attendance, CheckinAttempt
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, record_console_error
from tests.browser.support import PHONE, page_width
from tests.browser.support import sign_in as sign_in_as
from tests.checkin_support import make_event, register
from webapp.extensions import db

pytestmark = pytest.mark.browser


def ticket_qr_png(secret: str, folder: Path) -> Path:
    """The QR code a ticket carries: the ticket's URL."""
    path = folder / f"{secret}.png"
    qrcode.make(f"{current_app.config['TROPA_BASE_URL']}/t/{secret}", box_size=8).save(path)
    return path


def write_y4m(picture: Path, path: Path, frames: int = 10) -> Path:
    """A short video of the picture, in the raw format Chromium's fake camera plays (and
    loops): a YUV4MPEG2 header, then frames of Y, U and V planes (4:2:0)."""
    width, height = 640, 480
    frame = Image.new("RGB", (width, height), "white")
    code = Image.open(picture).convert("RGB")
    code.thumbnail((440, 440))
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path


def sign_in(page: Page, user) -> None:
    """Signed in, with pages in English: the assertions read the English texts."""
    sign_in_as(page, user)
    page.goto("/lang/en")


def open_checkin(page: Page, event) -> None:
    page.goto(f"/events/{event.id}/checkin")
    expect(page.locator("#checkin")).to_have_attribute("data-ready", "1")


def attendance_of(registration) -> int:
    db.session.rollback()  # a fresh snapshot: the server's writes
    return db.session.scalar(
        select(func.count()).where(Attendance.registration_id == registration.id)
    )


def test_a_photo_of_the_ticket_checks_in_and_a_second_says_already(
    open_page, users, tmp_path, shots_dir
):
    forum = make_event("Форум НКО")
    anna = register(forum, "Анна Смирнова")
    register(forum, "Борис Петров")
    photo = ticket_qr_png(anna.ticket_secret, tmp_path)
    page = open_page(**PHONE)
    sign_in(page, users["organiser"])
    open_checkin(page, forum)
    expect(page.locator("#count-registered")).to_have_text("2")
    expect(page.locator("#count-checked-in")).to_have_text("0")

    page.set_input_files("#photo-input", photo)

    result = page.locator("#result")
    expect(result).to_have_attribute("data-state", "ok")
    expect(result).to_have_css("background-color", "rgb(25, 135, 84)")  # green
    expect(page.locator("#result-name")).to_have_text("Анна Смирнова")
    expect(page.locator("#count-checked-in")).to_have_text("1")
    expect(page.locator("#count-expected")).to_have_text("1")
    assert page_width(page) <= 360
    page.screenshot(path=shots_dir / "checkin-ok-phone.png", full_page=True)

    page.set_input_files("#photo-input", photo)
    expect(result).to_have_attribute("data-state", "already")
    expect(result).to_have_css("background-color", "rgb(255, 193, 7)")  # amber
    expect(page.locator("#result-message")).to_have_text(
        re.compile(rf"^Already checked in at \d\d:\d\d by {users['organiser'].full_name}\.$")
    )
    page.screenshot(path=shots_dir / "checkin-already-phone.png", full_page=True)
    assert attendance_of(anna) == 1


def test_a_stranger_and_undo(open_page, users, tmp_path):
    forum = make_event("Форум НКО")
    other = make_event("Другое событие")
    anna = register(forum, "Анна Смирнова")
    stranger = register(other, "Чужой Гость")
    page = open_page(**PHONE)
    sign_in(page, users["organiser"])
    open_checkin(page, forum)

    page.set_input_files("#photo-input", ticket_qr_png(stranger.ticket_secret, tmp_path))
    expect(page.locator("#result")).to_have_attribute("data-state", "refused")
    expect(page.locator("#result-message")).to_have_text("This ticket is for another event.")

    page.set_input_files("#photo-input", ticket_qr_png(anna.ticket_secret, tmp_path))
    expect(page.locator("#result")).to_have_attribute("data-state", "ok")
    page.locator("#undo-last").click()
    expect(page.locator("#result-title")).to_have_text("Check-in undone: Анна Смирнова.")
    expect(page.locator("#count-checked-in")).to_have_text("0")
    assert attendance_of(anna) == 0


def test_search_by_name_and_check_in_by_hand(open_page, users):
    forum = make_event("Форум НКО")
    boris = register(forum, "Борис Петров", email="boris@example.org")
    page = open_page(**PHONE)
    sign_in(page, users["organiser"])
    open_checkin(page, forum)

    page.fill("#search-q", "петров")
    row = page.locator(f'#search-results [data-registration-id="{boris.id}"]')
    expect(row).to_contain_text("boris@example.org")
    row.locator(".checkin-manual").click()
    expect(page.locator("#result")).to_have_attribute("data-state", "ok")
    expect(page.locator("#result-name")).to_have_text("Борис Петров")
    expect(row.locator(".checkin-manual")).to_have_count(0)  # found again, checked in now
    assert attendance_of(boris) == 1


def test_offline_scans_are_queued_and_sent_once_when_back(door_phone, users, tmp_path):
    forum = make_event("Форум НКО")
    anna, boris = register(forum, "Анна Смирнова"), register(forum, "Борис Петров")
    page = door_phone()
    sign_in(page, users["organiser"])
    open_checkin(page, forum)
    # The service worker keeps the page: it can be reloaded offline.
    expect(page.locator("#checkin")).to_have_attribute("data-offline-ready", "1")
    context = page.context

    context.set_offline(True)
    page.set_input_files("#photo-input", ticket_qr_png(anna.ticket_secret, tmp_path))
    expect(page.locator("#result")).to_have_attribute("data-state", "ok")
    expect(page.locator("#result-name")).to_have_text("Анна Смирнова")
    page.set_input_files("#photo-input", ticket_qr_png(boris.ticket_secret, tmp_path))
    expect(page.locator("#result-name")).to_have_text("Борис Петров")
    expect(page.locator("#net-status")).to_have_text("offline — 2 scans queued")
    expect(page.locator("#count-checked-in")).to_have_text("2")
    # The same ticket again, still offline: the door's own list knows it.
    page.set_input_files("#photo-input", ticket_qr_png(anna.ticket_secret, tmp_path))
    expect(page.locator("#result")).to_have_attribute("data-state", "already")

    page.reload()
    expect(page.locator("#checkin")).to_have_attribute("data-ready", "1")
    expect(page.locator("#net-status")).to_have_text("offline — 2 scans queued")
    assert attendance_of(anna) == attendance_of(boris) == 0  # nothing reached the server

    context.set_offline(False)
    expect(page.locator("#net-status")).to_have_text("Online", timeout=20_000)
    assert attendance_of(anna) == attendance_of(boris) == 1
    assert db.session.scalar(select(func.count()).select_from(CheckinAttempt)) == 2
    expect(page.locator("#count-checked-in")).to_have_text("2")
    expect(page.locator("#conflicts-section")).to_be_hidden()


def test_a_ticket_checked_in_at_another_door_while_offline_is_shown_after_sync(
    door_phone, users, tmp_path
):
    from events.services import checkin

    forum = make_event("Форум НКО")
    anna = register(forum, "Анна Смирнова")
    page = door_phone()
    sign_in(page, users["organiser"])
    open_checkin(page, forum)

    page.context.set_offline(True)
    page.set_input_files("#photo-input", ticket_qr_png(anna.ticket_secret, tmp_path))
    expect(page.locator("#net-status")).to_have_text("offline — 1 scans queued")
    # Meanwhile the main door, online, lets her in too.
    checkin.check_in(event_id=forum.id, scanned=anna.ticket_secret, by_user=users["admin"])

    page.context.set_offline(False)
    expect(page.locator("#net-status")).to_have_text("Online", timeout=20_000)
    conflicts = page.locator("#conflicts")
    expect(conflicts).to_contain_text("Анна Смирнова")
    expect(conflicts).to_contain_text("Checked in at two doors")
    assert attendance_of(anna) == 1


def test_the_fallback_sha256_matches_pythons(open_page, users):
    forum = make_event("Форум НКО")
    page = open_page()
    sign_in(page, users["organiser"])
    open_checkin(page, forum)
    for text in ["", "abc", "0123456789abcdefghjkmnpqrstvwxyz" * 3, "Привет, тропа"]:
        computed = page.evaluate("(t) => tropaSha256Hex(new TextEncoder().encode(t))", text)
        assert computed == hashlib.sha256(text.encode()).hexdigest()


# --- a door phone: a browser of its own ---------------------------------------------------


@pytest.fixture
def door_phone(app_ctx, live_server, chromium, tmp_path):
    """`door_phone(camera=png)`: a phone-sized page in a Chromium of its own, whose camera
    films the picture if one is given. As `open_page` it fails the test on a server error or
    a browser error, except the failed requests of a phone that lost its network (the test
    switches it off at any moment, a periodic request may be under way)."""
    console_errors: list[str] = []
    browsers = []

    def open_(camera: Path | None = None) -> Page:
        args = list(CHROMIUM_ARGS)
        if camera:
            video = write_y4m(camera, tmp_path / "ticket.y4m")
            args += [
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ]
        browser = chromium.browser_type.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        browsers.append(browser)
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
        if camera:
            context.grant_permissions(["camera"])
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda message: record_console_error(message, console_errors))
        return page

    live_server.errors.clear()
    yield open_
    for browser in browsers:
        browser.close()
    offline_failures = ("net::ERR_INTERNET_DISCONNECTED", "Failed to fetch")
    errors = [e for e in console_errors if not any(f in e for f in offline_failures)]
    assert not errors, f"the browser logged errors: {errors}"
    assert not live_server.errors, f"the server failed: {live_server.errors!r}"


def test_the_camera_scans_a_ticket_continuously(door_phone, users, tmp_path, shots_dir):
    forum = make_event("Форум НКО")
    anna = register(forum, "Анна Смирнова")
    register(forum, "Борис Петров")
    photo = ticket_qr_png(anna.ticket_secret, tmp_path)
    page = door_phone(camera=photo)
    sign_in(page, users["organiser"])
    open_checkin(page, forum)
    # The camera may be used (granted before): the page starts scanning by itself.
    expect(page.locator("#checkin")).to_have_attribute("data-camera", "on")

    expect(page.locator("#result")).to_have_attribute("data-state", "ok")
    expect(page.locator("#result-name")).to_have_text("Анна Смирнова")
    expect(page.locator("#count-checked-in")).to_have_text("1")
    page.screenshot(path=shots_dir / "checkin-camera-phone.png")
    # The ticket stays in front of the camera: one check-in, not one per frame.
    page.wait_for_timeout(1500)
    expect(page.locator("#result")).to_have_attribute("data-state", "ok")
    assert attendance_of(anna) == 1
    assert db.session.scalar(select(func.count()).select_from(CheckinAttempt)) == 1

    # Shown again as a photo: amber.
    page.set_input_files("#photo-input", photo)
    expect(page.locator("#result")).to_have_attribute("data-state", "already")
    expect(page.locator("#result-message")).to_contain_text("Already checked in at")
