"""People, their roles and organisations."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from webapp.codes import random_secret
from webapp.extensions import db
from webapp.types import EnumText, UTCDateTime, utcnow


def search_key(text: str) -> str:
    """Lower-case and fold ё, for search that behaves the same on every database."""
    return " ".join(text.casefold().replace("ё", "е").split())


class Role(enum.StrEnum):
    PARTICIPANT = "participant"
    TRAINER = "trainer"
    ORGANISER = "organiser"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.PARTICIPANT: _l("Participant"),
    Role.TRAINER: _l("Trainer"),
    Role.ORGANISER: _l("Organiser"),
    Role.ADMIN: _l("Administrator"),
}


class OrganisationType(enum.StrEnum):
    SONKO = "sonko"
    SMSP = "smsp"
    SELF_EMPLOYED = "self_employed"
    INITIATIVE_GROUP = "initiative_group"
    INDIVIDUAL = "individual"

    @property
    def label(self) -> str:
        return str(ORGANISATION_TYPE_LABELS[self])


ORGANISATION_TYPE_LABELS = {
    OrganisationType.SONKO: _l("Socially oriented NGO (SONKO)"),
    OrganisationType.SMSP: _l("Small business / social entrepreneur (SMSP)"),
    OrganisationType.SELF_EMPLOYED: _l("Self-employed"),
    OrganisationType.INITIATIVE_GROUP: _l("Initiative group"),
    OrganisationType.INDIVIDUAL: _l("Individual"),
}

# Municipalities of the Novgorod region, as the centre reports them. Proper names, kept in
# Russian in both languages, the way they appear in the centre's reports.
MUNICIPALITIES = [
    "Великий Новгород",
    "Батецкий район",
    "Боровичский район",
    "Валдайский район",
    "Волотовский округ",
    "Демянский округ",
    "Крестецкий округ",
    "Любытинский район",
    "Маловишерский район",
    "Марёвский округ",
    "Мошенской район",
    "Новгородский район",
    "Окуловский район",
    "Парфинский район",
    "Пестовский округ",
    "Поддорский район",
    "Солецкий округ",
    "Старорусский район",
    "Хвойнинский округ",
    "Холмский район",
    "Чудовский район",
    "Шимский район",
]
OTHER_REGION = "other"


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[OrganisationType] = mapped_column(EnumText(OrganisationType))
    inn: Mapped[str | None] = mapped_column(String(12), unique=True)
    municipality: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_a_person(self) -> bool:
        """An individual or self-employed person, or anyone with a person's 12-digit INN."""
        personal_types = (OrganisationType.INDIVIDUAL, OrganisationType.SELF_EMPLOYED)
        return self.type in personal_types or len(self.inn or "") == 12


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    municipality: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str | None] = mapped_column(String(5))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_policy_version: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # search_key() of the name and e-mail, for the admin's search: SQLite's lower() folds
    # only ASCII, so "анна" would not find "Анна" there. Kept up to date by the model itself.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The secret of the personal calendar feed (/calendar/<token>.ics); a reset revokes it.
    # Made with the account, so showing the profile never writes (older accounts without
    # one ask for it on the profile page).
    calendar_token: Mapped[str | None] = mapped_column(
        String(40), unique=True, index=True, default=random_secret
    )
    # Part of the id kept in session and remember-me cookies (get_id): raising it (password
    # change or reset, signing out, "sign out on other devices") ends every cookie issued
    # before, copies included.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=UserRole.role
    )

    @validates("full_name", "email")
    def _refresh_search_text(self, changed: str, value: str) -> str:
        name_and_email = {"full_name": self.full_name, "email": self.email, changed: value}
        self.search_text = search_key(" ".join(filter(None, name_and_email.values())))
        return value

    @property
    def roles(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        """True when the user holds any of the roles; admin holds them all."""
        mine = self.roles
        return Role.ADMIN in mine or any(role in mine for role in roles)

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember-me cookie."""
        return f"{self.id}:{self.session_version}"

    @property
    def profile_complete(self) -> bool:
        return bool(self.phone and self.municipality and self.organisation_id)


class ApiToken(db.Model):
    """A personal API token of a staff member (check-in apps); only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # given up: refused by the server, or too many tries


class OutboxMessage(db.Model):
    """A message waiting to be sent (webapp.outbox): written in the same transaction as the
    change that caused it, so it is never lost; marked sent by the one worker that claimed it.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[OutboxStatus] = mapped_column(
        EnumText(OutboxStatus), default=OutboxStatus.QUEUED
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    template: Mapped[str] = mapped_column(String(100))
    # The whole RFC 5322 message, rendered in the recipient's language when it was queued.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # What the message is about, so a moved or cancelled session can find its reminders.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # A worker's claim: nobody else takes the row before this time.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class WorkerHeartbeat(db.Model):
    """When a mail worker last finished a round, one row per host (webapp.health): /healthz
    answers 503 when every worker has been silent too long."""

    __tablename__ = "worker_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pid: Mapped[int]


class CacheStamp(db.Model):
    """A version number per cached view of the data ("catalogue", "reports"): every change
    of what the view shows bumps it before its commit, so each process's copy
    (webapp.caching.StampedCache) knows at the next request that it is out of date."""

    __tablename__ = "cache_stamps"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
