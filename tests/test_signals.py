"""Who reacts to what: every named signal has the receivers it should, connected by the
packages' init_app (webapp.signals), and no module keeps a list of hooks filled at import."""

import re
from pathlib import Path

from webapp import signals

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webapp", "events", "courses", "certificates", "feedback", "projects", "reports")

# signal name -> the receivers (module.function) the app connects to it.
EXPECTED = {
    "personal-data-requested": {
        "events.services.seats.export_registrations",
        "feedback.services.export_feedback",
        "projects.services.editing.export_projects",
    },
    "person-anonymised": {
        "events.services.seats.anonymise_registrations",
        "feedback.services.forget_free_text",
    },
    "profile-changed": {"events.services.notifications.reminders_follow_profile"},
    "api-token-rules": {"events.services.checkin.is_staff_of_some_event"},
    "registration-changed": {
        "events.services.notifications.reminders_follow_registration",
        "courses.services.catalogue.catalogue_follows_registration",
    },
    "session-changed": {
        "events.services.notifications.reminders_follow_session",
        "courses.services.catalogue.catalogue_follows_session",
    },
    "attendance-marked": {"certificates.services.issuing.issue_for_attendance"},
    "taught-event-ids": {"courses.services.courses_taught"},
    "course-completed": {
        "certificates.services.issuing.issue_for_completions",
        "projects.services.steps.tick_steps_for_completions",
    },
    "worker-tick": {
        "events.services.notifications.send_due_mail",
        "certificates.services.batches.continue_quiet_batch",
        "certificates.services.issuing.issue_due_certificates",
        "courses.services.completion.record_completions_by_time",
        "feedback.services.invite_attendees",
    },
    "deferred-work-counted": {
        "events.services.notifications.count_mail_due",
        "certificates.services.batches.count_quiet_batches",
        "certificates.services.issuing.count_due_certificates",
    },
    "mail-previews-requested": {
        "events.services.notifications.mail_samples",
        "certificates.services.issuing.mail_samples",
        "feedback.services.mail_samples",
    },
    "demo-data-loading": {
        "certificates.demo.load_demo_certificates",
        "feedback.demo.load_demo_feedback",
        "projects.outcomes.demo.load_demo_projects_and_outcomes",
    },
}


def connected(signal) -> set[str]:
    receivers = (ref() if callable(ref) and not hasattr(ref, "__module__") else ref
                 for ref in signal.receivers.values())  # fmt: skip
    return {f"{r.__module__}.{r.__qualname__}" for r in receivers if r is not None}


def test_every_signal_has_its_receivers(app):
    found = {signal.name: connected(signal) for signal in signals.ALL}
    for name, receivers in EXPECTED.items():
        assert found[name] == receivers, name


def test_no_hook_lists_or_global_orm_listeners():
    hook_list = re.compile(r"^\w+\s*(:\s*list\[[^\]]*Callable|=\s*\[\]\s*$)", re.M)
    orm_listener = re.compile(r"listens_for\(\s*(Orm)?Session|event\.listen\([^)]*Session")
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if hook_list.search(text) or orm_listener.search(text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_core_imports_no_feature_package():
    feature = re.compile(
        r"^\s*(from|import) (events|courses|certificates|projects|reports)\b", re.M
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "webapp").rglob("*.py")
        if path.name != "__init__.py" and feature.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
