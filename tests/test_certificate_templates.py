"""Certificate templates: the shipped defaults, the list, creating, editing the layout
through the coordinates form, backgrounds and signatures, duplicate, delete, default."""

import io

import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select

from certificates.models import (
    CertificateAsset,
    CertificateTemplate,
    CertificateTemplateVersion,
    EventCertificates,
    TemplateKind,
)
from certificates.services import templates as service
from tests.conftest import login
from webapp import storage
from webapp.extensions import db


@pytest.fixture
def organiser(client, users):
    login(client, users["organiser"])
    client.get("/lang/en")
    return client


@pytest.fixture
def template(app_ctx) -> CertificateTemplate:
    template = service.shipped_template(TemplateKind.COURSE, "Мой шаблон")
    db.session.commit()
    return template


def layout_form(layout: dict, **extra) -> dict:
    """The coordinates form as the editor posts it."""
    data = dict(extra)
    for index, field in enumerate(layout["fields"]):
        for key, value in field.items():
            data[f"fields-{index}-{key}"] = value
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def png(size=(600, 240), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (20, 40, 120, 255) if mode == "RGBA" else (20, 40, 120)).save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


def pdf_page(width, height) -> bytes:
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(width, height))
    pdf.rect(30, 30, 60, 60, fill=1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- defaults ----------------------------------------------------------------------------------


def test_each_kind_gets_one_shipped_default_on_first_use(app_ctx):
    course = service.default_template(TemplateKind.COURSE)
    event = service.default_template(TemplateKind.EVENT)
    db.session.commit()
    assert course.is_default and event.is_default
    assert (
        course.background_storage_name
        and storage.stored_path(course.background_storage_name).exists()
    )
    assert service.default_template(TemplateKind.COURSE).id == course.id
    assert count(CertificateTemplate) == 2


def test_the_list_creates_the_defaults_and_shows_them(organiser):
    page = organiser.get("/certificates/templates/").get_data(as_text=True)
    assert "Сертификат о прохождении обучения" in page
    assert "Сертификат участника" in page
    assert page.count(">default<") == 2


def test_the_list_paginates(organiser, app_ctx):
    for number in range(service.PER_PAGE + 3):
        db.session.add(
            CertificateTemplate(
                title=f"Шаблон {number:02d}", kind=TemplateKind.EVENT, layout={"fields": []}
            )
        )
    db.session.commit()
    first = organiser.get("/certificates/templates/").get_data(as_text=True)
    second = organiser.get("/certificates/templates/?page=2").get_data(as_text=True)
    assert "page=2" in first
    assert "Шаблон 22" in second and "Шаблон 22" not in first


# --- creating and editing ------------------------------------------------------------------------


def test_a_new_template_starts_from_the_standard_design(organiser):
    response = organiser.post(
        "/certificates/templates/new", data={"title": "Сертификат акселератора", "kind": "course"}
    )
    template = db.session.scalar(
        select(CertificateTemplate).where(CertificateTemplate.title == "Сертификат акселератора")
    )
    assert response.headers["Location"].endswith(f"/certificates/templates/{template.id}")
    assert template.kind == TemplateKind.COURSE and not template.is_default
    assert any(field["type"] == "holder_name" for field in template.layout["fields"])
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="cert-editor-config"' in page and "fields-0-x" in page


def test_a_new_template_needs_a_title(organiser):
    response = organiser.post("/certificates/templates/new", data={"title": " ", "kind": "course"})
    assert response.status_code == 400
    assert "This field is required" in response.get_data(as_text=True)


def test_saving_the_layout_moves_a_field_and_bumps_the_version(organiser, template):
    layout = template.layout
    layout["fields"][0]["x"] = 12.5
    response = organiser.post(
        f"/certificates/templates/{template.id}/layout", data=layout_form(layout)
    )
    assert response.status_code == 302
    db.session.refresh(template)
    assert template.layout["fields"][0]["x"] == 12.5
    assert template.version == 2


def test_the_form_accepts_a_decimal_comma_and_drops_removed_and_blank_rows(organiser, template):
    layout = {"fields": template.layout["fields"][:3]}
    data = layout_form(layout)
    data["fields-0-y"] = "30,5"
    data["fields-1-remove"] = "y"
    data["fields-3-type"] = ""  # the blank row for a new field
    response = organiser.post(f"/certificates/templates/{template.id}/layout", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(template)
    assert [field["y"] for field in template.layout["fields"]] == [30.5, 50.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields-0-x": "290"}, "Field 1: the box is off the page"),
        ({"fields-0-color": "red"}, "Field 1: the colour must look like #1a2b3c."),
        ({"fields-1-text": "Для {nickname}"}, "unknown placeholder {nickname}"),
        ({"fields-0-width": "wide"}, "width must be a number of millimetres"),
        ({"fields-0-type": "photo"}, "Field 1: unknown field type &#39;photo&#39;."),
    ],
)
def test_a_bad_layout_is_a_form_error_and_nothing_is_saved(organiser, template, change, message):
    before = template.layout
    data = {**layout_form(template.layout), **change}
    response = organiser.post(f"/certificates/templates/{template.id}/layout", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(template)
    assert template.layout == before and template.version == 1


def test_an_empty_layout_is_refused(organiser, template):
    response = organiser.post(f"/certificates/templates/{template.id}/layout", data={})
    assert response.status_code == 400
    assert "Place at least one field." in response.get_data(as_text=True)


def test_settings_change_title_and_kind_but_a_default_keeps_its_kind(organiser, template):
    organiser.post(
        f"/certificates/templates/{template.id}/settings",
        data={"title": "Участнику форума", "kind": "event"},
    )
    db.session.refresh(template)
    assert (template.title, template.kind, template.version) == (
        "Участнику форума",
        TemplateKind.EVENT,
        2,
    )
    default = service.default_template(TemplateKind.COURSE)
    db.session.commit()
    response = organiser.post(
        f"/certificates/templates/{default.id}/settings", data={"title": "X", "kind": "event"}
    )
    assert response.status_code == 400
    assert "make another one the default first" in response.get_data(as_text=True)


# --- preview --------------------------------------------------------------------------------------


def test_the_preview_is_a_pdf_with_sample_data(organiser, template):
    response = organiser.get(f"/certificates/templates/{template.id}/preview.pdf")
    assert response.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Иванова Мария Сергеевна" in text


def test_a_preview_of_unsaved_changes_saves_nothing(organiser, template):
    layout = template.layout
    layout["fields"][1]["text"] = "ПРЕДВАРИТЕЛЬНО"
    response = organiser.post(
        f"/certificates/templates/{template.id}/preview.pdf", data=layout_form(layout)
    )
    assert "ПРЕДВАРИТЕЛЬНО" in PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    db.session.expire_all()
    assert db.session.get(CertificateTemplate, template.id).layout["fields"][1]["text"] == (
        "СЕРТИФИКАТ"
    )


def test_an_event_template_is_previewed_with_an_events_sample(organiser):
    organiser.get("/certificates/templates/")  # creates the defaults
    event = service.default_template(TemplateKind.EVENT)
    response = organiser.get(f"/certificates/templates/{event.id}/preview.pdf")
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text().replace("\xa0", " ")
    assert "участника" in text and "2 апреля 2026 г." in text
    assert "программы" not in text and "часов" not in text


def test_a_preview_of_a_bad_layout_shows_the_errors(organiser, template):
    data = {**layout_form(template.layout), "fields-0-y": "-5"}
    response = organiser.post(f"/certificates/templates/{template.id}/preview.pdf", data=data)
    assert response.status_code == 400
    assert "off the page" in response.get_data(as_text=True)


def test_the_editor_shows_the_background_as_an_image(organiser, template):
    response = organiser.get(f"/certificates/templates/{template.id}/background.png")
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.width > image.height  # landscape


# --- backgrounds and signatures ---------------------------------------------------------------


def upload(client, template, what: str, data: bytes, name: str):
    return client.post(
        f"/certificates/templates/{template.id}/{what}",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_portrait_pdf_background_turns_the_page_and_keeps_the_fields_on_it(organiser, template):
    old = template.background_storage_name
    response = upload(organiser, template, "background", pdf_page(595, 842), "фон.pdf")
    assert "Background uploaded." in response.get_data(as_text=True)
    db.session.refresh(template)
    assert template.landscape is False and template.version == 2
    assert template.background_file_name == "фон.pdf"
    assert storage.stored_path(old).exists()  # version 1 still prints with it
    service.save_layout(template, template.layout)  # every field is on the portrait page


def test_an_image_background_is_stored_as_a_pdf(organiser, template):
    upload(organiser, template, "background", png((1754, 1240), "RGB"), "bg.png")
    db.session.refresh(template)
    path = storage.stored_path(template.background_storage_name)
    assert storage.detect_type(path) == storage.PDF


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just some text", "notes.txt", "This type of file is not accepted"),
        (b"%PDF-1.4 broken", "broken.pdf", "damaged"),
        (png((500, 500), "RGB"), "square.png", "proportions of an A4 page"),
    ],
)
def test_a_bad_background_is_refused_and_the_old_one_kept(organiser, template, data, name, message):
    old = template.background_storage_name
    response = upload(organiser, template, "background", data, name)
    assert message in response.get_data(as_text=True)
    db.session.refresh(template)
    assert template.background_storage_name == old and template.version == 1


def test_a_multi_page_pdf_background_says_page_one_was_taken(organiser, template):
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(842, 595))
    for _page in range(2):
        pdf.drawString(100, 100, "page")
        pdf.showPage()
    pdf.save()
    response = upload(organiser, template, "background", buffer.getvalue(), "two.pdf")
    assert "its first page is the background" in response.get_data(as_text=True)


