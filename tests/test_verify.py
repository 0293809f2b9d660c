"""Public verification: /verify/<code>, its JSON status, the signed Open Badges credential
and the JWKS it verifies against (checked with joserfc, a JOSE library of its own)."""

import base64
import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import BadSignatureError
from sqlalchemy import select

from certificates.models import Certificate, TemplateKind
from certificates.services import issuing, signing_keys
from courses import services as course_services
from courses.services import completion
from events.services import seats
from tests.certificates_support import jwks_key_of, pdf_text
from tests.events_support import decode, pdf_page_images
from webapp.extensions import db
from webapp.services import random_secret
from webapp.types import utcnow

from .conftest import login, make_user

HOLDER = "Ёлкина Анна-Мария Сергеевна"


def make_certificate(course, *, email="anna@example.org", number=7, **changes) -> Certificate:
    user = make_user(email, name=HOLDER)
    registration = seats.register(
        course.id, full_name=HOLDER, email=user.email, user_id=user.id
    ).registration
    certificate = Certificate(
        registration_id=registration.id,
        event_id=course.id,
        user_id=user.id,
        kind=TemplateKind.COURSE,
        year=2026,
        number=number,
        code=random_secret(),
        snapshot={
            "holder_name": HOLDER,
            "title": course.title,
            "kind": "course",
            "programme": "Акселератор 2026",
            "hours": 36,
            "starts_on": "2026-03-02",
            "ends_on": "2026-04-20",
            "issued_on": "2026-04-21",
            "serial": f"2026-{number:06d}",
            "issuer": "Центр поддержки социальных проектов",
            "trainers": ["Орлова Ирина Павловна"],
            "template_version": 1,
            "version": 1,
        },
        **changes,
    )
    db.session.add(certificate)
    db.session.commit()
    return certificate


def test_a_valid_certificate_shows_what_it_certifies_and_nothing_private(client, course):
    certificate = make_certificate(course)
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert 'data-status="valid"' in page
    assert HOLDER in page and course.title in page and "2026-000007" in page
    assert "36" in page and "2 марта 2026" in page
    assert "anna@example.org" not in page  # no other personal data


def test_a_revoked_certificate_says_so_with_the_date_and_reason(client, course):
    certificate = make_certificate(
        course, revoked_at=utcnow(), revoked_reason="Выдан по ошибке: курс не завершён"
    )
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert 'data-status="revoked"' in page and 'data-status="valid"' not in page
    assert "Выдан по ошибке: курс не завершён" in page
    assert client.get(f"/verify/{certificate.code}/status.json").get_json()["status"] == "revoked"
    assert client.get(f"/verify/{certificate.code}/credential.jwt").status_code == 410


def test_a_code_read_aloud_in_capitals_or_with_look_alikes_still_verifies(client, course):
    certificate = make_certificate(course)
    typed = certificate.code.upper().replace("1", "I").replace("0", "O")
    assert 'data-status="valid"' in client.get(f"/verify/{typed}").get_data(as_text=True)


@pytest.mark.parametrize("code", ["tampered", "a" * 26, "x" * 500, "%3Cscript%3E", "abc.def", "  "])
def test_unknown_or_tampered_codes_are_a_plain_not_found(client, course, code):
    make_certificate(course)
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404
    assert 'id="not-found"' in response.get_data(as_text=True)
    assert client.get(f"/verify/{code}/status.json").get_json() == {"status": "not_found"}


def test_a_changed_character_of_a_real_code_is_not_found(client, course):
    code = make_certificate(course).code
    tampered = code[:-1] + ("a" if code[-1] != "a" else "b")
    assert client.get(f"/verify/{tampered}").status_code == 404


def test_guessing_codes_is_rate_limited_but_real_lookups_are_not_counted(make_app, course):
    certificate = make_certificate(course)
    limited = make_app({"RATELIMIT_ENABLED": True, "TROPA_VERIFY_RATE_LIMIT": "3 per minute"})
    with limited.app_context():
        client = limited.test_client()
        for _ in range(5):  # lookups of a real code are not deducted
            assert client.get(f"/verify/{certificate.code}").status_code == 200
        assert [client.get(f"/verify/guess{n}").status_code for n in range(4)] == [
            404,
            404,
            404,
            429,
        ]


def test_the_status_json_carries_the_facts_for_scripts(client, course):
    certificate = make_certificate(course)
    answer = client.get(f"/verify/{certificate.code}/status.json").get_json()
    assert answer["status"] == "valid"
    assert answer["serial"] == "2026-000007" and answer["holder"] == HOLDER
    assert answer["hours"] == 36 and answer["starts_on"] == "2026-03-02"


