"""The centre's Ed25519 keys that sign credentials: one current key, older ones still
published until they are retired.

They live as PEM files in TROPA_CREDENTIAL_KEYS_DIR (default instance/credential-keys,
mode 0700): `<kid>.pem` per published key and `current` naming the signing one. With
several app hosts the folder is shared storage (or copied), like the secret key: every host
must sign with, and publish, the same keys.

`rotate()` makes a new key current; the old one stays in the JWKS, so every credential it
signed still verifies. `retire(kid)` is the explicit end of a key: it leaves the JWKS and
its credentials no longer verify. A kid is the key's RFC 7638 thumbprint.

The first use creates the first key. Several gunicorn workers may ask at once: files are
created whole under a name that must be free (a link, like O_EXCL) and `current` is
replaced atomically, so exactly one key wins and nobody reads a half-written file. An
instance from before rotation kept one key in instance/credentials-ed25519.pem: it is
taken over as the current key.
"""

import base64
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app

ALGORITHM = "EdDSA"
CURRENT = "current"
LEGACY_KEY_FILE = "credentials-ed25519.pem"
_KID = re.compile(r"[A-Za-z0-9_-]{43}")


class UnknownKey(LookupError):
    pass


class CurrentKeyRetired(ValueError):
    pass


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey
    created: float  # the file's modification time, seconds since the epoch

    def public_jwk(self) -> dict:
        return _jwk(self.private) | {"kid": self.kid, "use": "sig", "alg": ALGORITHM}


def keys_dir() -> Path:
    return Path(current_app.config["TROPA_CREDENTIAL_KEYS_DIR"])


def current_key() -> SigningKey:
    folder = _ready_dir()
    kid = _read_current(folder)
    if kid is None:
        _adopt_or_create_first(folder)
        kid = _read_current(folder)
    return _load(folder, kid)


def published_keys() -> list[SigningKey]:
    """Every key not retired, the current one first."""
    current = current_key()
    others = [
        _load(keys_dir(), path.stem)
        for path in sorted(keys_dir().glob("*.pem"))
        if path.stem != current.kid
    ]
    return [current, *sorted(others, key=lambda key: key.created, reverse=True)]


def rotate() -> SigningKey:
    """A new key becomes current; the previous one stays published."""
    folder = _ready_dir()
    current_key()  # an instance rotating before its first credential has a key to keep
    kid = _write_new_key(folder)
    _write_current(folder, kid)
    return _load(folder, kid)


def retire(kid: str) -> None:
    """Unpublish a key for good (its credentials stop verifying); never the current one."""
    folder = _ready_dir()
    path = folder / f"{kid}.pem"
    if not _KID.fullmatch(kid) or not path.is_file():
        raise UnknownKey(kid)
    if kid == _read_current(folder):
        raise CurrentKeyRetired(kid)
    path.unlink()


def _ready_dir() -> Path:
    folder = keys_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _read_current(folder: Path) -> str | None:
    try:
        return (folder / CURRENT).read_text().strip() or None
    except FileNotFoundError:
        return None


def _write_current(folder: Path, kid: str) -> None:
    temporary = folder / f".{CURRENT}.{os.getpid()}"
    temporary.write_text(kid + "\n")
    os.replace(temporary, folder / CURRENT)


def _adopt_or_create_first(folder: Path) -> None:
    legacy = Path(current_app.instance_path) / LEGACY_KEY_FILE
    kid = _store(folder, legacy.read_bytes()) if legacy.is_file() else _write_new_key(folder)
    # the first worker to get here names the current key; the others keep its choice
    named = _create_whole(folder / CURRENT, (kid + "\n").encode())
    if not named and kid != _read_current(folder):
        (folder / f"{kid}.pem").unlink(missing_ok=True)


def _write_new_key(folder: Path) -> str:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _store(folder, pem)


def _store(folder: Path, pem: bytes) -> str:
    kid = thumbprint(serialization.load_pem_private_key(pem, password=None))
    _create_whole(folder / f"{kid}.pem", pem)
    return kid


def _create_whole(path: Path, content: bytes) -> bool:
    """Create `path` with its content in one step, False if it exists: a worker racing
    this one sees no file or the whole file, never an empty one just created (a link
    to a finished temporary file fails if the name is taken, like O_EXCL)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def _load(folder: Path, kid: str) -> SigningKey:
    path = folder / f"{kid}.pem"
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return SigningKey(kid=kid, private=private, created=path.stat().st_mtime)


def _jwk(private: Ed25519PrivateKey) -> dict:
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"crv": "Ed25519", "kty": "OKP", "x": b64url(public)}


def thumbprint(private: Ed25519PrivateKey) -> str:
    """RFC 7638: SHA-256 of the required members in lexical order, no spaces."""
    canonical = json.dumps(_jwk(private), separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
