"""Portable credentials: a certificate as an Open Badges 3.0 `OpenBadgeCredential`, signed
as a VC-JWT with the centre's Ed25519 key, and the public key as a JWKS.

The key is generated into the instance folder on first use. Several gunicorn workers may
ask for it at once: the file is created with O_EXCL, so exactly one key is written and the
others read it. Anyone can verify a credential offline with the JWKS at
/.well-known/jwks.json; whether it was revoked since is on its /verify page (the
credential's id).
"""

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from certificates.models import Certificate, TemplateKind
from webapp.extensions import db
from webapp.urls import absolute_url, base_url

KEY_FILE = "credentials-ed25519.pem"
ALGORITHM = "EdDSA"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


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


def signing_key() -> Ed25519PrivateKey:
    path = Path(current_app.instance_path) / KEY_FILE
    if not path.exists():
        _create_key(path)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: its key is the key
        return
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(pem)


def public_jwk() -> dict:
    public = (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(public)}
    # RFC 7638 thumbprint: the members in lexical order, no spaces
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest()
    return jwk | {"kid": _b64url(thumbprint), "use": "sig", "alg": ALGORITHM}


def jwks() -> dict:
    return {"keys": [public_jwk()]}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


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
        "sub": credential["id"],
        "nbf": int(issued.timestamp()),
        "iat": int(issued.timestamp()),
        "vc": credential,
    }
    headers = {"kid": public_jwk()["kid"], "typ": "JWT"}
    return jwt.encode(claims, signing_key(), algorithm=ALGORITHM, headers=headers)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
