"""Certificate templates, the certificates issued from them, and bulk-issue batches.

A certificate belongs to one registration (a course enrolment or an event registration) and
is issued at most once for it (unique registration_id): re-issuing bumps its version and
refreshes the snapshot, it never makes a second certificate. The snapshot is what the
certificate certifies, frozen at issue, so later edits to the course or the person do not
change a certificate already printed.
"""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models import Event, Registration
from webapp.extensions import db
from webapp.models import User
from webapp.types import EnumText, UTCDateTime, utcnow


class TemplateKind(enum.StrEnum):
    COURSE = "course"  # a certificate of completion
    EVENT = "event"  # a certificate of participation

    @property
    def label(self) -> str:
        return str(TEMPLATE_KIND_LABELS[self])


TEMPLATE_KIND_LABELS = {
    TemplateKind.COURSE: _l("Certificate of completion"),
    TemplateKind.EVENT: _l("Certificate of participation"),
}


class CertificateTemplate(db.Model):
    """A design: a background page (stored as a one-page PDF, images are converted on
    upload) and a JSON layout of fields placed on it (see certificates.rendering)."""

    __tablename__ = "certificate_templates"
    # one default per kind, even when two first uses create it at the same moment
    __table_args__ = (
        Index(
            "uq_certificate_templates_default_kind",
            "kind",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TemplateKind] = mapped_column(EnumText(TemplateKind))
    landscape: Mapped[bool] = mapped_column(Boolean, default=True)
    layout: Mapped[dict] = mapped_column(JSON)
    background_storage_name: Mapped[str | None] = mapped_column(String(64))
    background_file_name: Mapped[str | None] = mapped_column(String(255))
    # bumped on every saved change; an issued certificate records the version it used
    version: Mapped[int] = mapped_column(default=1)
    # the template a new course/event of this kind uses unless it chooses another
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    assets: Mapped[list["CertificateAsset"]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="CertificateAsset.id"
    )
    versions: Mapped[list["CertificateTemplateVersion"]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="CertificateTemplateVersion.version",
    )


class CertificateTemplateVersion(db.Model):
    """A template's design as it was at one version, written when that version became
    current: an issued certificate is printed with the version it recorded, so editing the
    template never changes a certificate already issued. Its files (the background, the
    signature images its layout names) are kept while a version names them."""

    __tablename__ = "certificate_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("certificate_templates.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    landscape: Mapped[bool] = mapped_column(Boolean)
    layout: Mapped[dict] = mapped_column(JSON)
    background_storage_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[CertificateTemplate] = relationship(back_populates="versions")


class CertificateAsset(db.Model):
    """An image uploaded for a template (a signature); a layout field names it by its
    storage name, and only the template's own assets may be named."""

    __tablename__ = "certificate_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("certificate_templates.id", ondelete="CASCADE"), index=True
    )
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[CertificateTemplate] = relationship(back_populates="assets")


class EventCertificates(db.Model):
    """An event's or course's certificate settings. No row means: courses issue on
    completion with the default course template; events issue nothing."""

    __tablename__ = "event_certificates"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificate_templates.id", ondelete="SET NULL")
    )

    event: Mapped[Event] = relationship()
    template: Mapped[CertificateTemplate | None] = relationship()


class CertificateDue(db.Model):
    """A certificate earned and not issued yet: recorded in the unit that earned it (a
    recorded completion, a check-in at an event with participation certificates, one
    statement), issued after that unit commits or by the worker, and deleted by the issue.
    So the render and the mail never run inside the door's lock, and none is lost."""

    __tablename__ = "certificates_due"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CertificateSerial(db.Model):
    """The per-year serial counter: 2026-000123 is the 123rd certificate of 2026. Taken
    with an atomic UPDATE … RETURNING, so concurrent issues never share a number."""

    __tablename__ = "certificate_serials"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[TemplateKind] = mapped_column(EnumText(TemplateKind))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificate_templates.id", ondelete="SET NULL")
    )
    year: Mapped[int]
    number: Mapped[int]
    # the public verification code in /verify/<code>: random_secret(), ≥128 bits
    code: Mapped[str] = mapped_column(String(40), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    # holder_name, title, kind, programme, hours, starts_on, ends_on, issuer,
    # trainers, template_version — what the certificate certifies, frozen at issue
    snapshot: Mapped[dict] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    template: Mapped[CertificateTemplate | None] = relationship()

    @property
    def serial(self) -> str:
        return f"{self.year}-{self.number:06d}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class BatchState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CertificateBatch(db.Model):
    """A bulk issue and its ZIP, built in steps (each step issues and renders a chunk and
    appends it to the ZIP), so a progress bar can follow it and any worker can continue it:
    nothing lives in process memory."""

    __tablename__ = "certificate_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[BatchState] = mapped_column(EnumText(BatchState), default=BatchState.RUNNING)
    registration_ids: Mapped[list] = mapped_column(JSON)  # the eligible, fixed at the start
    done: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)  # of those, newly issued by this batch
    zip_storage_name: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when a step last advanced it: a batch quiet for a while is finished by the mail worker
    stepped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def total(self) -> int:
        return len(self.registration_ids)
