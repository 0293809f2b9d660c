"""Template versions: an issued certificate is printed with the design it recorded, however
its template changes later; the files an old version prints with are kept; one default
template per kind, even when two first uses create it at once — on SQLite and PostgreSQL."""

import io
import zipfile
from copy import deepcopy

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from certificates.models import (
    Certificate,
    CertificateTemplate,
    CertificateTemplateVersion,
    TemplateKind,
)
from certificates.services import batches, issuing
from certificates.services import templates as service
from tests.certificates_support import add_people, make_event, pdf_text
from tests.events_support import pdf_page_images
from tests.test_certificates import THREADS, run_together
from webapp import storage
from webapp.extensions import db
from webapp.transactions import unit_of_work

NEW_LEAD_IN = "Настоящим удостоверяется, что"
NAME_MOVED_MM = 30
RED = (200, 30, 30)


def placed_text(pdf: bytes) -> list[tuple[str, float, float]]:
    """Each piece of text on the page with where it is drawn (points from the bottom left)."""
    placed = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            placed.append((text.strip(), round(x, 1), round(y, 1)))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return placed


def y_of(pdf: bytes, start: str) -> float:
    (y,) = {y for text, _x, y in placed_text(pdf) if text.startswith(start)}
    return y


def page_pixels(pdf: bytes) -> bytes:
    [page] = pdf_page_images(pdf, dpi=20)
    return page.convert("RGB").tobytes()


def red_background() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (1123, 794), RED).save(buffer, format="PNG")  # landscape A4 at 96 dpi
    buffer.seek(0)
    return buffer


def redesign(template: CertificateTemplate) -> None:
    """Another lead-in text, the name moved down, a red background: three new versions."""
    layout = deepcopy(template.layout)
    for field in layout["fields"]:
        if field["type"] == "holder_name":
            field["y"] += NAME_MOVED_MM
        if field.get("text") == "Настоящим подтверждается, что":
            field["text"] = NEW_LEAD_IN
    service.save_layout(template, layout)
    service.set_background(template, red_background(), "красный фон.png")


@pytest.fixture
def event(app_ctx):
    return make_event()


def test_an_issued_certificate_keeps_its_design_when_the_template_changes(event):
    first, second = add_people(event, 2, attended=True)
    old = issuing.issue_now(first)
    before = issuing.pdf_of(old)
    template = old.template
    first_background = template.background_storage_name

    redesign(template)

    assert template.version == 3
    db.session.expire_all()
    old = db.session.get(Certificate, old.id)
    again = issuing.pdf_of(old)
    assert placed_text(again) == placed_text(before)
    assert page_pixels(again) == page_pixels(before)
    assert NEW_LEAD_IN not in pdf_text(again)
    assert storage.stored_path(first_background).exists()  # version 1 prints with it

    new = issuing.issue_now(second)
    assert new.snapshot["template_version"] == 3
    redesigned = issuing.pdf_of(new)
    assert NEW_LEAD_IN in pdf_text(redesigned)
    moved = y_of(redesigned, "Участник") - y_of(before, "Участник")
    assert moved == pytest.approx(-NAME_MOVED_MM * 72 / 25.4, abs=3)  # 30 mm lower
    [page] = pdf_page_images(redesigned, dpi=20)
    assert page.convert("RGB").getpixel((3, 3)) == pytest.approx(RED, abs=12)


def test_the_bulk_zip_prints_each_certificate_with_its_own_version(event):
    first, second = add_people(event, 2, attended=True)
    old = issuing.issue_now(first)
    redesign(old.template)
    new = issuing.issue_now(second)

    batch = batches.run_batch(batches.start_batch(event, None).id)

    with zipfile.ZipFile(batches.zip_path(batch)) as archive:
        texts = {name: pdf_text(archive.read(name)) for name in archive.namelist()}
    [old_text] = [text for name, text in texts.items() if name.startswith(old.serial)]
    [new_text] = [text for name, text in texts.items() if name.startswith(new.serial)]
    assert NEW_LEAD_IN not in old_text and "Настоящим подтверждается, что" in old_text
    assert NEW_LEAD_IN in new_text


def test_every_version_is_kept_from_creation_to_duplicate(app_ctx):
    template = service.create_template("Мой шаблон", TemplateKind.COURSE)
    service.save_settings(template, "Мой шаблон 2", TemplateKind.COURSE)
    service.save_layout(template, template.layout)
    service.set_background(template, red_background(), "фон.png")
    service.remove_background(template)
    copy = service.duplicate_template(template)

    db.session.expire_all()
    kept = db.session.get(CertificateTemplate, template.id).versions
    assert [version.version for version in kept] == [1, 2, 3, 4, 5]
    assert kept[-1].background_storage_name is None
    assert kept[3].background_storage_name is not None
    assert kept[3].layout == kept[2].layout
    assert [version.version for version in copy.versions] == [1]
    assert default_versions() == [1, 1]  # the shipped defaults, made on first use


def default_versions() -> list[int]:
    for kind in TemplateKind:
        service.default_template(kind)
    db.session.commit()
    return list(
        db.session.scalars(
            select(CertificateTemplateVersion.version)
            .join(CertificateTemplate)
            .where(CertificateTemplate.is_default.is_(True))
        )
    )


def test_without_its_version_a_certificate_prints_with_the_template_as_it_is(event):
    (registration_id,) = add_people(event, 1, attended=True)
    certificate = issuing.issue_now(registration_id)
    redesign(certificate.template)
    db.session.execute(
        delete(CertificateTemplateVersion).where(CertificateTemplateVersion.version == 1)
    )
    db.session.commit()
    assert NEW_LEAD_IN in pdf_text(issuing.pdf_of(certificate))


# --- one default per kind ---------------------------------------------------------------------


def defaults_of(kind: TemplateKind) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(CertificateTemplate)
        .where(CertificateTemplate.kind == kind, CertificateTemplate.is_default.is_(True))
    )


def test_the_database_refuses_a_second_default_of_a_kind(app_ctx):
    service.default_template(TemplateKind.EVENT)
    db.session.commit()
    second = service.shipped_template(TemplateKind.EVENT, "Второй")
    second.is_default = True
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert defaults_of(TemplateKind.EVENT) == 1


def test_first_uses_at_the_same_moment_make_one_default(app, app_ctx):
    files_before = set(storage.files_dir().iterdir())

    def first_use(_):
        with unit_of_work():
            return service.default_template(TemplateKind.COURSE).id

    results = run_together(app, first_use, [None] * THREADS)

    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert defaults_of(TemplateKind.COURSE) == 1
    assert db.session.scalar(select(func.count()).select_from(CertificateTemplate)) == 1
    # the losers' background files went with their rolled-back templates
    new_files = set(storage.files_dir().iterdir()) - files_before
    assert [path.name for path in new_files] == [
        db.session.get(CertificateTemplate, results[0]).background_storage_name
    ]
