"""Learning materials: modules and materials of a course, who may open them, when they open,
and each participant's progress (viewed, marked done, task answers and their review).

Progress belongs to a confirmed registration; staff (trainers, organisers) see everything
and leave no progress behind.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from courses.models import (
    AnswerStatus,
    CompletionRule,
    Course,
    Material,
    MaterialKind,
    MaterialProgress,
    Module,
    TaskAnswer,
)
from events.models import Event, Registration, RegistrationStatus
from webapp import storage
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.models import User
from webapp.transactions import unit_of_work
from webapp.types import utcnow


class LearningRefused(ServiceError):
    """A participant's or trainer's action on materials that is refused."""

    MESSAGES = {
        "not_a_task": _l("Only a task takes an answer."),
        "empty_answer": _l("Write an answer or attach a file."),
        "awaiting_review": _l(
            "Your answer is awaiting the trainer's review: you can answer again if it is "
            "returned for rework."
        ),
        "already_accepted": _l("Your answer has already been accepted."),
        "no_decision": _l("Choose accepted or needs rework."),
        "no_file": _l("Choose the file to upload."),
    }


def course_lock(course_id: int):
    """The unit's lock for a change of a course's learning (progress, answers, completion):
    the course's row, FOR UPDATE on PostgreSQL (SQLite's unit holds the write lock already).
    The same row the seats take first, so the two never wait for each other in a circle."""
    return lambda: db.session.execute(
        select(Event.id).where(Event.id == course_id).with_for_update()
    )


# --- building a course (staff) ------------------------------------------------------------


def modules_of(course: Course) -> list[Module]:
    """Every module with its materials, in order: two queries."""
    return list(
        db.session.scalars(
            select(Module)
            .where(Module.course_id == course.id)
            .order_by(Module.position, Module.id)
            .options(selectinload(Module.materials))
        )
    )


def save_module(course: Course, module: Module | None, **fields) -> Module:
    with unit_of_work():
        if module is None:
            last = max((m.position for m in modules_of(course)), default=0)
            module = Module(course_id=course.id, position=last + 1)
            db.session.add(module)
        for name, value in fields.items():
            setattr(module, name, value)
    return module


def delete_module(module: Module) -> None:
    with unit_of_work():
        stored = [m.file_storage_name for m in module.materials]
        stored += _answer_files(m.id for m in module.materials)
        db.session.delete(module)
    for name in stored:
        storage.delete_stored(name)


def _swap(items: list, item, direction: str) -> None:
    """Move an item one place up or down, renumbering positions 1..n."""
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, start=1):
        each.position = position


def move_module(module: Module, direction: str) -> None:
    with unit_of_work():
        _swap(modules_of(module.course), module, direction)


def save_material(
    module: Module,
    material: Material | None,
    upload: tuple[BinaryIO, str] | None = None,
    **fields,
) -> Material:
    """Create or edit a material; an upload (stream, original name) replaces its file.

    The file is checked and stored first: a refused upload raises storage.UploadRefused and
    nothing is saved. A file material needs a file.
    """
    old_file = material.file_storage_name if material else None
    stored = storage.save_upload(*upload) if upload else None
    kind = fields.get("kind", material.kind if material else None)
    if kind == MaterialKind.FILE and stored is None and not old_file:
        raise storage.UploadRefused(str(LearningRefused.MESSAGES["no_file"]))
    with _forgotten_on_failure(stored), unit_of_work():
        if material is None:
            last = max((m.position for m in module.materials), default=0)
            material = Material(module_id=module.id, position=last + 1)
            db.session.add(material)
        for name, value in fields.items():
            setattr(material, name, value)
        if stored:
            _attach(material, stored)
    if stored and old_file:
        storage.delete_stored(old_file)
    return material


@contextmanager
def _forgotten_on_failure(stored: storage.StoredFile | None) -> Iterator[None]:
    """If the unit fails, delete the file just stored, so no orphan stays on disk."""
    try:
        yield
    except BaseException:
        if stored:
            storage.delete_stored(stored.storage_name)
        raise


def _attach(owner, stored: storage.StoredFile) -> None:
    owner.file_storage_name = stored.storage_name
    owner.file_name = stored.original_name
    owner.file_content_type = stored.content_type
    owner.file_size = stored.size


def move_material(material: Material, direction: str) -> None:
    with unit_of_work():
        _swap(list(material.module.materials), material, direction)


def toggle_material(material_id: int) -> None:
    """Hide a material from participants, or show it again."""
    with unit_of_work():
        material = db.session.get(Material, material_id)
        material.hidden = not material.hidden


def delete_material(material: Material) -> None:
    with unit_of_work():
        stored = [material.file_storage_name, *_answer_files([material.id])]
        db.session.delete(material)
    for name in stored:
        storage.delete_stored(name)


def _answer_files(material_ids: Iterable[int]) -> list[str]:
    ids = list(material_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(TaskAnswer.file_storage_name).where(
                TaskAnswer.material_id.in_(ids), TaskAnswer.file_storage_name.is_not(None)
            )
        )
    )


# --- who may open what -------------------------------------------------------------------


def participant_registration(course: Course, user: User) -> Registration | None:
    """The user's confirmed enrolment in the course, if any: what opens its materials."""
    if not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == course.id,
            Registration.user_id == user.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