def test_removing_the_background_prints_on_white(organiser, template):
    old = template.background_storage_name
    organiser.post(f"/certificates/templates/{template.id}/background/remove")
    db.session.refresh(template)
    assert template.background_storage_name is None
    assert storage.stored_path(old).exists()  # version 1 still prints with it
    assert organiser.get(f"/certificates/templates/{template.id}/preview.pdf").status_code == 200


def test_a_signature_is_placed_on_the_page_and_printed(organiser, template):
    response = upload(organiser, template, "signature", png(), "подпись.png")
    assert "Signature added" in response.get_data(as_text=True)
    db.session.refresh(template)
    [asset] = template.assets
    field = template.layout["fields"][-1]
    assert field["type"] == "signature" and field["image"] == asset.storage_name
    shown = organiser.get(f"/certificates/templates/{template.id}/assets/{asset.id}")
    assert shown.mimetype == "image/png"
    pdf = organiser.get(f"/certificates/templates/{template.id}/preview.pdf").data
    assert b"/Subtype /Image" in pdf


def test_a_signature_must_be_an_image_and_only_the_templates_own(organiser, template, app_ctx):
    response = upload(organiser, template, "signature", pdf_page(842, 595), "sign.pdf")
    assert "A signature must be a PNG or JPEG image." in response.get_data(as_text=True)
    other = service.shipped_template(TemplateKind.EVENT, "Другой")
    db.session.commit()
    upload(organiser, other, "signature", png(), "чужая.png")
    foreign = other.layout["fields"][-1]
    layout = {"fields": [*template.layout["fields"], foreign]}
    response = organiser.post(
        f"/certificates/templates/{template.id}/layout", data=layout_form(layout)
    )
    assert response.status_code == 400
    assert "upload the signature image again" in response.get_data(as_text=True)
    asset = other.assets[0]
    assert (
        organiser.get(f"/certificates/templates/{template.id}/assets/{asset.id}").status_code == 404
    )


