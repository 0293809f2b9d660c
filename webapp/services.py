"""Accounts, roles, profiles and organisations: the rules, free of request objects.

Each change is one unit of work (webapp.transactions); a refused one raises AccountError
with a stable reason code.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import signals
from webapp.caching import ShortCache
from webapp.codes import SECRET_ALPHABET, random_secret  # noqa: F401  imported from here too
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import (
    ApiToken,
    Organisation,
    OrganisationType,
    Role,
    User,
    UserRole,
    search_key,
)
from webapp.transactions import unit_of_work
from webapp.types import utcnow

_LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
})  # fmt: skip


def latin(text: str) -> str:
    """Russian transliterated letter by letter, capitals kept ("Щукин" → "Shchukin"); the
    hard and soft signs are dropped. For file names and made-up e-mail addresses."""
    letters = []
    for char in text:
        plain = char.lower().translate(_LATIN)
        letters.append(plain.capitalize() if char.isupper() else plain)
    return "".join(letters)


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- INN ---------------------------------------------------------------------------------

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_error(inn: str) -> str | None:
    """Why an INN is invalid, or None: 10 digits for organisations, 12 for people."""
    # isdigit() alone also passes full-width and superscript digits, which int() may refuse.
    if not (inn.isascii() and inn.isdigit()):
        return str(_l("An INN consists of digits only."))
    digits = [int(c) for c in inn]
    if len(digits) == 10:
        if _check_digit(digits, _INN10_WEIGHTS) != digits[9]:
            return str(_l("The check digit does not match: please check the INN."))
        return None
    if len(digits) == 12:
        if (
            _check_digit(digits, _INN12_WEIGHTS_11) != digits[10]
            or _check_digit(digits, _INN12_WEIGHTS_12) != digits[11]
        ):
            return str(_l("The check digits do not match: please check the INN."))
        return None
    return str(_l("An INN has 10 digits (organisation) or 12 digits (person)."))


def with_check_digits(prefix: str) -> str:
    """Complete 9 or 10 leading digits into a valid INN (demo data and tests)."""
    digits = [int(c) for c in prefix]
    if len(digits) == 9:
        digits.append(_check_digit(digits, _INN10_WEIGHTS))
    elif len(digits) == 10:
        digits.append(_check_digit(digits, _INN12_WEIGHTS_11))
        digits.append(_check_digit(digits, _INN12_WEIGHTS_12))
    else:
        raise ValueError("give 9 or 10 digits")
    return "".join(map(str, digits))


# --- accounts ----------------------------------------------------------------------------


class AccountError(ServiceError):
    MESSAGES = {
        "email_taken": _l("An account with this e-mail already exists."),
        "own_admin_role": _l("You cannot take the admin role from yourself."),
    }


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def sign_up(*, email: str, password: str, full_name: str, locale: str | None = None) -> User:
    """A new participant who consented to personal-data processing under 152-FZ."""
    password_hash = hash_password(password)  # slow: before the unit takes the writer's turn
    with unit_of_work():
        if find_user(email):
            raise AccountError("email_taken", field="email")
        user = User(
            email=normalise_email(email),
            password_hash=password_hash,
            full_name=full_name.strip(),
            locale=locale,
            consent_at=utcnow(),
            consent_policy_version=current_app.config["TROPA_POLICY_VERSION"],
        )
        user.role_rows.append(UserRole(role=Role.PARTICIPANT))
        db.session.add(user)
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None or not user.is_active:
        # Hash anyway so the answer takes as long for an unknown address.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


def change_password(user: User, new_password: str) -> None:
    """The new password ends every session and remember-me cookie opened with the old one."""
    password_hash = hash_password(new_password)  # slow: before the unit, not inside its lock
    with unit_of_work():
        user.password_hash = password_hash
        user.session_version += 1


def end_sessions(user: User) -> None:
    """Sign the account out everywhere: every session and remember-me cookie issued so far
    (copies included) stops working; the caller signs the current browser in again if it
    should stay."""
    with unit_of_work():
        user.session_version += 1


def user_for_session(session_id: str) -> User | None:
    """The active user a session or remember-me cookie names (User.get_id: "id:version"),
    while that version is the account's current one."""
    user_key, _, version = session_id.partition(":")
    if not (user_key.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_key))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def create_or_update_user(email: str, *, name: str, password: str, roles: Iterable[str]) -> User:
    """For set-up scripts and support (`tropa create-user`): roles are replaced."""
    wanted = {Role(role) for role in roles} or {Role.PARTICIPANT}
    password_hash = hash_password(password)
    with unit_of_work():
        user = find_user(email)
        if user is None:
            user = User(email=normalise_email(email), full_name=name, password_hash="")
            user.consent_at = utcnow()
            user.consent_policy_version = current_app.config["TROPA_POLICY_VERSION"]
            db.session.add(user)
        user.full_name = name
        user.password_hash = password_hash
        user.deleted_at = None
        _set_roles(user, wanted)
    return user


