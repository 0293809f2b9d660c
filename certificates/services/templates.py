"""Certificate templates: the shipped defaults, creating, editing, duplicating, deleting,
backgrounds and signature images. Rendering is certificates.rendering.

Every saved change bumps the template's version and keeps the design as it now is in a
CertificateTemplateVersion row: an issued certificate records its version and is always
printed with that design, whatever the template looks like later. Files (the background,
signature images) belong to one template: a duplicate gets copies. A file a version names
stays while its template exists (an old version may still print with it), so deleting a
template deletes its versions and then its files, and nothing else's.
"""

import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from certificates import designs
from certificates.errors import CertificatesRefusal
from certificates.layout import LayoutError, page_size_mm, validate_layout
from certificates.models import (
    Certificate,
    CertificateAsset,
    CertificateTemplate,
    CertificateTemplateVersion,
    EventCertificates,
    TemplateKind,
)
from certificates.rendering import BackgroundError, background_from_file
from webapp import storage
from webapp.extensions import db
from webapp.transactions import unit_of_work

PER_PAGE = 20
SHIPPED_TITLES = {
    TemplateKind.COURSE: "Сертификат о прохождении обучения",
    TemplateKind.EVENT: "Сертификат участника",
}
MAX_SIGNATURE_PIXELS = 4_000_000
# the editor's page image: 1286 × 909 px for landscape A4, sharp in a laptop's editor
# column and still light on a weak connection
PREVIEW_DPI = 110


class TemplateRefused(CertificatesRefusal):
    """A change of a template that is not made, with the message for the organiser."""

    MESSAGES = {
        "is_default": _l(
            "This is the default template of its kind: make another one the default first."
        ),
        "in_use": _l("Certificates or events use this template: it cannot be deleted."),
        "signature_type": _l("A signature must be a PNG or JPEG image."),
        "image_too_large": _l("The image is too large: at most %(mp)d megapixels."),
        "image_bomb": _l("The image is too large."),
        "image_damaged": _l("The image file is damaged and cannot be read."),
        # with the upload's or the background's own message
        "upload_refused": None,
        "bad_background": None,
    }


# --- the defaults ----------------------------------------------------------------------------


def default_template(kind: TemplateKind) -> CertificateTemplate:
    """The template marked default for the kind; on first use, the shipped design is
    created and marked. Adds to the caller's transaction (flushes, does not commit), so
    issuing can call it inside its own.

    One default per kind is a unique index on the kind of the templates marked default:
    when two first uses create it at the same moment (on PostgreSQL), the second one's
    insert waits for the first to commit, fails, is rolled back to its savepoint and
    returns the first one's template."""
    template = marked_default(kind)
    if template is not None:
        return template
    try:
        with db.session.begin_nested():
            template = shipped_template(kind)
            template.is_default = True
            db.session.flush()
    except IntegrityError:
        storage.delete_stored(template.background_storage_name)
        template = marked_default(kind)
        if template is None:  # not the race we expect
            raise
    return template


@dataclass(frozen=True)
class ShippedDesign:
    """The shipped layout of a kind, unsaved and without its background (see default_design)."""

    landscape: bool
    layout: dict
    background_storage_name: str | None = None


def default_design(kind: TemplateKind) -> CertificateTemplate | ShippedDesign:
    """What a certificate whose template is gone prints with, reading only: the default
    template, or (before one was ever made: data written by hand) the shipped layout."""
    return marked_default(kind) or ShippedDesign(landscape=True, layout=designs.layout(kind))


def marked_default(kind: TemplateKind) -> CertificateTemplate | None:
    """The default template of the kind, if it was made (reading only)."""
    return db.session.scalar(
        select(CertificateTemplate).where(
            CertificateTemplate.kind == kind, CertificateTemplate.is_default.is_(True)
        )
    )


def shipped_template(kind: TemplateKind, title: str | None = None) -> CertificateTemplate:
    """A new template with the shipped design of the kind (its background stored like an
    upload), added to the session."""
    background = storage.save_upload(io.BytesIO(designs.background_pdf(kind)), "background.pdf")
    template = CertificateTemplate(
        title=title or SHIPPED_TITLES[kind],
        kind=kind,
        landscape=True,
        layout=designs.layout(kind),
        background_storage_name=background.storage_name,
        background_file_name=background.original_name,
        version=1,
        is_default=False,
    )
    db.session.add(template)
    _keep_version(template)
    return template


def ensure_defaults() -> None:
    """Both kinds have a default template: made on first use (a unit only then)."""
    if all(marked_default(kind) is not None for kind in TemplateKind):
        return
    with unit_of_work():
        for kind in TemplateKind:
            default_template(kind)


# --- lists -----------------------------------------------------------------------------------


def templates_page(page: int):
    return db.paginate(
        select(CertificateTemplate).order_by(
            CertificateTemplate.kind,
            CertificateTemplate.is_default.desc(),
            CertificateTemplate.title,
        ),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )


