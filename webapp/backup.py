"""`tropa backup PATH` and `tropa restore PATH`: one archive with everything an instance
needs to come back after a lost disk.

The archive (a .tar.gz, mode 0600: it holds secrets) contains
- `database.sqlite3` (SQLite's online backup API: a consistent copy while the app runs) or
  `database.pgdump` (`pg_dump -Fc` of the server's own major version: one snapshot);
- `files/`: TROPA_FILES_DIR (uploads, certificate backgrounds, batch ZIPs), copied after
  the database, so every file the database names is there;
- `secrets/secret_key`, `secrets/credential-keys/` and the instance folder's other key files
  (`secrets/instance/*.pem`, e.g. a signing key from before key rotation not yet taken over):
  without the signing keys no credential already issued could be verified again;
- `manifest.json`: what it is, when, from which schema revision, and the SHA-256 of every
  other member. Restore checks every checksum before it changes anything.

Restore goes into an empty instance (no rows in the database, no stored files, no signing
keys) and refuses a non-empty one unless `force` is given; it replaces the database, the
files and the keys, and writes the secret key to instance/secret_key unless TROPA_SECRET_KEY
is set (then it says whether the two differ).
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import MetaData, inspect, literal, select, text
from sqlalchemy.engine import URL

from webapp.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
SECRET_KEY_MEMBER = "secrets/secret_key"  # noqa: S105  a path in the archive
KEYS = "secrets/credential-keys"
INSTANCE_KEYS = "secrets/instance"
FILES = "files"


class BackupError(RuntimeError):
    """The archive or the instance is not what the command needs; the message says why."""


@dataclass(frozen=True)
class Summary:
    tables: int
    files: int
    keys: int
    schema_revision: str | None


# --- backup --------------------------------------------------------------------------------


def backup(archive: Path) -> dict:
    """Write the archive (atomically: a half-written one never takes the name); returns
    the manifest. Files go into the archive straight from their folders, hashed on the
    way (no copy of the files folder on the disk); the manifest is the last member."""
    archive = Path(archive)
    partial = archive.with_name(f".{archive.name}.partial")
    checksums: dict[str, str] = {}
    # the database dump waits beside the archive (/tmp may be small, or private to a unit)
    with tempfile.TemporaryDirectory(prefix=".tropa-backup-", dir=archive.parent) as scratch:
        dump = _dump_database(Path(scratch))
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            members = [(Path(scratch) / dump, dump)]
            members += _tree_members(_files_dir(), FILES)
            members += _tree_members(_keys_dir(), KEYS)
            members += _tree_members(Path(current_app.instance_path), INSTANCE_KEYS, "*.pem")
            for path, name in members:
                checksums[name] = _add_file(tar, path, name)
            secret = current_app.config["SECRET_KEY"].encode()
            checksums[SECRET_KEY_MEMBER] = _add_bytes(tar, secret, SECRET_KEY_MEMBER)
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database_backend": db.engine.dialect.name,
                "database_dump": dump,
                "schema_revision": _schema_revision(),
                "checksums": checksums,
            }
            _add_bytes(tar, json.dumps(manifest, indent=2, ensure_ascii=False).encode(), MANIFEST)
    os.replace(partial, archive)
    return manifest


def _tree_members(folder: Path, prefix: str, pattern: str = "**/*") -> list[tuple[Path, str]]:
    if not folder.is_dir():
        return []
    return [
        (path, f"{prefix}/{path.relative_to(folder).as_posix()}")
        for path in sorted(folder.glob(pattern))
        if path.is_file() and not path.name.startswith(".")
    ]


class _HashingReader:
    """Hands a file to tarfile and hashes what it reads: the checksum is of exactly the
    bytes archived."""

    def __init__(self, stream):
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size=-1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> str:
    info = tar.gettarinfo(path, arcname=name)
    with path.open("rb") as stream:
        reader = _HashingReader(stream)
        tar.addfile(info, reader)
    return reader.digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, data: bytes, name: str) -> str:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _dump_database(staging: Path) -> str:
    db.session.remove()  # no transaction of ours stays open during the copy
    if db.engine.dialect.name == "sqlite":
        target = sqlite3.connect(staging / SQLITE_DUMP)
        source = sqlite3.connect(db.engine.url.database)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return SQLITE_DUMP
    _run_pg("pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", staging / POSTGRES_DUMP)
    return POSTGRES_DUMP


# --- restore -------------------------------------------------------------------------------


def restore(archive: Path, force: bool = False) -> Summary:
    """Check the archive, then replace this instance's database, files and keys with it."""
    with tempfile.TemporaryDirectory(prefix="tropa-restore-") as scratch:
        staging = Path(scratch)
        manifest = _unpack_and_check(Path(archive), staging)
        if manifest["database_backend"] != db.engine.dialect.name:
            raise BackupError(
                f"the archive holds a {manifest['database_backend']} database; "
                f"this instance uses {db.engine.dialect.name}"
            )
        if not force and (reasons := _not_empty()):
            raise BackupError(
                "this instance is not empty (" + ", ".join(reasons) + "): "
                "restore into an empty one, or give --force to replace it"
            )
        _restore_database(staging / manifest["database_dump"])
        files = _replace_tree(staging / FILES, _files_dir())
        keys = _replace_tree(staging / KEYS, _keys_dir())
        _restore_secret_key((staging / SECRET_KEY_MEMBER).read_text())
        for pem in (
            (staging / INSTANCE_KEYS).glob("*.pem") if (staging / INSTANCE_KEYS).is_dir() else ()
        ):
            shutil.copy2(pem, Path(current_app.instance_path) / pem.name)
        tables = len(inspect(db.engine).get_table_names())
    return Summary(
        tables=tables, files=files, keys=keys, schema_revision=manifest["schema_revision"]
    )


