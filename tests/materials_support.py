"""Files of every accepted and refused kind, and a course with a module of each material
kind, for the learning-materials tests."""

import io
import zipfile

from openpyxl import Workbook
from PIL import Image
from reportlab.pdfgen import canvas

from courses.models import CompletionRule, Material, MaterialKind, Module
from courses.services import materials as learning
from events.services import seats
from tests.conftest import login
from webapp.extensions import db

DOCX_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
    b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)


def pdf_bytes(text: str = "Tropa") -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "PNG")
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", DOCX_TYPES)
        package.writestr("word/document.xml", b"<w:document/>")
    return out.getvalue()


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Тропа", 1])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A real-looking DOCX whose one part unpacks 20 MB of zeros from a few kilobytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", DOCX_TYPES)
        package.writestr("word/document.xml", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200  # a Windows program's header
HTML_BYTES = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def sign_in(client, user) -> None:
    """Sign out whoever is signed in, then sign this user in."""
    client.post("/logout")
    login(client, user)


def enrol(course, user):
    return seats.register(
        course.id, full_name=user.full_name, email=user.email, user_id=user.id
    ).registration


def add_module(course, title="1. Аудит проекта", **fields) -> Module:
    position = len(db.session.query(Module).filter_by(course_id=course.id).all()) + 1
    module = Module(course_id=course.id, title=title, position=position, **fields)
    db.session.add(module)
    db.session.commit()
    return module


def add_material(module, kind=MaterialKind.PAGE, title=None, **fields) -> Material:
    defaults = {
        MaterialKind.PAGE: CompletionRule.VIEWED,
        MaterialKind.LINK: CompletionRule.VIEWED,
        MaterialKind.FILE: CompletionRule.VIEWED,
        MaterialKind.TASK: CompletionRule.ACCEPTED,
    }
    material = Material(
        module_id=module.id,
        kind=kind,
        title=title or f"{kind.label} {len(module.materials) + 1}",
        position=len(module.materials) + 1,
        completion=fields.pop("completion", defaults[kind]),
        **fields,
    )
    db.session.add(material)
    db.session.commit()
    db.session.refresh(module)
    return material


def materials_world(course, registration) -> dict:
    """For the permissions table: a module with a task that has a file, and the enrolled
    participant's pending answer with a file."""
    module = add_module(course)
    task = learning.save_material(
        module,
        None,
        (io.BytesIO(pdf_bytes()), "Задание.pdf"),
        kind=MaterialKind.TASK,
        title="Задание",
        completion=CompletionRule.ACCEPTED,
    )
    answer = learning.submit_answer(
        registration, task, "Ответ", (io.BytesIO(pdf_bytes()), "Ответ.pdf")
    )
    return {"module_id": module.id, "material_id": task.id, "answer_id": answer.id}
