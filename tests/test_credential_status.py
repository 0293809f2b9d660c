"""Revocation that reaches offline verifiers, the OB 3.0 schema, and key rotation — all
checked with independent libraries: joserfc for the signatures, jsonschema with 1EdTech's
official AchievementCredential schema (tests/schemas, vendored unchanged)."""

import base64
import gzip
import json
from pathlib import Path

import jsonschema
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from certificates.services import issuing, signing_keys
from tests.certificates_support import jwks_key_of
from tests.test_verify import make_certificate
from webapp.cli import main

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential_schema.json").read_text()
)
STATUS_LIST = "/credentials/status/revocation"


def verified_claims(client, token: str) -> dict:
    return jwt.decode(token, jwks_key_of(client, token), algorithms=["EdDSA"]).claims


def status_bit(client, entry: dict) -> int:
    """What a verifier does with a credentialStatus entry: fetch the list, check its
    signature, decode the bitstring, read the bit."""
    assert entry["statusListCredential"] == f"http://tropa.test{STATUS_LIST}"
    response = client.get(STATUS_LIST)
    assert response.status_code == 200 and response.content_type == "application/vc+jwt"
    claims = verified_claims(client, response.get_data(as_text=True))
    listing = claims["vc"]
    assert listing["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listing["id"] == claims["jti"] == entry["statusListCredential"]
    subject = listing["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["encodedList"].startswith("u")  # multibase base64url
    encoded = subject["encodedList"][1:]
    bitstring = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert len(bitstring) * 8 >= 131_072
    index = int(entry["statusListIndex"])
    return (bitstring[index // 8] >> (7 - index % 8)) & 1


def test_the_status_list_says_revoked_after_revoke(client, course):
    certificate = make_certificate(course)
    other = make_certificate(course, email="boris@example.org", number=8)
    token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    entry = verified_claims(client, token)["vc"]["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert status_bit(client, entry) == 0

    issuing.revoke(certificate.id, "Выдан по ошибке", None)

    # the credential downloaded before still verifies by its signature, but the list says
    assert verified_claims(client, token)["sub"].startswith("urn:uuid:")
    assert status_bit(client, entry) == 1
    other_token = client.get(f"/verify/{other.code}/credential.jwt").get_data(as_text=True)
    assert status_bit(client, verified_claims(client, other_token)["vc"]["credentialStatus"]) == 0


def test_a_reissue_keeps_the_index_and_the_subject(client, course):
    certificate = make_certificate(course)
    before = verified_claims(
        client, client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    )
    issuing.reissue(certificate.id, None)
    after = verified_claims(
        client, client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    )
    assert after["vc"]["credentialStatus"] == before["vc"]["credentialStatus"]
    assert after["sub"] == before["sub"] == after["vc"]["credentialSubject"]["id"]
    assert status_bit(client, after["vc"]["credentialStatus"]) == 0


def test_the_status_list_is_cached_by_etag(client, course):
    certificate = make_certificate(course)
    first = client.get(STATUS_LIST)
    assert first.headers["ETag"]
    again = client.get(STATUS_LIST, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    issuing.revoke(certificate.id, "Ошибка", None)
    changed = client.get(STATUS_LIST, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_the_credential_validates_against_the_official_achievement_credential_schema(
    client, course
):
    certificate = make_certificate(course)
    token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    credential = verified_claims(client, token)["vc"]
    validator = jsonschema.Draft201909Validator(SCHEMA)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(credential)]
    assert errors == []
    # and the schema is not a rubber stamp: a subject without its achievement fails it
    del credential["credentialSubject"]["achievement"]
    assert not validator.is_valid(credential)


@pytest.fixture
def fresh(make_app):
    """An app with an instance folder (and so keys) of its own, and its `tropa` runner."""
    other = make_app()
    runner = other.test_cli_runner()
    with other.app_context():
        yield other, lambda *args: runner.invoke(main, list(args))


def test_rotation_publishes_old_and_new_keys_and_old_credentials_still_verify(fresh, course):
    app, tropa = fresh
    client = app.test_client()
    certificate = make_certificate(course)
    old_token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    old_kid = signing_keys.current_key().kid

    result = tropa("keys", "rotate")
    assert result.exit_code == 0, result.output
    new_kid = signing_keys.current_key().kid
    assert new_kid != old_kid and new_kid in result.output

    published = [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert published == [new_kid, old_kid]
    new_token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    assert jwks_key_of(client, new_token).kid == new_kid
    assert verified_claims(client, new_token)["jti"] == verified_claims(client, old_token)["jti"]

    listed = tropa("keys", "list").output.splitlines()
    assert listed[0].startswith(new_kid) and listed[0].endswith("current")
    assert listed[1].startswith(old_kid) and listed[1].endswith("published")

    refused = tropa("keys", "retire", "--", new_kid)
    assert refused.exit_code != 0 and "current" in refused.output
    assert tropa("keys", "retire", "no-such-key").exit_code != 0

    assert tropa("keys", "retire", "--", old_kid).exit_code == 0
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [key["kid"] for key in jwks["keys"]] == [new_kid]
    with pytest.raises((BadSignatureError, ValueError)):
        # the retired key is gone: nothing in the JWKS verifies the old credential
        jwt.decode(old_token, KeySet.import_key_set(jwks).keys[0], algorithms=["EdDSA"])
    verified_claims(client, new_token)