def _set_roles(user: User, roles: set[Role]) -> None:
    current = {Role(row.role): row for row in user.role_rows}
    for role, row in current.items():
        if role not in roles:
            user.role_rows.remove(row)
    for role in roles - current.keys():
        user.role_rows.append(UserRole(role=role))
    _api_token_users.clear()  # the API sees the new roles at once in this process


def grant_role(user: User, role: Role) -> None:
    with unit_of_work():
        _set_roles(user, user.roles | {role})


def revoke_role(user: User, role: Role, *, by: User) -> None:
    """An admin cannot take the admin role from themselves (someone must keep it)."""
    if user.id == by.id and role == Role.ADMIN:
        raise AccountError("own_admin_role")
    with unit_of_work():
        _set_roles(user, user.roles - {role})


def search_users(text: str = "", role: str = ""):
    """A select of users for the admin list: by name or e-mail, and by role."""
    query = select(User).where(User.deleted_at.is_(None)).order_by(User.full_name)
    for word in search_key(text).split():
        query = query.where(User.search_text.contains(word, autoescape=True))
    if role:
        query = query.where(User.role_rows.any(UserRole.role == role))
    return query


# --- password reset ------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def password_reset_token(user: User) -> str:
    # The hash's tail is part of the token, so a token stops working once it was used.
    return _reset_serializer().dumps({"id": user.id, "h": user.password_hash[-12:]})


def mail_password_reset(user: User, link: str) -> None:
    """Queue the reset link; the outbox sends it once this unit committed."""
    with unit_of_work():
        send_mail(
            user.email,
            _l("Password reset"),
            "mail/password_reset",
            locale=user.locale,
            user=user,
            link=link,
        )


def user_from_reset_token(token: str) -> User | None:
    max_age = current_app.config["TROPA_PASSWORD_RESET_MAX_AGE"]
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or not user.is_active or user.password_hash[-12:] != data.get("h"):
        return None
    return user


# --- profile and organisations -----------------------------------------------------------


@dataclass
class ProfileData:
    full_name: str
    phone: str | None
    municipality: str | None
    organisation_type: str | None
    organisation_name: str | None
    inn: str | None
    locale: str | None = None


def update_profile(user: User, data: ProfileData) -> None:
    """Save the profile; the organisation is found by INN or created, never duplicated.
    Packages that keep something in the person's language hear of a new one
    (signals.profile_changed)."""
    with unit_of_work():
        before = {"locale": user.locale}
        user.full_name = data.full_name.strip()
        user.phone = (data.phone or "").strip() or None
        user.municipality = data.municipality or None
        if data.locale:
            user.locale = data.locale
        user.organisation = organisation_for(
            data.organisation_type,
            data.organisation_name,
            data.inn,
            person_name=data.full_name,
            municipality=user.municipality,
        )
        changed = {name for name, value in before.items() if getattr(user, name) != value}
        if changed:
            signals.profile_changed.send(user, changed=frozenset(changed))


def reset_calendar_token(user: User) -> str:
    """A new secret for the personal calendar feed: the old feed address stops working."""
    with unit_of_work():
        user.calendar_token = random_secret()
    return user.calendar_token


def organisation_for(
    organisation_type: str | None,
    organisation_name: str | None,
    inn: str | None,
    *,
    person_name: str,
    municipality: str | None = None,
) -> Organisation | None:
    """The organisation a person names (profile, event registration): found by INN or
    created, never duplicated; an individual's organisation takes the person's name."""
    if not organisation_type:
        return None
    kind = OrganisationType(organisation_type)
    inn = (inn or "").strip() or None
    name = (organisation_name or "").strip()
    if kind == OrganisationType.INDIVIDUAL and not name:
        name = person_name.strip()
    organisation = None
    if inn:
        organisation = db.session.scalar(select(Organisation).where(Organisation.inn == inn))
    if organisation is None:
        organisation = Organisation(inn=inn, type=kind, name=name, municipality=municipality)
        db.session.add(organisation)
    else:
        organisation.type = kind
        organisation.name = name or organisation.name
        organisation.municipality = organisation.municipality or municipality
    return organisation