def _unpack_and_check(archive: Path, staging: Path) -> dict:
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"cannot read {archive}: {error}") from None
    try:
        manifest = json.loads((staging / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{archive} has no readable {MANIFEST}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown archive format {manifest.get('format')!r}")
    present = {
        path.relative_to(staging).as_posix()
        for path in staging.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    expected = manifest["checksums"]
    if present != set(expected):
        raise BackupError(
            f"the archive's members differ from its manifest: {sorted(present ^ set(expected))}"
        )
    damaged = [name for name, digest in expected.items() if _sha256(staging / name) != digest]
    if damaged:
        raise BackupError(f"checksums do not match: {damaged}")
    return manifest


def _not_empty() -> list[str]:
    reasons = []
    tables = [name for name in inspect(db.engine).get_table_names() if name != "alembic_version"]
    with db.engine.connect() as connection:
        filled = [
            name
            for name in tables
            if connection.scalar(select(literal(1)).select_from(text(_quoted(name))).limit(1))
        ]
    if filled:
        reasons.append(f"rows in {len(filled)} tables")
    if _files_dir().is_dir() and any(_files_dir().iterdir()):
        reasons.append("stored files")
    if _keys_dir().is_dir() and any(_keys_dir().glob("*.pem")):
        reasons.append("signing keys")
    return reasons


def _restore_database(dump: Path) -> None:
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        db.engine.dispose()
        source = sqlite3.connect(dump)
        target = sqlite3.connect(db.engine.url.database)
        try:
            source.backup(target)  # replaces the whole database, pages and schema
        finally:
            source.close()
            target.close()
        return
    _drop_all_tables()
    _run_pg("pg_restore", "--no-owner", "--no-privileges", "--single-transaction", dump)
    db.engine.dispose()  # pooled connections may have cached the old tables' types


def _drop_all_tables() -> None:
    """Every table, with its triggers; on PostgreSQL also the schema's functions that
    triggers call (the report stamp's): the dump creates them again."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    with db.engine.begin() as connection:
        metadata.drop_all(connection)
        if connection.dialect.name == "postgresql":
            functions = connection.scalars(
                text(
                    "SELECT oid::regprocedure::text FROM pg_proc"
                    " WHERE pronamespace = current_schema()::regnamespace"
                )
            ).all()
            for signature in functions:
                connection.execute(text(f"DROP FUNCTION {signature}"))


def _restore_secret_key(key: str) -> None:
    if env_key := os.environ.get("TROPA_SECRET_KEY"):
        if env_key != key:
            current_app.logger.warning(
                "TROPA_SECRET_KEY differs from the archive's secret key (secrets/secret_key): "
                "sessions, ticket codes and tokens made before the backup need the archive's"
            )
        return
    path = Path(current_app.instance_path) / "secret_key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as key_file:
        key_file.write(key)
    current_app.config["SECRET_KEY"] = key


# --- PostgreSQL's own tools ---------------------------------------------------------------


def _run_pg(tool: str, *args) -> None:
    """Run pg_dump or pg_restore on this instance's database, with `args` before it."""
    url: URL = db.engine.url
    command = [str(_pg_tool(tool)), "-h", url.host or "localhost", "-p", str(url.port or 5432)]
    if url.username:
        command += ["-U", url.username]
    if tool == "pg_dump":
        command += [*map(str, args), "-d", url.database]
    else:  # pg_restore: the dump file comes last
        *options, dump = args
        command += [*map(str, options), "-d", url.database, str(dump)]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-2000:]}")


def _pg_tool(tool: str) -> Path:
    """The tool of the server's major version (a newer server refuses an older pg_dump; an
    older client cannot read a newer server's catalogue)."""
    with db.engine.connect() as connection:
        major = int(connection.scalar(text("SHOW server_version_num"))) // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin/{tool}"), shutil.which(tool)):
        if candidate and Path(candidate).is_file() and _major_of(Path(candidate)) == major:
            return Path(candidate)
    raise BackupError(f"no {tool} of PostgreSQL {major} found: install postgresql-client-{major}")


def _major_of(tool: Path) -> int | None:
    result = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    words = result.stdout.split()
    try:
        return int(words[-1].split(".")[0]) if words else None
    except ValueError:
        return None


# --- files ---------------------------------------------------------------------------------


def _files_dir() -> Path:
    return Path(current_app.config["TROPA_FILES_DIR"])


def _keys_dir() -> Path:
    return Path(current_app.config["TROPA_CREDENTIAL_KEYS_DIR"])


def _copy_tree(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)


def _replace_tree(source: Path, target: Path) -> int:
    """Make `target` hold exactly what `source` holds; returns how many files. The folder
    itself stays (it may be a shared storage's mount point); a new one is made 0700."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    _copy_tree(source, target)
    return sum(1 for path in target.rglob("*") if path.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _schema_revision() -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


def _quoted(name: str) -> str:
    return db.engine.dialect.identifier_preparer.quote(name)
