"""Portable credentials: a certificate as an Open Badges 3.0 `OpenBadgeCredential`, signed
as a VC-JWT with the centre's current Ed25519 key (certificates.services.signing_keys), the
public keys as a JWKS, and the revocation status list.

Anyone can verify a credential offline with the JWKS at /.well-known/jwks.json (the JWT's
`kid` is `<base>/.well-known/jwks.json#<thumbprint>`). Its `credentialStatus` points to a
W3C Bitstring Status List (`/credentials/status/revocation`, itself a signed VC-JWT): bit
`statusListIndex` (the certificate's id, which a re-issue keeps) is 1 once the certificate
is revoked, so a verifier that caches the list learns of revocations without asking about
each credential.
"""

import gzip
import hashlib
import uuid
from datetime import UTC, datetime

import jwt
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from certificates.models import Certificate, TemplateKind
from certificates.services import signing_keys
from webapp.extensions import db
from webapp.urls import absolute_url, base_url

ALGORITHM = signing_keys.ALGORITHM
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
JWKS_PATH = "/.well-known/jwks.json"
STATUS_LIST_PATH = "/credentials/status/revocation"
# The spec's minimum, so that one list hides which of its entries a verifier asks about
STATUS_LIST_MIN_BITS = 131_072
# The status list's validFrom while nothing has been revoked (a fixed date keeps the
# signed list, hence its ETag, the same on every host)
_NOTHING_REVOKED_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
# urn:uuid subject ids are derived from the verification code in this namespace
_SUBJECT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tropa/certificates")


CODE_MAX_LENGTH = 40
# What a person may mistype when copying a code by hand (Crockford's base32 reading rules).
_LOOK_ALIKES = str.maketrans({"i": "1", "l": "1", "o": "0"})


def find_certificate(code: str) -> Certificate | None:
    """The certificate of a verification code as printed, typed or read aloud, or None."""
    code = code.strip().lower().translate(_LOOK_ALIKES)
    if not (code.isascii() and code.isalnum()) or len(code) > CODE_MAX_LENGTH:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def verify_url(code: str) -> str:
    """The public page a certificate's QR code and credential point to."""
    return absolute_url(f"/verify/{code}")


def _base() -> str:
    return base_url()


def subject_id(certificate: Certificate) -> str:
    """A stable `urn:uuid:` for the holder of this certificate (OB 3.0 asks for `sub` ==
    credentialSubject.id); derived one-way from the code, so it never changes."""
    return f"urn:uuid:{uuid.uuid5(_SUBJECT_NAMESPACE, certificate.code)}"


def jwks() -> dict:
    return {"keys": [key.public_jwk() for key in signing_keys.published_keys()]}


def _sign(claims: dict) -> str:
    key = signing_keys.current_key()
    headers = {"kid": f"{_base()}{JWKS_PATH}#{key.kid}", "typ": "vc+jwt"}
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers=headers)


