"""Public verification: /verify/<code> (a page for people, a JSON status for machines), the
certificate as a signed Open Badges credential, the centre's public keys (JWKS) and the
revocation status list that offline verifiers check.

Unknown codes answer a plain 404, and only those count against a per-address rate limit:
guessing codes is slow, looking up real ones is not limited.
"""

from datetime import date

from flask import abort, current_app, jsonify, make_response, render_template, request
from flask_babel import format_date

from certificates.models import Certificate
from certificates.services import credentials
from certificates.views import bp
from webapp.extensions import limiter


def _verify_rate_limit() -> str:
    return current_app.config["TROPA_VERIFY_RATE_LIMIT"]


def _not_found(response) -> bool:
    return response.status_code == 404


def _certificate_or_404(code: str) -> Certificate:
    certificate = credentials.find_certificate(code)
    if certificate is None:
        abort(make_response(render_template("certificates/verify_not_found.html"), 404))
    return certificate


def _iso_date(value: str | None) -> str:
    return format_date(date.fromisoformat(value), "d MMMM y") if value else ""


@bp.route("/verify/<verification_code>")
@limiter.limit(_verify_rate_limit, deduct_when=_not_found)
def verify(verification_code: str):
    return _verify_page(_certificate_or_404(verification_code))


def _verify_page(certificate: Certificate, status: int = 200):
    snapshot = certificate.snapshot
    response = make_response(
        render_template(
            "certificates/verify.html",
            certificate=certificate,
            snapshot=snapshot,
            starts_on=_iso_date(snapshot.get("starts_on")),
            ends_on=_iso_date(snapshot.get("ends_on")),
            issued_on=_iso_date(snapshot.get("issued_on")),
        ),
        status,
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/verify/<verification_code>/status.json")
@limiter.limit(_verify_rate_limit, deduct_when=_not_found)
def verify_status(verification_code: str):
    """The same facts as the page, for a funder's or an employer's scripts."""
    certificate = credentials.find_certificate(verification_code)
    if certificate is None:
        return jsonify(status="not_found"), 404
    snapshot = certificate.snapshot
    return jsonify(
        status="revoked" if certificate.revoked else "valid",
        serial=certificate.serial,
        version=certificate.version,
        holder=snapshot["holder_name"],
        title=snapshot["title"],
        kind=certificate.kind.value,
        hours=snapshot.get("hours"),
        starts_on=snapshot.get("starts_on"),
        ends_on=snapshot.get("ends_on"),
        issued_on=snapshot.get("issued_on"),
        issuer=snapshot.get("issuer"),
        revoked_at=certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        revoked_reason=certificate.revoked_reason,
    )


@bp.route("/verify/<verification_code>/credential.jwt")
@limiter.limit(_verify_rate_limit, deduct_when=_not_found)
def credential(verification_code: str):
    """The Open Badges 3.0 credential as a VC-JWT file; a revoked certificate has none."""
    certificate = _certificate_or_404(verification_code)
    if certificate.revoked:
        return _verify_page(certificate, 410)
    response = make_response(credentials.credential_jwt(certificate))
    response.headers["Content-Type"] = "application/vc+jwt"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.serial}.jwt"'
    )
    return response


@bp.route("/.well-known/jwks.json")
def jwks():
    response = jsonify(credentials.jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route(credentials.STATUS_LIST_PATH)
def revocation_status_list():
    """The W3C Bitstring Status List of revocations, as a signed VC-JWT; cached by ETag."""
    token, etag = credentials.status_list_jwt()
    response = make_response(token)
    response.headers["Content-Type"] = "application/vc+jwt"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.set_etag(etag)
    return response.make_conditional(request)
