"""Response headers for every answer: the Content-Security-Policy of HTML pages, no caching
of private pages, and CORS with short caching for the public API.

Rules for templates (the policy below enforces them):
- scripts come from static files; an inline <script> or <style> needs
  nonce="{{ csp_nonce() }}" (a <script type="application/json"> data block needs none);
- no inline event handlers (onclick=, onsubmit=...): a form or button that asks first
  carries data-confirm="..." (webapp/static/js/confirm.js asks);
- style="..." attributes are allowed (style-src-attr 'unsafe-inline'): progress bars carry
  their computed width, and the admin's mail preview shows the mail's own inline styles.
  They cannot run code; every other style needs 'self' or the nonce.
"""

import hashlib
import secrets

from flask import current_app, g, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'nonce-{nonce}'; "
    "style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "media-src 'self' blob:; "
    "connect-src 'self'; "
    "font-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'self'"
)
PUBLIC_API_MAX_AGE = 60
# Pages whose URL is a secret (tickets, personal calendar feeds): private to whoever has it.
SECRET_URL_PREFIXES = ("/t/", "/calendar/")


def csp_nonce() -> str:
    """This response's nonce, for an inline <script> or <style> in a template."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def init_app(app) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_headers)


def add_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
            nonce=csp_nonce()
        )
    if _is_static():
        response.headers.setdefault("Cache-Control", "public, max-age=86400")
    elif _is_public_api():
        response = _public_api(response)
    elif _is_private() and "ETag" not in response.headers:
        # Feeds keep their revalidation (ETag, "private, no-cache"); nothing else is stored.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _is_static() -> bool:
    return (request.endpoint or "").endswith("static")


def _is_public_api() -> bool:
    path = request.path
    return request.method in ("GET", "HEAD", "OPTIONS") and (
        (path.startswith("/api/v1/") and path != "/api/v1/checkin")
        or path == "/.well-known/jwks.json"
    )


def _is_private() -> bool:
    # An API answer that is not public is a person's (asked first: the door's scans need not
    # load a signed-in user to know it).
    path = request.path
    return (
        path.startswith(SECRET_URL_PREFIXES)
        or path.startswith("/api/")
        or current_user.is_authenticated
    )


def _public_api(response):
    """CORS for the centre's website (no cookies), and an ETag with a minute of caching:
    the site's visitors ask often, the answers change slowly."""
    allowed = current_app.config["TROPA_CORS_ORIGINS"]
    origin = request.headers.get("Origin")
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "86400"
        return response
    if response.status_code == 200:
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_API_MAX_AGE}"
        response.make_conditional(request)
    return response