def open_badge(certificate: Certificate) -> dict:
    """The certificate as an OpenBadgeCredential (Open Badges 3.0), from its snapshot."""
    base = base_url()
    snapshot = certificate.snapshot
    issuer = snapshot.get("issuer") or current_app.config["TROPA_CENTRE_NAME"]
    is_course = certificate.kind == TemplateKind.COURSE
    hours = snapshot.get("hours")
    with force_locale("ru"):  # the credential, like the printed certificate, is Russian
        if is_course:
            criteria = _(
                "Completed the course «%(title)s» by its completion rules.", title=snapshot["title"]
            )
            if hours:
                criteria += " " + _("Academic hours: %(hours)s.", hours=hours)
        else:
            criteria = _("Took part in the event «%(title)s».", title=snapshot["title"])
        evidence_name = _("Certificate No. %(serial)s", serial=certificate.serial)
    achievement = {
        "id": f"{base}/{'courses' if is_course else 'events'}/{certificate.event_id}",
        "type": ["Achievement"],
        "achievementType": "Certificate" if is_course else "Participation",
        "name": snapshot["title"],
        "description": snapshot.get("programme") or snapshot["title"],
        "criteria": {"narrative": criteria},
        "creator": {"id": base, "type": ["Profile"], "name": issuer},
    }
    if hours:
        achievement["creditsAvailable"] = hours
    issued = certificate.reissued_at or certificate.issued_at
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": base, "type": ["Profile"], "name": issuer},
        "validFrom": _iso(issued),
        "name": snapshot["title"],
        "credentialSubject": {
            "id": subject_id(certificate),
            "type": ["AchievementSubject"],
            "name": snapshot["holder_name"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": snapshot["holder_name"],
                }
            ],
            "achievement": achievement,
            **({"creditsEarned": hours} if hours else {}),
        },
        "credentialStatus": {
            "id": f"{base}{STATUS_LIST_PATH}#{certificate.id}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(certificate.id),
            "statusListCredential": f"{base}{STATUS_LIST_PATH}",
        },
        "evidence": [
            {
                "id": verify_url(certificate.code),
                "type": ["Evidence"],
                "name": evidence_name,
            }
        ],
    }


def credential_jwt(certificate: Certificate) -> str:
    """The OpenBadgeCredential signed as a VC-JWT (the claims of OB 3.0 § VC-JWT)."""
    credential = open_badge(certificate)
    issued = certificate.reissued_at or certificate.issued_at
    claims = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": int(issued.timestamp()),
        "iat": int(issued.timestamp()),
        "vc": credential,
    }
    return _sign(claims)


def status_list_jwt() -> tuple[str, str]:
    """The revocation list as a signed BitstringStatusListCredential, and its ETag.

    Rendered from the certificates table (one indexed query); the last rendering is kept
    per process and reused while the revoked set, the size and the signing key are the
    same — which the ETag names, so a verifier's cached copy gets a 304."""
    revoked = list(
        db.session.execute(
            select(Certificate.id, Certificate.revoked_at)
            .where(Certificate.revoked_at.is_not(None))
            .order_by(Certificate.id)
        )
    )
    highest = db.session.scalar(select(func.max(Certificate.id))) or 0
    bits = -(-(highest + 1) // STATUS_LIST_MIN_BITS) * STATUS_LIST_MIN_BITS
    kid = signing_keys.current_key().kid
    fingerprint = f"{_base()}|{kid}|{bits}|" + ",".join(str(row.id) for row in revoked)
    etag = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    cached_etag, token = _last_status_list.get("signed", ("", ""))
    if cached_etag != etag:
        since = max((row.revoked_at for row in revoked), default=_NOTHING_REVOKED_SINCE)
        token = _sign(_status_list_claims([row.id for row in revoked], bits, since))
        _last_status_list["signed"] = (etag, token)  # one assignment: threads see a pair
    return token, etag


_last_status_list: dict[str, tuple[str, str]] = {}


def _status_list_claims(revoked_ids: list[int], bits: int, since: datetime) -> dict:
    url = f"{_base()}{STATUS_LIST_PATH}"
    credential = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _base(),
        "validFrom": _iso(since),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(revoked_ids, bits),
        },
    }
    return {
        "iss": _base(),
        "jti": url,
        "sub": credential["credentialSubject"]["id"],
        "nbf": int(since.timestamp()),
        "iat": int(since.timestamp()),
        "vc": credential,
    }


def encode_bitstring(set_indexes: list[int], bits: int) -> str:
    """The spec's encodedList: index 0 is the left-most bit, GZIP-compressed, multibase
    base64url without padding ('u' prefix)."""
    bitstring = bytearray(bits // 8)
    for index in set_indexes:
        bitstring[index // 8] |= 0x80 >> (index % 8)
    return "u" + signing_keys.b64url(gzip.compress(bytes(bitstring), mtime=0))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
