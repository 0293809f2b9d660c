"""The courses' and certificates' write paths through the real server (gunicorn, two worker
processes) while another process writes all the time: enrol and cancel, a participant's
progress, and the certificates page's actions (issue, re-issue, revoke, bulk issue), many
at the same moment and each pressed twice. Every answer is the action done or refused with
a message, none a 5xx, and nothing is written twice."""

import io
import subprocess
import sys
import threading
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from certificates.models import BatchState, Certificate, CertificateBatch
from certificates.services import batches
from courses.models import CompletionRule, MaterialKind, MaterialProgress
from events.models import Registration, RegistrationStatus
from tests.certificates_support import add_people, make_event
from tests.conftest import PASSWORD, make_user
from tests.live_server import HTTP_TIMEOUT, csrf_token, gunicorn_server, http_session, sign_in
from tests.materials_support import add_material, add_module
from webapp.extensions import db
from webapp.models import OutboxMessage, Role

pytestmark = pytest.mark.concurrency

CAPACITY = 4
PARTICIPANTS = 8
GUESTS = 10  # at the event, present at its session: each may hold a certificate
ALERT = 'role="alert"'

# Another process writing all the time, as the mail worker draining an import does: one
# unit after another, each holding the write lock a while (on SQLite, the database's).
BACKGROUND_WRITER = """
import sys, time
from pathlib import Path
from sqlalchemy import update
from webapp import create_app
from webapp.extensions import db
from webapp.models import User
from webapp.transactions import unit_of_work

database_url, instance_path, user_id, stop_file = sys.argv[1:]
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url},
                 instance_path=instance_path)
writes = 0
with app.app_context():
    while not Path(stop_file).exists():
        with unit_of_work():
            db.session.execute(
                update(User).where(User.id == int(user_id)).values(phone=f"+7{writes:010d}")
            )
            time.sleep(0.02)
        writes += 1
        time.sleep(0.002)
print(writes)
"""


class BackgroundWriter:
    def __init__(self, app, user_id: int, scratch: Path):
        self.stop_file = scratch / "stop"
        self.process = subprocess.Popen(
            [
                sys.executable, "-c", BACKGROUND_WRITER, app.config["SQLALCHEMY_DATABASE_URI"],
                str(scratch / "writer"), str(user_id), str(self.stop_file),
            ],
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    def stop(self) -> int:
        """Stop it; how many units it committed."""
        self.stop_file.touch()
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err[-2000:]
        return int(out.strip())


def post(http: requests.Session, url: str, **data) -> requests.Response:
    return http.post(url, data=data, timeout=HTTP_TIMEOUT)


def answered_with_a_message(response) -> str | None:
    """None for an action done or refused with a message (the page it led to shows it);
    else what went wrong."""
    if isinstance(response, Exception):
        return repr(response)
    if response.status_code == 200 and ALERT in response.text:
        return None
    return f"{response.status_code} {response.url} {response.text[:300]}"


def all_at_once(actions: list) -> list:
    """Run the callables together (released by one barrier); their results or errors."""
    start = threading.Barrier(len(actions))

    def run(action):
        start.wait(timeout=HTTP_TIMEOUT)
        try:
            return action()
        except requests.RequestException as error:
            return error

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(run, actions))


def twin(http: requests.Session) -> requests.Session:
    """Another connection of the same signed-in person (a double click), with a cookie jar
    of its own: the message a POST flashes travels in the session cookie, and requests
    sharing one jar at once would carry each other's (or none) to the page they lead to."""
    other = http_session()
    other.cookies.update(http.cookies)
    return other