# --- duplicate, delete, default -------------------------------------------------------------------


def test_a_duplicate_has_its_own_files(organiser, template):
    upload(organiser, template, "signature", png(), "подпись.png")
    organiser.post(f"/certificates/templates/{template.id}/duplicate")
    copy = db.session.scalar(
        select(CertificateTemplate).where(CertificateTemplate.title == "Мой шаблон (copy)")
    )
    assert copy.version == 1 and not copy.is_default
    assert copy.background_storage_name != template.background_storage_name
    assert copy.layout["fields"][-1]["image"] == copy.assets[0].storage_name
    assert copy.assets[0].storage_name != template.assets[0].storage_name
    organiser.post(f"/certificates/templates/{template.id}/delete")
    assert storage.stored_path(copy.background_storage_name).exists()
    assert storage.stored_path(copy.assets[0].storage_name).exists()


def test_delete_removes_the_template_its_versions_and_their_files(organiser, template):
    first_background = template.background_storage_name
    upload(organiser, template, "background", pdf_page(842, 595), "фон.pdf")
    upload(organiser, template, "signature", png(), "подпись.png")
    db.session.refresh(template)
    files = [first_background, template.background_storage_name, template.assets[0].storage_name]
    assert all(storage.stored_path(name).exists() for name in files)
    response = organiser.post(f"/certificates/templates/{template.id}/delete")
    assert response.status_code == 302
    assert count(CertificateTemplate) == 0 and count(CertificateAsset) == 0
    assert count(CertificateTemplateVersion) == 0
    assert not any(storage.stored_path(name).exists() for name in files)


def test_a_template_in_use_or_the_default_is_not_deleted(organiser, template, course):
    db.session.add(EventCertificates(event_id=course.id, template_id=template.id))
    db.session.commit()
    response = organiser.post(
        f"/certificates/templates/{template.id}/delete", follow_redirects=True
    )
    assert "cannot be deleted" in response.get_data(as_text=True)
    default = service.default_template(TemplateKind.EVENT)
    db.session.commit()
    response = organiser.post(f"/certificates/templates/{default.id}/delete", follow_redirects=True)
    assert "make another one the default first" in response.get_data(as_text=True)
    remaining = set(db.session.scalars(select(CertificateTemplate.id)))
    assert {template.id, default.id} <= remaining


def test_making_a_template_the_default_unmarks_the_old_one(organiser, template):
    old = service.default_template(TemplateKind.COURSE)
    db.session.commit()
    organiser.post(f"/certificates/templates/{template.id}/default")
    db.session.expire_all()
    assert service.default_template(TemplateKind.COURSE).id == template.id
    assert not db.session.get(CertificateTemplate, old.id).is_default