def templates_in_use(template_ids: list[int]) -> set[int]:
    """Which of these templates an issued certificate or an event's settings use."""
    if not template_ids:
        return set()
    used = db.session.scalars(
        select(CertificateTemplate.id).where(
            CertificateTemplate.id.in_(template_ids),
            or_(
                exists().where(Certificate.template_id == CertificateTemplate.id),
                exists().where(EventCertificates.template_id == CertificateTemplate.id),
            ),
        )
    )
    return set(used)


def template_choices(kind: TemplateKind) -> list[CertificateTemplate]:
    """The templates of a kind, the default first: for an event's certificate settings."""
    return list(
        db.session.scalars(
            select(CertificateTemplate)
            .where(CertificateTemplate.kind == kind)
            .order_by(CertificateTemplate.is_default.desc(), CertificateTemplate.title)
        )
    )


# --- changes ---------------------------------------------------------------------------------


def create_template(title: str, kind: TemplateKind) -> CertificateTemplate:
    """A new template starting from the shipped design of its kind, to edit."""
    with unit_of_work():
        template = shipped_template(kind, title)
    return template


def save_settings(template: CertificateTemplate, title: str, kind: TemplateKind) -> None:
    with unit_of_work():
        if kind != template.kind and template.is_default:
            raise TemplateRefused("is_default")
        template.title = title
        template.kind = kind
        _next_version(template)


def save_layout(template: CertificateTemplate, layout) -> None:
    """Validate and store the layout (LayoutError lists what is wrong)."""
    checked = checked_layout(template, layout)
    with unit_of_work():
        template.layout = checked
        _next_version(template)


def _next_version(template: CertificateTemplate) -> None:
    """A saved change: the template's next version, kept (see _keep_version)."""
    template.version += 1
    _keep_version(template)


def _keep_version(template: CertificateTemplate) -> None:
    """The template's design at its current version, kept for the certificates issued with
    it (added to the session; committed with the change that made the version current)."""
    db.session.add(
        CertificateTemplateVersion(
            template=template,
            version=template.version,
            landscape=template.landscape,
            layout=deepcopy(template.layout),
            background_storage_name=template.background_storage_name,
        )
    )


def checked_layout(template: CertificateTemplate, layout) -> dict:
    """The layout validated for this template: on its page, with at least one field, its
    signatures among the template's own images; or LayoutError."""
    layout = validate_layout(layout, template.landscape)
    if not layout["fields"]:
        raise LayoutError([_("Place at least one field.")])
    own_images = {asset.storage_name for asset in template.assets}
    foreign = [
        number
        for number, field in enumerate(layout["fields"], start=1)
        if field["type"] == "signature" and field["image"] not in own_images
    ]
    if foreign:
        raise LayoutError(
            [_("Field %(n)d: upload the signature image again.", n=number) for number in foreign]
        )
    return layout


def make_default(template: CertificateTemplate) -> None:
    with unit_of_work():
        db.session.execute(
            update(CertificateTemplate)
            .where(CertificateTemplate.kind == template.kind, CertificateTemplate.id != template.id)
            .values(is_default=False)
        )
        template.is_default = True


def duplicate_template(template: CertificateTemplate) -> CertificateTemplate:
    """A copy (not the default, version 1) with copies of the files, the layout pointing at
    the copied signature images."""
    with unit_of_work():
        return _duplicate(template)


def _duplicate(template: CertificateTemplate) -> CertificateTemplate:
    copy = CertificateTemplate(
        title=_("%(title)s (copy)", title=template.title)[:200],
        kind=template.kind,
        landscape=template.landscape,
        version=1,
        is_default=False,
        background_file_name=template.background_file_name,
    )
    copy.background_storage_name = _copy_file(template.background_storage_name)
    renamed = {}
    for asset in template.assets:
        renamed[asset.storage_name] = _copy_file(asset.storage_name)
        copy.assets.append(
            CertificateAsset(storage_name=renamed[asset.storage_name], file_name=asset.file_name)
        )
    fields = []
    for field in template.layout.get("fields", []):
        field = dict(field)
        if field.get("type") == "signature":
            field["image"] = renamed.get(field.get("image"), field.get("image"))
        fields.append(field)
    copy.layout = {"fields": fields}
    db.session.add(copy)
    _keep_version(copy)
    return copy


def delete_template(template: CertificateTemplate) -> None:
    with unit_of_work():
        if template.is_default:
            raise TemplateRefused("is_default")
        if templates_in_use([template.id]):
            raise TemplateRefused("in_use")
        # the versions name the backgrounds the template ever had; its signature images are
        # its assets (a layout may name only the template's own)
        files = {
            template.background_storage_name,
            *(version.background_storage_name for version in template.versions),
            *(asset.storage_name for asset in template.assets),
        }
        db.session.delete(template)  # and its versions and assets with it
    for name in files:
        storage.delete_stored(name)


def _copy_file(storage_name: str | None) -> str | None:
    if not storage_name:
        return None
    with open(storage.stored_path(storage_name), "rb") as source:
        return storage.save_upload(source, "copy").storage_name


# --- files -----------------------------------------------------------------------------------


