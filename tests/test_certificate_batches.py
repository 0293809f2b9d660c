"""Bulk issue: a batch of 150 in steps with its progress, one ZIP of all the PDFs, steps
that are safe to repeat, and the progress page's JSON."""

import io
import time
import zipfile
from datetime import timedelta

import pytest

from certificates.models import BatchState, CertificateBatch
from certificates.services import batches, issuing
from courses import services as course_services
from tests.certificates_support import add_people, certificates_of, make_event
from tests.conftest import login, make_user
from webapp import outbox
from webapp.extensions import db
from webapp.types import utcnow

pytestmark = pytest.mark.usefixtures("english")  # assertions read the English texts

BULK = 150


def zip_names(content: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(content)).namelist()


def test_a_batch_of_150_issues_in_steps_and_zips_every_pdf(users, app_ctx):
    event = make_event()
    add_people(event, BULK, attended=True)
    add_people(event, 5)  # registered, never came: not eligible
    started = time.perf_counter()
    batch = batches.start_batch(event, users["organiser"])
    assert batch.total == BULK and batch.done == 0
    progress = []
    while batch.state == BatchState.RUNNING:
        batch = batches.run_batch_step(batch.id)
        progress.append(batch.done)
    seconds = time.perf_counter() - started
    assert progress == [25, 50, 75, 100, 125, 150]
    assert batch.state == BatchState.DONE and batch.issued == BULK
    assert batch.finished_at is not None
    names = zip_names(batches.zip_path(batch).read_bytes())
    assert len(names) == len(set(names)) == BULK
    assert all(name.endswith(".pdf") and "_Uchastnik_Nomer" in name for name in names)
    assert len(certificates_of(event.id)) == BULK
    zip_size = batches.zip_path(batch).stat().st_size
    print(f"\nbulk issue of {BULK} with ZIP: {seconds:.2f} s, ZIP {zip_size // 1024} KiB")


def test_a_repeated_step_issues_and_zips_nothing_twice(users, app_ctx):
    """A worker that died between zipping and committing its progress: the step runs
    again and finds its certificates and its files already there."""
    event = make_event()
    add_people(event, 30, attended=True)
    batch = batches.start_batch(event, users["organiser"])
    batches.run_batch_step(batch.id, chunk=20)
    db.session.get(CertificateBatch, batch.id).done = 0  # the progress never committed
    db.session.commit()
    batch = batches.run_batch_step(batch.id, chunk=20)
    assert (batch.done, batch.issued) == (20, 20)
    batch = batches.run_batch(batch.id, chunk=20)
    assert (batch.state, batch.done, batch.issued) == (BatchState.DONE, 30, 30)
    assert len(zip_names(batches.zip_path(batch).read_bytes())) == 30
    assert batches.run_batch_step(batch.id).done == 30  # a finished batch stays finished


def test_a_batch_whose_page_was_closed_is_finished_by_the_mail_worker(users, app_ctx):
    event = make_event()
    add_people(event, 30, attended=True)
    batch = batches.start_batch(event, users["organiser"])
    batches.run_batch_step(batch.id)  # the page made one step, then its tab was closed
    outbox.send_due()
    assert db.session.get(CertificateBatch, batch.id).done == 25, "a busy page's batch is its own"

    quiet = utcnow() - batches.QUIET_BEFORE_BACKGROUND - timedelta(seconds=1)
    db.session.get(CertificateBatch, batch.id).stepped_at = quiet
    db.session.commit()
    outbox.send_due()
    batch = db.session.get(CertificateBatch, batch.id, populate_existing=True)
    assert (batch.state, batch.done, batch.issued) == (BatchState.DONE, 30, 30)
    assert len(zip_names(batches.zip_path(batch).read_bytes())) == 30
    assert batches.continue_quiet_batch() == 0


def test_a_batch_counts_only_the_new_and_zips_all_but_the_revoked(users, app_ctx):
    event = make_event()
    ids = add_people(event, 4, attended=True)
    issuing.issue_now(ids[0])
    issuing.revoke(issuing.issue_now(ids[1]).id, "Дубликат", users["organiser"])
    db.session.commit()
    batch = batches.run_batch(batches.start_batch(event, None).id)
    assert (batch.total, batch.issued) == (4, 2)
    names = zip_names(batches.zip_path(batch).read_bytes())
    assert len(names) == 3
    assert not any(name.startswith(certificates_of(event.id)[1].serial) for name in names)


def test_a_course_batch_records_completions_first(users, course):
    people = [make_user(f"learner{n}@example.org", name=f"Щукин Ёж {n}") for n in range(3)]
    for person in people:
        course_services.enrol(course, person)
    batch = batches.start_batch(course, users["organiser"])  # completing issues them all
    batch = batches.run_batch(batch.id)
    assert (batch.total, batch.issued) == (3, 0)
    names = zip_names(batches.zip_path(batch).read_bytes())
    assert sorted(n.split("_", 1)[1] for n in names) == [
        "Shchukin_Ezh_0.pdf",
        "Shchukin_Ezh_1.pdf",
        "Shchukin_Ezh_2.pdf",
    ]


def test_nobody_eligible_is_said_plainly(client, users, app_ctx):
    event = make_event()
    add_people(event, 2)  # nobody came
    login(client, users["organiser"])
    response = client.post(f"/events/{event.id}/certificates/batch", follow_redirects=True)
    assert "Nobody is eligible" in response.get_data(as_text=True)
    off = make_event("Без сертификатов", certificates=False)
    response = client.post(f"/events/{off.id}/certificates/batch", follow_redirects=True)
    assert "not enabled" in response.get_data(as_text=True)


def test_the_progress_page_steps_to_the_zip(client, users, app_ctx):
    event = make_event()
    add_people(event, 30, attended=True)
    login(client, users["organiser"])
    response = client.post(f"/events/{event.id}/certificates/batch")
    assert response.status_code == 302
    page_url = response.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert 'class="progress-bar' in page and "0 of 30" in page
    batch_id = int(page_url.rsplit("/", 1)[1])
    steps = []
    while not steps or steps[-1]["state"] == "running":
        answer = client.post(f"/certificate-batches/{batch_id}/step")
        assert answer.status_code == 200
        steps.append(answer.get_json())
    assert [s["percent"] for s in steps] == [83, 100]
    assert steps[-1]["zip_url"] == f"/certificate-batches/{batch_id}.zip"
    download = client.get(steps[-1]["zip_url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert len(zip_names(download.data)) == 30
    assert "Download all PDFs" in client.get(page_url).get_data(as_text=True)
    # another organiser's event page shows the last batch; strangers are refused it all
    client.post("/logout")
    login(client, make_user("someone@example.org"))
    assert client.get(page_url).status_code == 403
    assert client.post(f"/certificate-batches/{batch_id}/step").status_code == 403
    assert client.get(f"/certificate-batches/{batch_id}.zip").status_code == 403


def test_a_zip_is_not_served_before_the_batch_is_done(client, users, app_ctx):
    event = make_event()
    add_people(event, 3, attended=True)
    batch = batches.start_batch(event, users["organiser"])
    login(client, users["organiser"])
    assert client.get(f"/certificate-batches/{batch.id}.zip").status_code == 404