@dataclass
class MaterialState:
    """One material as one participant sees it."""

    material: Material
    progress: MaterialProgress | None = None
    answer: TaskAnswer | None = None
    is_open: bool = True
    opens_at: datetime | None = None  # when it is closed until a date

    @property
    def counts(self) -> bool:
        """Counts in the progress bar: has a completion rule."""
        return self.material.completion != CompletionRule.NONE

    @property
    def complete(self) -> bool:
        return material_complete(self.material, self.progress, self.answer)


@dataclass
class ModuleState:
    module: Module
    items: list[MaterialState] = field(default_factory=list)
    is_open: bool = True
    opens_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return all(item.complete for item in self.items if item.counts)


@dataclass
class Outline:
    modules: list[ModuleState]

    @property
    def counted(self) -> list[MaterialState]:
        return [item for module in self.modules for item in module.items if item.counts]

    @property
    def done(self) -> int:
        return sum(1 for item in self.counted if item.complete)

    @property
    def total(self) -> int:
        return len(self.counted)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def neighbours(self, material_id: int) -> tuple[MaterialState | None, MaterialState | None]:
        """The materials before and after this one, in the course's order (for the links
        "previous" and "next" on a material's page)."""
        items = [item for module in self.modules for item in module.items]
        index = next(i for i, item in enumerate(items) if item.material.id == material_id)
        return (
            items[index - 1] if index > 0 else None,
            items[index + 1] if index + 1 < len(items) else None,
        )

    def find(self, material_id: int) -> MaterialState | None:
        for module in self.modules:
            for item in module.items:
                if item.material.id == material_id:
                    return item
        return None


def material_complete(
    material: Material, progress: MaterialProgress | None, answer: TaskAnswer | None
) -> bool:
    rule = material.completion
    if rule == CompletionRule.NONE:
        return True
    if rule == CompletionRule.VIEWED:
        return bool(progress and (progress.viewed_at or progress.done_at))
    if rule == CompletionRule.MARKED_DONE:
        return bool(progress and progress.done_at)
    return bool(answer and answer.status == AnswerStatus.ACCEPTED)


def visible_modules(modules: list[Module]) -> list[tuple[Module, list[Material]]]:
    return [
        (module, [m for m in module.materials if not m.hidden])
        for module in modules
        if not module.hidden
    ]


def outline(course: Course, registration: Registration | None, staff: bool = False) -> Outline:
    """The course's modules and materials with one participant's progress and what is open:
    four queries. Staff see hidden items too and everything is open to them."""
    modules = modules_of(course)
    progress, answers = progress_maps(course, [registration.id] if registration else [])
    key = registration.id if registration else None
    now = utcnow()
    states = []
    previous_module_complete = True
    pairs = [(m, list(m.materials)) for m in modules] if staff else visible_modules(modules)
    for module, materials in pairs:
        module_state = ModuleState(module)
        if not staff:
            if module.opens_at and module.opens_at > now:
                module_state.is_open, module_state.opens_at = False, module.opens_at
            if module.opens_after_previous and not previous_module_complete:
                module_state.is_open = False
        previous_complete = True
        for material in materials:
            item = MaterialState(
                material,
                progress.get((key, material.id)),
                answers.get((key, material.id)),
            )
            if not staff:
                item.is_open = module_state.is_open
                if material.opens_at and material.opens_at > now:
                    item.is_open, item.opens_at = False, material.opens_at
                if material.opens_after_previous and not previous_complete:
                    item.is_open = False
            previous_complete = item.complete
            module_state.items.append(item)
        previous_module_complete = module_state.complete
        states.append(module_state)
    return Outline(states)


def progress_maps(
    course: Course, registration_ids: list[int]
) -> tuple[dict[tuple[int, int], MaterialProgress], dict[tuple[int, int], TaskAnswer]]:
    """Progress rows and task answers of these registrations in the course, keyed by
    (registration id, material id): two queries whatever the numbers."""
    if not registration_ids:
        return {}, {}
    of_course = (
        select(Material.id).join(Module).where(Module.course_id == course.id).scalar_subquery()
    )
    progress = db.session.scalars(
        select(MaterialProgress).where(
            MaterialProgress.registration_id.in_(registration_ids),
            MaterialProgress.material_id.in_(of_course),
        )
    )
    answers = db.session.scalars(
        select(TaskAnswer).where(
            TaskAnswer.registration_id.in_(registration_ids),
            TaskAnswer.material_id.in_(of_course),
        )
    )
    return (
        {(p.registration_id, p.material_id): p for p in progress},
        {(a.registration_id, a.material_id): a for a in answers},
    )