def set_background(template: CertificateTemplate, stream: BinaryIO, file_name: str) -> str:
    """Store an uploaded PDF page or image as the template's one-page PDF background; the
    page's orientation becomes the template's, fields moved inside the page if it turned.
    Returns a note for the organiser ('' or e.g. that page 1 of several was taken)."""
    upload = _save(stream, file_name)
    try:
        background = background_from_file(
            storage.stored_path(upload.storage_name), upload.content_type
        )
    except BackgroundError as error:
        raise TemplateRefused("bad_background", error.message) from error
    finally:
        storage.delete_stored(upload.storage_name)
    stored = storage.save_upload(io.BytesIO(background.pdf), upload.original_name)
    with _forgotten_on_failure(stored.storage_name), unit_of_work():
        # the old background stays: the previous version prints with it
        template.background_storage_name = stored.storage_name
        template.background_file_name = upload.original_name
        if background.landscape != template.landscape:
            template.landscape = background.landscape
            template.layout = _moved_onto_page(template.layout, background.landscape)
        _next_version(template)
    return background.note


@contextmanager
def _forgotten_on_failure(storage_name: str) -> Iterator[None]:
    """If the unit fails, delete the file just stored, so no orphan stays on disk."""
    try:
        yield
    except BaseException:
        storage.delete_stored(storage_name)
        raise


def remove_background(template: CertificateTemplate) -> None:
    """The template without a background from its next version on (the file stays: the
    previous version prints with it)."""
    with unit_of_work():
        template.background_storage_name = None
        template.background_file_name = None
        _next_version(template)


def add_signature(template: CertificateTemplate, stream: BinaryIO, file_name: str) -> None:
    """Store a PNG or JPEG as a signature and place it near the bottom of the page, to be
    dragged where it belongs."""
    upload = _signature_upload(stream, file_name)
    with _forgotten_on_failure(upload.storage_name), unit_of_work():
        asset = CertificateAsset(storage_name=upload.storage_name, file_name=upload.original_name)
        template.assets.append(asset)
        _place_signature(template, asset)


def _place_signature(template: CertificateTemplate, asset: CertificateAsset) -> None:
    page_width, page_height = page_size_mm(template.landscape)
    width, height = 50.0, 20.0
    field = {
        "type": "signature",
        "image": asset.storage_name,
        "x": round((page_width - width) / 2, 1),
        "y": round(page_height - height - 30, 1),
        "width": width,
        "height": height,
    }
    template.layout = {"fields": [*template.layout.get("fields", []), field]}
    _next_version(template)


def _signature_upload(stream: BinaryIO, file_name: str) -> storage.StoredFile:
    """The uploaded signature image, stored once it is checked."""
    upload = _save(stream, file_name)
    try:
        if upload.content_type not in (storage.PNG, storage.JPEG):
            raise TemplateRefused("signature_type")
        _check_image(storage.stored_path(upload.storage_name), MAX_SIGNATURE_PIXELS)
    except TemplateRefused:
        storage.delete_stored(upload.storage_name)
        raise
    return upload


def _save(stream: BinaryIO, file_name: str) -> storage.StoredFile:
    try:
        return storage.save_upload(stream, file_name)
    except storage.UploadRefused as error:
        raise TemplateRefused("upload_refused", error.message) from error


def _check_image(path: Path, max_pixels: int) -> None:
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise TemplateRefused("image_too_large", mp=max_pixels // 10**6)
            image.verify()
    except Image.DecompressionBombError as error:  # Pillow's own, far larger limit
        raise TemplateRefused("image_bomb") from error
    except (UnidentifiedImageError, OSError) as error:
        raise TemplateRefused("image_damaged") from error


def _moved_onto_page(layout: dict, is_landscape: bool) -> dict:
    """The fields moved (and shrunk if they must) to lie on a page of the new orientation."""
    page_width, page_height = page_size_mm(is_landscape)
    fields = []
    for field in layout.get("fields", []):
        field = dict(field)
        field["width"] = min(field.get("width", 10), page_width)
        field["height"] = min(field.get("height", 10), page_height)
        field["x"] = max(0, min(field.get("x", 0), page_width - field["width"]))
        field["y"] = max(0, min(field.get("y", 0), page_height - field["height"]))
        fields.append(field)
    return {"fields": fields}


# --- the editor's page image ---------------------------------------------------------------


def preview_available() -> bool:
    """Whether poppler's pdftoppm is here to draw the background for the editor."""
    return shutil.which("pdftoppm") is not None


def background_png(template: CertificateTemplate) -> bytes | None:
    """The background page as a PNG for the editor (None without a background or
    pdftoppm). A picture, not the PDF: the editor drags fields over it with pointer events,
    which a browser's PDF viewer would swallow, and phones show no PDF inline."""
    if not template.background_storage_name or not preview_available():
        return None
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "page"
        try:
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-singlefile",
                    "-r",
                    str(PREVIEW_DPI),
                    str(storage.stored_path(template.background_storage_name)),
                    str(target),
                ],
                check=True,
                timeout=30,
                capture_output=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return None  # the editor shows a white page; the PDF preview still works
        return target.with_suffix(".png").read_bytes()