# --- personal data: export and deletion --------------------------------------------------


def export_personal_data(user: User) -> dict:
    organisation = user.organisation
    data = {
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "municipality": user.municipality,
            "roles": sorted(user.roles),
            "created_at": user.created_at.isoformat(),
            "consent_at": user.consent_at.isoformat() if user.consent_at else None,
            "consent_policy_version": user.consent_policy_version,
        },
        "organisation": organisation
        and {
            "name": organisation.name,
            "type": organisation.type,
            "inn": organisation.inn,
            "municipality": organisation.municipality,
        },
    }
    # Feature packages add what they keep about the person (the core imports none of them).
    for part in signals.collect(signals.personal_data_requested, user):
        data.update(part)
    return data


def delete_account(user: User) -> None:
    """Anonymise the person: records kept for reports stay, nothing names them any more.
    One unit: the packages forget what they keep (signals.person_anonymised) in it too."""
    with unit_of_work():
        signals.person_anonymised.send(user)
        _anonymise_personal_organisation(user)
        user.full_name = str(_l("Deleted user"))
        user.email = f"deleted-{user.id}-{secrets.token_hex(4)}@deleted.invalid"
        user.phone = None
        user.password_hash = "!"  # noqa: S105  matches no password
        user.deleted_at = utcnow()
        user.calendar_token = None
        user.role_rows.clear()
    _api_token_users.clear()  # their tokens stop at once in this process


def _anonymise_personal_organisation(user: User) -> None:
    """An individual's or self-employed person's "organisation" is the person: its name and
    12-digit INN identify them. Its type and municipality stay for the reports."""
    organisation = user.organisation
    if organisation is None or not organisation.is_a_person:
        return
    others = select(User.id).where(
        User.organisation_id == organisation.id, User.id != user.id, User.deleted_at.is_(None)
    )
    if db.session.scalar(others.limit(1)) is None:
        organisation.name = str(_l("Deleted user"))
        organisation.inn = None


# --- personal API tokens (check-in apps) ---------------------------------------------------

# last_used_at is written at most this often: a scanner sends a request a second, and a
# write each time would queue every scan behind another lock.
API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)
API_TOKEN_CACHE_SECONDS = 5
_api_token_users: ShortCache[User] = ShortCache(API_TOKEN_CACHE_SECONDS)


def may_hold_api_tokens(user: User) -> bool:
    """Who checks people in: organisers, trainers and the staff of an event."""
    if user.has_role(Role.ORGANISER, Role.TRAINER):
        return True
    # Feature packages say who else checks people in (the staff of an event).
    return any(signals.collect(signals.api_token_rules, user))


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its text, which is shown once: only its hash is kept."""
    token = random_secret()
    with unit_of_work():
        row = ApiToken(user_id=user.id, name=name.strip(), token_hash=api_token_hash(token))
        db.session.add(row)
    return row, token


def api_tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
    )


def revoke_api_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when there is no such active token."""
    with unit_of_work():
        revoked = db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    _api_token_users.clear()  # this process at once; the others within seconds
    return revoked.rowcount == 1


def user_for_api_token(token: str) -> User | None:
    """The active user holding this unrevoked token, or None; notes when it was used.

    A scanner sends a request a second: who holds the token (with the roles) is kept in
    this process for API_TOKEN_CACHE_SECONDS (webapp.caching), so a revoked token or a
    removed role may still work here for those seconds in another worker process; the
    process that revokes a token forgets it at once. Unknown tokens are never cached."""
    # The cached user stays detached, shared read-only by the process's threads: its roles
    # are loaded and nothing reads more of it (merging a copy into each request's session
    # was a tenth of a scan's time).
    return _api_token_users.get_or_load(api_token_hash(token), lambda: _api_token_user(token))


def _api_token_user(token: str) -> User | None:
    """The token's user read from the database (its roles and organisation loaded, so
    nothing is read later), detached from the session to be kept in the cache."""
    query = (
        select(ApiToken)
        .options(joinedload(ApiToken.user).joinedload(User.role_rows))  # one query
        .where(ApiToken.token_hash == api_token_hash(token), ApiToken.revoked_at.is_(None))
    )
    row = db.session.scalar(query)
    if row is None or not row.user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= API_TOKEN_USE_RESOLUTION:
        # A unit of its own, before the caller's (the check-in's) work.
        with unit_of_work():
            db.session.execute(
                update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
            )
        row = db.session.scalar(query)  # the commit expired what was loaded
        if row is None or not row.user.is_active:
            return None
    user = row.user
    db.session.expunge(user)
    return user
