"""Uploaded files: checked by their content, stored under random names, served as downloads.

An upload is accepted only if its bytes are one of the allowed types (the name and the
browser's Content-Type are not trusted), within TROPA_MAX_UPLOAD_MB counted while the bytes
are copied, and office documents must be real OOXML packages of a bounded unpacked size
(a zip bomb is refused). Files live in TROPA_FILES_DIR (default instance/files), outside the
static folder, under 32 random hex characters; the original name is only a label.
"""

import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app, send_file
from flask_babel import gettext as _

from webapp.export import attachment_disposition

_CHUNK = 64 * 1024
_STORAGE_NAME = re.compile(r"[0-9a-f]{32}")

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", DOCX: "docx", XLSX: "xlsx", PPTX: "pptx"}

# The main part an OOXML package declares in [Content_Types].xml, per document type; the
# macro-enabled variants (docm, xlsm, pptm) declare other parts and are refused.
_OOXML_MAIN_PARTS = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    PPTX: b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
# Limits of an office package when unpacked: real documents stay far below them.
_ZIP_MAX_ENTRIES = 5000
_ZIP_MAX_UNPACKED = 200 * 1024 * 1024
_ZIP_MAX_RATIO = 200


class UploadRefused(Exception):
    """An upload that is not stored, with the message for the person who sent it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    storage_name: str
    original_name: str
    content_type: str
    size: int


def files_dir() -> Path:
    path = Path(current_app.config["TROPA_FILES_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_upload_bytes() -> int:
    return int(current_app.config["TROPA_MAX_UPLOAD_MB"]) * 1024 * 1024


def stored_path(storage_name: str) -> Path:
    """The file's path; only our own random names are accepted, so no path tricks."""
    if not _STORAGE_NAME.fullmatch(storage_name or ""):
        raise ValueError("not a storage name")
    return files_dir() / storage_name


def save_upload(stream: BinaryIO, original_name: str) -> StoredFile:
    """Copy the upload into storage and check it; on refusal nothing is left behind."""
    limit = max_upload_bytes()
    storage_name = secrets.token_hex(16)
    path = stored_path(storage_name)
    partial = path.with_suffix(".part")
    size = 0
    try:
        with open(partial, "xb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(
                        _(
                            "The file is larger than %(limit)s MB.",
                            limit=current_app.config["TROPA_MAX_UPLOAD_MB"],
                        )
                    )
                out.write(chunk)
        if size == 0:
            raise UploadRefused(_("The file is empty."))
        content_type = detect_type(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return StoredFile(storage_name, display_name(original_name, content_type), content_type, size)


def delete_stored(storage_name: str | None) -> None:
    if storage_name:
        stored_path(storage_name).unlink(missing_ok=True)


def detect_type(path: Path) -> str:
    """The file's type from its first bytes (and, for office documents, its package)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _office_type(path)
    raise UploadRefused(
        _("This type of file is not accepted: send a PDF, DOCX, XLSX, PPTX, PNG or JPEG file.")
    )


def _office_type(path: Path) -> str:
    refused = UploadRefused(_("The file is not a valid Word, Excel or PowerPoint document."))
    try:
        with zipfile.ZipFile(path) as package:
            entries = package.infolist()
            unpacked = sum(entry.file_size for entry in entries)
            too_packed = any(
                entry.file_size > _ZIP_MAX_RATIO * max(entry.compress_size, 1)
                and entry.file_size > 1024 * 1024
                for entry in entries
            )
            if len(entries) > _ZIP_MAX_ENTRIES or unpacked > _ZIP_MAX_UNPACKED or too_packed:
                raise UploadRefused(_("The document unpacks to too much data and is refused."))
            with package.open("[Content_Types].xml") as types_file:
                declared = types_file.read(1024 * 1024)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
        raise refused from error
    for content_type, main_part in _OOXML_MAIN_PARTS.items():
        if main_part in declared:
            return content_type
    raise refused


def display_name(original_name: str | None, content_type: str) -> str:
    """The name to show and offer on download: the last path part, no control characters,
    at most 150 characters, with the extension of the detected type."""
    name = unicodedata.normalize("NFC", original_name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if c.isprintable()).strip().lstrip(".")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:150].strip() or _("file")
    return f"{stem}.{EXTENSIONS[content_type]}"


def file_response(stored: StoredFile):
    """Always a download with the stored (allow-listed) type, never rendered as a page."""
    response = send_file(
        stored_path(stored.storage_name), mimetype=stored.content_type, conditional=True
    )
    response.headers["Content-Disposition"] = attachment_disposition(
        stored.original_name, fallback=f"file.{EXTENSIONS.get(stored.content_type, 'bin')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