def test_the_credential_is_a_signed_open_badge_that_verifies_against_the_jwks(client, course):
    certificate = make_certificate(course)
    response = client.get(f"/verify/{certificate.code}/credential.jwt")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    token = response.get_data(as_text=True)
    key = jwks_key_of(client, token)

    verified = jwt.decode(token, key, algorithms=["EdDSA"])
    claims = verified.claims
    credential = claims["vc"]
    assert verified.header["alg"] == "EdDSA" and verified.header["typ"] == "vc+jwt"
    assert verified.header["kid"] == f"http://tropa.test/.well-known/jwks.json#{key.kid}"
    assert claims["sub"] == credential["credentialSubject"]["id"]
    assert claims["sub"].startswith("urn:uuid:")
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"http://tropa.test/verify/{certificate.code}" == claims["jti"]
    assert credential["credentialSubject"]["name"] == HOLDER
    assert credential["credentialSubject"]["achievement"]["name"] == course.title
    assert credential["credentialSubject"]["creditsEarned"] == 36
    assert claims["iss"] == credential["issuer"]["id"] == "http://tropa.test"
    assert "Завершил" in credential["credentialSubject"]["achievement"]["criteria"]["narrative"]


def test_a_tampered_credential_does_not_verify(client, course):
    certificate = make_certificate(course)
    token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["vc"]["credentialSubject"]["name"] = "Иванов Иван Иванович"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    key = jwks_key_of(client, token)
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", key, algorithms=["EdDSA"])


def test_the_first_key_is_created_once_even_when_workers_race(make_app):
    fresh = make_app()  # an instance folder of its own, without keys yet
    with fresh.app_context():
        assert signing_keys.keys_dir() == Path(fresh.instance_path) / "credential-keys"
    # the race is won in microseconds: twenty empty folders, eight workers at each
    for round_ in range(20):
        if round_:
            fresh.config["TROPA_CREDENTIAL_KEYS_DIR"] = str(
                Path(fresh.instance_path) / f"k{round_}"
            )
        _race_for_the_first_key(fresh)


def _race_for_the_first_key(app) -> None:
    start, errors = threading.Barrier(8), []
    threads = [
        threading.Thread(target=_current_kid_in, args=(app, start, errors)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # a worker that read `current` between its creation and its content loaded "None.pem"
    assert errors == []
    with app.app_context():
        folder = signing_keys.keys_dir()
    pems = list(folder.glob("*.pem"))
    assert len(pems) == 1 and b"PRIVATE KEY" in pems[0].read_bytes()
    assert (folder / "current").read_text().strip() == pems[0].stem
    assert oct(pems[0].stat().st_mode & 0o777) == "0o600"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


def _current_kid_in(app, start: threading.Barrier, errors: list) -> None:
    with app.app_context():
        start.wait()
        try:
            signing_keys.current_key()
        except Exception as error:  # noqa: BLE001 - the test reports what each thread met
            errors.append(error)


def test_an_instance_from_before_rotation_keeps_its_key(make_app):
    fresh = make_app()
    legacy = Ed25519PrivateKey.generate()
    pem = legacy.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (Path(fresh.instance_path) / signing_keys.LEGACY_KEY_FILE).write_bytes(pem)
    with fresh.app_context():
        assert signing_keys.current_key().kid == signing_keys.thumbprint(legacy)


def test_completing_a_course_gives_a_certificate_whose_qr_code_leads_to_valid_then_revoked(
    client, make_course, users
):
    """The issue's whole path: completion → certificate in the same commit → its PDF names
    the person, course and serial → its printed QR code is the verification URL, which
    says VALID, and REVOKED with the reason once revoked."""
    course = make_course(title="Маркетинг для НКО", requires_signoff=True)
    participant = users["participant"]
    registration = course_services.enrol(course, participant).registration
    completion.sign_off(registration, users["trainer"])
    assert completion.completion_state(registration).complete
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.registration_id == registration.id)
    )
    assert certificate is not None and not certificate.revoked

    login(client, participant)
    pdf = client.get(f"/certificates/{certificate.id}.pdf").data
    text = pdf_text(pdf)
    assert "Анна Смирнова" in text and "Маркетинг для НКО" in text and certificate.serial in text
    [url] = [found for found in decode(pdf_page_images(pdf)[0]) if "/verify/" in found]
    assert url == f"http://tropa.test/verify/{certificate.code}"
    assert 'data-status="valid"' in client.get(urlsplit(url).path).get_data(as_text=True)

    issuing.revoke(certificate.id, "Сертификат выдан по ошибке", users["organiser"])
    db.session.commit()
    page = client.get(urlsplit(url).path).get_data(as_text=True)
    assert 'data-status="revoked"' in page and "Сертификат выдан по ошибке" in page