def test_courses_and_certificates_write_paths_under_a_busy_writer(app, make_course, tmp_path):
    course = make_course(title="Курс на 4 места", capacity=CAPACITY)
    material = add_material(
        add_module(course), MaterialKind.PAGE, "Чек-лист", completion=CompletionRule.MARKED_DONE
    )
    people = [make_user(f"learner{n}@example.org") for n in range(PARTICIPANTS)]
    organiser = make_user("organiser@example.org", Role.ORGANISER)
    writer_user = make_user("writer@example.org")
    event = make_event("Форум с сертификатами")
    guests = add_people(event, GUESTS, attended=True)
    course_id, material_id, event_id = course.id, material.id, event.id
    emails, writer_id, organiser_email = [p.email for p in people], writer_user.id, organiser.email
    db.session.commit()  # hold no transaction open while the server works
    course_url = f"/courses/{course_id}"
    done_url = f"{course_url}/materials/{material_id}/done"
    list_url = f"/events/{event_id}/certificates"

    writer = BackgroundWriter(app, writer_id, tmp_path)
    try:
        with gunicorn_server(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], workers=2
        ) as base:
            learners = [sign_in(base, email, PASSWORD) for email in emails]
            tokens = [csrf_token(http.get(base + course_url, timeout=30).text) for http in learners]
            staff = sign_in(base, organiser_email, PASSWORD)
            staff_token = csrf_token(staff.get(base + list_url, timeout=30).text)

            # 1. Everyone enrols at once, twice each; the organiser issues certificates to
            #    half the guests, each pressed twice.
            actions = []
            for http, token in zip(learners, tokens, strict=True):
                for session in (http, twin(http)):
                    actions.append(
                        lambda s=session, t=token: post(
                            s, f"{base}{course_url}/enrol", csrf_token=t
                        )
                    )
            for registration_id in guests[: GUESTS // 2]:
                for session in (twin(staff), twin(staff)):
                    url = f"{base}/registrations/{registration_id}/certificate"
                    actions.append(lambda s=session, u=url: post(s, u, csrf_token=staff_token))
            failures = [f for r in all_at_once(actions) if (f := answered_with_a_message(r))]
            assert failures == []

            # 2. The confirmed mark the material done (twice at once) while the others
            #    cancel; the organiser re-issues one certificate and revokes another, each
            #    twice, and starts the bulk issue of the rest.
            confirmed = confirmed_emails(course_id)
            certificates = certificate_ids(event_id)
            actions = []
            for email, http, token in zip(emails, learners, tokens, strict=True):
                if email in confirmed:
                    for session in (http, twin(http)):
                        actions.append(
                            lambda s=session, t=token: post(s, base + done_url, csrf_token=t)
                        )
                else:
                    url = f"{base}{course_url}/cancel"
                    actions.append(lambda s=http, t=token, u=url: post(s, u, csrf_token=t))
            reissue = f"{base}/certificates/{certificates[0]}/reissue"
            revoke = f"{base}/certificates/{certificates[1]}/revoke"
            for first, second in [(twin(staff), twin(staff)), (twin(staff), twin(staff))]:
                actions.append(lambda s=first: post(s, reissue, csrf_token=staff_token))
                actions.append(
                    lambda s=second: post(s, revoke, csrf_token=staff_token, reason="Дубль")
                )
            results = all_at_once(
                [*actions, lambda: post(staff, f"{base}{list_url}/batch", csrf_token=staff_token)]
            )
            batch_page = results.pop()
            failures = [f for r in results if (f := answered_with_a_message(r))]
            assert failures == []
            assert batch_page.status_code == 200, batch_page.text[:300]

            # 3. The progress page steps the batch (two tabs at once) until it is done.
            batch_id = latest_batch_id(event_id)
            step_url = f"{base}/certificate-batches/{batch_id}/step"
            for _ in range(GUESTS):
                steps = all_at_once(
                    [
                        lambda s=s: post(s, step_url, csrf_token=staff_token)
                        for s in (staff, twin(staff))
                    ]
                )
                assert all(not isinstance(s, Exception) and s.status_code == 200 for s in steps), [
                    getattr(s, "text", s) for s in steps
                ]
                if all(s.json()["state"] != "running" for s in steps):
                    break
            archive = staff.get(f"{base}/certificate-batches/{batch_id}.zip", timeout=30)
            assert archive.status_code == 200
    finally:
        writes = writer.stop()
    assert writes > 10, "the other process did write all along"

    db.session.expire_all()
    registrations = list(
        db.session.scalars(select(Registration).where(Registration.event_id == course_id))
    )
    assert Counter(r.email for r in registrations) == Counter(emails)  # one each
    assert len([r for r in registrations if r.status == RegistrationStatus.CONFIRMED]) <= CAPACITY
    done = db.session.scalars(
        select(MaterialProgress.registration_id).where(
            MaterialProgress.material_id == material_id, MaterialProgress.done_at.is_not(None)
        )
    ).all()
    assert sorted(done) == sorted(r.id for r in registrations if r.email in confirmed)
    # the course has no rules: marking done recorded their completion, and after that
    # unit committed, their certificates were issued
    course_holders = db.session.scalars(
        select(Certificate.registration_id).where(Certificate.event_id == course_id)
    ).all()
    assert sorted(course_holders) == sorted(done)

    held = list(db.session.scalars(select(Certificate).where(Certificate.event_id == event_id)))
    assert sorted(c.registration_id for c in held) == sorted(guests)  # one each
    by_id = {c.id: c for c in held}
    assert by_id[certificates[0]].version == 3  # re-issued twice, one after the other
    assert by_id[certificates[1]].revoked_reason == "Дубль"
    mails = Counter(
        db.session.scalars(
            select(OutboxMessage.registration_id).where(
                OutboxMessage.template == "certificates/mail/issued",
                OutboxMessage.registration_id.in_(guests),
            )
        )
    )
    reissued = by_id[certificates[0]].registration_id
    assert mails == Counter({rid: 3 if rid == reissued else 1 for rid in guests})
    batch = db.session.get(CertificateBatch, batch_id)
    assert batch.state == BatchState.DONE
    valid = [c for c in held if not c.revoked]
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == sorted(batches.pdf_filename(c) for c in valid)


def confirmed_emails(course_id: int) -> set[str]:
    db.session.expire_all()
    emails = set(
        db.session.scalars(
            select(Registration.email).where(
                Registration.event_id == course_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
    )
    db.session.rollback()
    return emails


def certificate_ids(event_id: int) -> list[int]:
    db.session.expire_all()
    ids = db.session.scalars(
        select(Certificate.id).where(Certificate.event_id == event_id).order_by(Certificate.id)
    ).all()
    db.session.rollback()
    return ids


def latest_batch_id(event_id: int) -> int:
    db.session.expire_all()
    batch_id = db.session.scalar(
        select(func.max(CertificateBatch.id)).where(CertificateBatch.event_id == event_id)
    )
    db.session.rollback()
    return batch_id