# --- a participant's progress -------------------------------------------------------------


def _progress_row(registration: Registration, material: Material) -> MaterialProgress:
    row = db.session.scalar(
        select(MaterialProgress).where(
            MaterialProgress.registration_id == registration.id,
            MaterialProgress.material_id == material.id,
        )
    )
    if row is None:
        row = MaterialProgress(registration_id=registration.id, material_id=material.id)
        db.session.add(row)
    return row


def _viewed(registration_id: int, material_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(MaterialProgress.viewed_at).where(
                MaterialProgress.registration_id == registration_id,
                MaterialProgress.material_id == material_id,
            )
        )
    )


def record_view(registration: Registration, material: Material) -> None:
    """Opened or downloaded: the first time is kept (a unit only that first time, so a
    page or file opened again writes nothing)."""
    registration_id, material_id, course_id = registration.id, material.id, registration.event_id
    if _viewed(registration_id, material_id):
        return
    with unit_of_work(lock=course_lock(course_id)):
        registration = db.session.get(Registration, registration_id)
        row = _progress_row(registration, db.session.get(Material, material_id))
        if row.viewed_at is None:
            row.viewed_at = utcnow()
            _record_completion(registration)


def mark_done(registration: Registration, material: Material, done: bool = True) -> None:
    registration_id, material_id, course_id = registration.id, material.id, registration.event_id
    with unit_of_work(lock=course_lock(course_id)):
        registration = db.session.get(Registration, registration_id)
        row = _progress_row(registration, db.session.get(Material, material_id))
        row.viewed_at = row.viewed_at or utcnow()
        row.done_at = utcnow() if done else None
        _record_completion(registration)


def _record_completion(registration: Registration) -> None:
    """Inside the unit: record the completion this change may have brought."""
    from courses.services import completion  # completion reads this module's progress

    db.session.flush()
    completion.record_completions(db.session.get(Course, registration.event_id), [registration])


def submit_answer(
    registration: Registration,
    material: Material,
    text: str,
    upload: tuple[BinaryIO, str] | None = None,
) -> TaskAnswer:
    """A participant's answer to a task. Refused while one awaits review or once accepted;
    after "needs rework" the new answer replaces the old one (its file too)."""
    if material.kind != MaterialKind.TASK:
        raise LearningRefused("not_a_task")
    text = (text or "").strip()
    if not text and upload is None:
        raise LearningRefused("empty_answer")
    registration_id, material_id, course_id = registration.id, material.id, registration.event_id
    _check_answerable(_answer_of(registration_id, material_id))  # before storing the upload
    stored = storage.save_upload(*upload) if upload else None
    with _forgotten_on_failure(stored), unit_of_work(lock=course_lock(course_id)):
        answer = _answer_of(registration_id, material_id)
        _check_answerable(answer)  # again under the lock: a double submit is refused
        old_file = answer.file_storage_name if answer else None
        if answer is None:
            answer = TaskAnswer(registration_id=registration_id, material_id=material_id)
            db.session.add(answer)
        answer.text = text
        answer.status = AnswerStatus.SUBMITTED
        answer.submitted_at = utcnow()
        answer.reviewed_at = None
        answer.reviewed_by_id = None
        answer.file_storage_name = answer.file_name = answer.file_content_type = None
        answer.file_size = None
        if stored:
            _attach(answer, stored)
        row = _progress_row(registration, material)
        row.viewed_at = row.viewed_at or utcnow()
    if old_file:
        storage.delete_stored(old_file)
    return answer


def _answer_of(registration_id: int, material_id: int) -> TaskAnswer | None:
    return db.session.scalar(
        select(TaskAnswer).where(
            TaskAnswer.registration_id == registration_id, TaskAnswer.material_id == material_id
        )
    )


def _check_answerable(answer: TaskAnswer | None) -> None:
    if answer and answer.status == AnswerStatus.SUBMITTED:
        raise LearningRefused("awaiting_review")
    if answer and answer.status == AnswerStatus.ACCEPTED:
        raise LearningRefused("already_accepted")


