"""An organiser drags a field of a certificate template on the page, resizes another, adds
a free text and saves: the layout JSON holds the new millimetres."""

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect

from certificates.models import CertificateTemplate, TemplateKind
from certificates.services import templates as service
from tests.browser.support import sign_in
from webapp.extensions import db

pytestmark = pytest.mark.browser


def drag(page: Page, locator, dx: float, dy: float) -> None:
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=4)
    page.mouse.move(x + dx, y + dy, steps=4)
    page.mouse.up()


def field_of(template: CertificateTemplate, kind: str) -> dict:
    return next(field for field in template.layout["fields"] if field["type"] == kind)


def saved_message(version: int) -> str:
    """The flash after a save, in the page's language (Russian, the default)."""
    with force_locale("ru"):
        return gettext("Layout saved: version %(n)d.", n=version)


def test_dragging_a_field_and_saving_changes_the_layout(open_page, users, shots_dir):
    template = service.default_template(TemplateKind.COURSE)
    db.session.commit()
    before = field_of(template, "holder_name")
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, users["organiser"])
    page.goto(f"/certificates/templates/{template.id}")

    background = page.locator(".cert-background")
    expect(background).to_be_visible()
    assert page.evaluate("document.querySelector('.cert-background').naturalWidth") > 0
    name_box = page.locator(".cert-box[data-type=holder_name]")
    expect(name_box).to_contain_text("Иванова Мария Сергеевна")

    page_width_px = page.locator("#cert-page").bounding_box()["width"]
    px_per_mm = page_width_px / 297
    drag(page, name_box, -20 * px_per_mm, 10 * px_per_mm)
    # the row of the table follows the box
    x_input = page.locator("#field-rows tr.table-active input[name$='-x']")
    assert abs(float(x_input.input_value()) - (before["x"] - 20)) < 1.5

    qr_handle = page.locator(".cert-box[data-type=qr] .cert-handle")
    drag(page, qr_handle, -8 * px_per_mm, -8 * px_per_mm)

    page.click("#add-field")
    page.locator("#field-rows tr.table-active input[name$='-text']").fill("Выдан {issued_on}")
    expect(page.locator(".cert-box.selected")).to_contain_text("Выдан 16 марта 2026")
    page.screenshot(path=shots_dir / "certificate-editor.png", full_page=True)

    page.click("#save-layout")
    expect(page.locator(".alert")).to_contain_text(saved_message(version=2))

    db.session.rollback()  # a new transaction: it sees what the server committed
    saved = db.session.get(CertificateTemplate, template.id)
    name = field_of(saved, "holder_name")
    assert abs(name["x"] - (before["x"] - 20)) < 1.5
    assert abs(name["y"] - (before["y"] + 10)) < 1.5
    assert name["width"] == before["width"]
    qr = field_of(saved, "qr")
    assert qr["width"] < 32 and qr["height"] < 32
    assert saved.layout["fields"][-1]["text"] == "Выдан {issued_on}"
    assert saved.version == 2


def touch_drag(page: Page, locator, dx: float, dy: float) -> None:
    """A finger's drag, as Chromium's touch input (which the page sees as pointer events)."""
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 6):
        point = {"x": x + dx * step / 5, "y": y + dy * step / 5}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_finger_drags_a_field_and_arrow_keys_nudge_it_on_a_phone(open_page, users, shots_dir):
    template = service.default_template(TemplateKind.EVENT)
    db.session.commit()
    before = {kind: field_of(template, kind) for kind in ("title", "issuer")}
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(page, users["organiser"])
    page.goto(f"/certificates/templates/{template.id}")
    px_per_mm = page.locator("#cert-page").bounding_box()["width"] / 297
    scroll_before = page.evaluate("window.scrollY")
    touch_drag(page, page.locator(".cert-box[data-type=issuer]"), 0, 12 * px_per_mm)
    assert page.evaluate("window.scrollY") == scroll_before  # the finger moved the box only

    title_box = page.locator(".cert-box[data-type=title]")
    title_box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    page.screenshot(path=shots_dir / "certificate-editor-phone.png", full_page=True)
    page.click("#save-layout")
    expect(page.locator(".alert")).to_contain_text(saved_message(version=2))
    db.session.rollback()  # a new transaction: it sees what the server committed
    saved = db.session.get(CertificateTemplate, template.id)
    title, issuer = field_of(saved, "title"), field_of(saved, "issuer")
    assert (title["x"], title["y"]) == (before["title"]["x"] + 1, before["title"]["y"] + 5)
    assert issuer["x"] == before["issuer"]["x"]
    assert abs(issuer["y"] - (before["issuer"]["y"] + 12)) < 1.5
