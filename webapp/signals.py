"""The app's named signals: how packages react to each other.

The core and lower packages send them; higher packages connect their receivers in their
`init_app(app)` (called by the app factory, see webapp.create_app), so who reacts to what is
visible in one place per package, and `tropa signals` / tests/test_signals.py list it.

Receivers run inside the sender's unit of work unless the signal says otherwise: keep them
to a few statements; slow work is queued as a job (webapp.jobs) and done after commit.
Signals whose receivers return something (exports, previews, rules) are collected with
`collect()`.
"""

from blinker import Namespace

tropa = Namespace()

# --- people ---------------------------------------------------------------------------
personal_data_requested = tropa.signal(
    "personal-data-requested",
    doc="sender: the User; each receiver returns a dict merged into the person's export",
)
person_anonymised = tropa.signal(
    "person-anonymised",
    doc="sender: the User being deleted, inside the deletion's unit: forget their data",
)
profile_changed = tropa.signal(
    "profile-changed",
    doc="sender: the User whose profile was saved, inside the saving unit; changed: the "
    "frozenset of fields whose value changed that others may keep a copy of ('locale')",
)
api_token_rules = tropa.signal(
    "api-token-rules",
    doc="sender: a User; a receiver returns True when that person checks people in",
)

# --- events, registrations, attendance -----------------------------------------------
registration_changed = tropa.signal(
    "registration-changed",
    doc="sender: a Registration whose status changed or that was created, inside the unit",
)
session_changed = tropa.signal(
    "session-changed",
    doc="sender: a Session created, moved, cancelled or restored, inside the unit",
)
attendance_marked = tropa.signal(
    "attendance-marked",
    doc="sender: None; registration_id, event_id: a person marked present or late, inside "
    "the check-in's unit (keep it to one insert at most: the door's hot path)",
)
taught_event_ids = tropa.signal(
    "taught-event-ids",
    doc="sender: a User; a receiver returns a SELECT of event ids the person teaches",
)

# --- courses and certificates ----------------------------------------------------------
course_completed = tropa.signal(
    "course-completed",
    doc="sender: None; completions: the CourseCompletion rows just recorded, inside the unit",
)

# --- the worker, mail and demo data ----------------------------------------------------
mail_previews_requested = tropa.signal(
    "mail-previews-requested",
    doc="sender: None; each receiver returns a list of webapp.outbox.Preview",
)
worker_tick = tropa.signal(
    "worker-tick",
    doc="sender: None; before each round of the worker; a receiver does a batch of its "
    "background work and returns how many items it did (0 when nothing is left)",
)
deferred_work_counted = tropa.signal(
    "deferred-work-counted",
    doc="sender: None; for /healthz (a GET: read only); a receiver returns a dict of its "
    "background work waiting for the worker, {name: count}",
)
demo_data_loading = tropa.signal(
    "demo-data-loading",
    doc="sender: None; after the core demo data; a receiver loads its package's demo rows "
    "and returns a one-line summary",
)

ALL = tuple(tropa[name] for name in sorted(tropa))


def collect(signal, sender=None, **kwargs) -> list:
    """The return values of every receiver. blinker keeps no order among receivers: a
    receiver that needs another's work first must call it itself."""
    return [value for _receiver, value in signal.send(sender, **kwargs)]