def review_answer(answer: TaskAnswer, reviewer: User, decision: AnswerStatus, comment: str) -> None:
    if decision not in (AnswerStatus.ACCEPTED, AnswerStatus.NEEDS_REWORK):
        raise LearningRefused("no_decision")
    answer_id, course_id = answer.id, answer.material.module.course_id
    with unit_of_work(lock=course_lock(course_id)):
        answer = db.session.get(TaskAnswer, answer_id)
        answer.status = decision
        answer.trainer_comment = (comment or "").strip()
        answer.reviewed_by_id = reviewer.id
        answer.reviewed_at = utcnow()
        _record_completion(answer.registration)


def answers_to_review(course: Course) -> list[TaskAnswer]:
    return list(
        db.session.scalars(
            select(TaskAnswer)
            .join(Material)
            .join(Module)
            .where(Module.course_id == course.id, TaskAnswer.status == AnswerStatus.SUBMITTED)
            .order_by(TaskAnswer.submitted_at)
            .options(selectinload(TaskAnswer.registration), selectinload(TaskAnswer.material))
        )
    )


# --- the trainer's grid -------------------------------------------------------------------


@dataclass
class ProgressGrid:
    """Participants × materials (those with a completion rule), in constant queries."""

    materials: list[Material]
    registrations: list[Registration]
    progress: dict
    answers: dict

    def cell(self, registration: Registration, material: Material) -> str:
        """'done', 'viewed', 'submitted', 'needs_rework' or '' for the grid and the export."""
        progress = self.progress.get((registration.id, material.id))
        answer = self.answers.get((registration.id, material.id))
        if material_complete(material, progress, answer):
            return "done"
        if answer:
            return answer.status.value
        if progress and progress.viewed_at:
            return "viewed"
        return ""

    def percent(self, registration: Registration) -> int:
        if not self.materials:
            return 0
        done = sum(1 for m in self.materials if self.cell(registration, m) == "done")
        return round(100 * done / len(self.materials))


def confirmed_registrations(course: Course) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == course.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(Registration.full_name, Registration.id)
        )
    )


def progress_grid(course: Course) -> ProgressGrid:
    materials = [
        material
        for module, visible in visible_modules(modules_of(course))
        for material in visible
        if material.completion != CompletionRule.NONE
    ]
    registrations = confirmed_registrations(course)
    progress, answers = progress_maps(course, [r.id for r in registrations])
    return ProgressGrid(materials, registrations, progress, answers)


def progress_summaries(registrations: list[Registration]) -> dict[int, tuple[int, int]]:
    """(complete, counted) materials per course of these registrations, keyed by course id,
    for progress bars on lists: four queries however many courses."""
    confirmed = [r for r in registrations if r.status == RegistrationStatus.CONFIRMED]
    if not confirmed:
        return {}
    course_ids = [r.event_id for r in confirmed]
    modules = db.session.scalars(
        select(Module)
        .where(Module.course_id.in_(course_ids), Module.hidden.is_(False))
        .options(selectinload(Module.materials))
    )
    counted: dict[int, list[Material]] = {course_id: [] for course_id in course_ids}
    for module in modules:
        counted[module.course_id] += [
            m for m in module.materials if not m.hidden and m.completion != CompletionRule.NONE
        ]
    ids = [r.id for r in confirmed]
    progress = {
        (p.registration_id, p.material_id): p
        for p in db.session.scalars(
            select(MaterialProgress).where(MaterialProgress.registration_id.in_(ids))
        )
    }
    answers = {
        (a.registration_id, a.material_id): a
        for a in db.session.scalars(select(TaskAnswer).where(TaskAnswer.registration_id.in_(ids)))
    }
    summaries = {}
    for registration in confirmed:
        materials = counted[registration.event_id]
        key = registration.id
        done = sum(
            1
            for m in materials
            if material_complete(m, progress.get((key, m.id)), answers.get((key, m.id)))
        )
        summaries[registration.event_id] = (done, len(materials))
    return summaries


def due_tasks(registrations: list[Registration]) -> dict[int, list[Material]]:
    """Per course id, the visible tasks with a deadline that are still to do for the
    registration (no answer yet, or one sent back for rework), soonest first: one query."""
    ids = [registration.id for registration in registrations]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Material, Registration.event_id)
        .join(Module, Module.id == Material.module_id)
        .join(Registration, Registration.event_id == Module.course_id)
        .outerjoin(
            TaskAnswer,
            and_(
                TaskAnswer.material_id == Material.id, TaskAnswer.registration_id == Registration.id
            ),
        )
        .where(
            Registration.id.in_(ids),
            Material.kind == MaterialKind.TASK,
            Material.due_at.is_not(None),
            Material.hidden.is_(False),
            Module.hidden.is_(False),
            or_(TaskAnswer.id.is_(None), TaskAnswer.status == AnswerStatus.NEEDS_REWORK),
        )
        .order_by(Material.due_at, Material.id)
    )
    due: dict[int, list[Material]] = {}
    for material, course_id in rows:
        due.setdefault(course_id, []).append(material)
    return due
