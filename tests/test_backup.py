"""`tropa backup` / `tropa restore`: the round trip on this test run's database (SQLite or
PostgreSQL): every table's rows, every stored file and the signing keys come back as they
were at the backup, and a credential issued before still verifies."""

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from joserfc import jwt
from sqlalchemy import MetaData, select

from certificates.models import Certificate
from certificates.services import signing_keys
from tests.certificates_support import jwks_key_of
from tests.conftest import make_user
from tests.test_verify import make_certificate
from webapp import backup
from webapp.backup import BackupError, _drop_all_tables
from webapp.cli import main
from webapp.extensions import db
from webapp.storage import files_dir


@pytest.fixture
def tropa(app_ctx):
    runner = app_ctx.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(arg) for arg in args])


def every_row() -> dict[str, list[str]]:
    db.session.remove()
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    with db.engine.connect() as connection:
        return {
            name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for name, table in metadata.tables.items()
        }


def every_file(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_backup_then_restore_brings_back_rows_files_and_keys(app, client, course, tropa, tmp_path):
    certificate = make_certificate(course)
    code, certificate_id = certificate.code, certificate.id
    token = client.get(f"/verify/{code}/credential.jwt").get_data(as_text=True)
    (files_dir() / ("a" * 32)).write_bytes(b"%PDF-1.7 a background")
    rows, files = every_row(), every_file(files_dir())
    keys = every_file(signing_keys.keys_dir())
    archive = tmp_path / "tropa.tar.gz"

    done = tropa("backup", archive)
    assert done.exit_code == 0, done.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["database_backend"] == db.engine.dialect.name
    assert f"files/{'a' * 32}" in manifest["checksums"]
    assert any(name.startswith("secrets/credential-keys/") for name in manifest["checksums"])

    # life goes on: people come, a certificate goes, files change, the key is rotated and
    # the old one retired (so the old credential stops verifying)
    make_user("late@example.org")
    db.session.delete(db.session.get(Certificate, certificate_id))
    db.session.commit()
    (files_dir() / ("a" * 32)).unlink()
    (files_dir() / ("b" * 32)).write_bytes(b"new")
    old_kid = signing_keys.current_key().kid
    assert tropa("keys", "rotate").exit_code == 0
    assert tropa("keys", "retire", "--", old_kid).exit_code == 0
    assert every_row() != rows

    refused = tropa("restore", archive)
    assert refused.exit_code != 0 and "not empty" in refused.output

    # the disk is lost: an empty database, no files, no keys
    _drop_all_tables()
    for folder in (files_dir(), signing_keys.keys_dir()):
        for path in folder.iterdir():
            path.unlink()

    restored = tropa("restore", archive)
    assert restored.exit_code == 0, restored.output
    assert every_row() == rows
    assert every_file(files_dir()) == files
    assert every_file(signing_keys.keys_dir()) == keys
    key = jwks_key_of(client, token)  # the served JWKS has the key back
    assert jwt.decode(token, key, algorithms=["EdDSA"]).claims["vc"]["id"].endswith(code)
    assert client.get(f"/verify/{code}").status_code == 200


def test_restore_with_force_replaces_a_live_instance(client, course, tropa, tmp_path):
    make_certificate(course)
    rows = every_row()
    archive = tmp_path / "tropa.tar.gz"
    assert tropa("backup", archive).exit_code == 0
    make_user("late@example.org")
    assert tropa("restore", archive, "--force").exit_code == 0
    assert every_row() == rows


def test_a_damaged_archive_is_refused_before_anything_changes(app_ctx, course, tmp_path):
    make_certificate(course)
    archive = tmp_path / "tropa.tar.gz"
    backup.backup(archive)
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    dump = next(unpacked.glob("database.*"))
    damaged_bytes = bytearray(dump.read_bytes())
    damaged_bytes[len(damaged_bytes) // 2] ^= 0xFF  # one flipped byte
    dump.write_bytes(bytes(damaged_bytes))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for path in sorted(unpacked.iterdir()):
            tar.add(path, arcname=path.name)
    rows = every_row()
    with pytest.raises(BackupError, match="checksums"):
        backup.restore(damaged, force=True)
    assert every_row() == rows
