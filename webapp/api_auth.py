"""Who is calling a staff JSON API: a personal bearer token, or the signed-in browser.

    Authorization: Bearer <token>          a check-in app with a token from the profile page
    session cookie + X-CSRFToken header    the staff's own page in the browser

A request that carries an Authorization header is judged by it alone: a bad token is a
401, never a fall-back to the cookie. Tokens open only the views that ask for them here,
never the rest of the site (no Flask-Login request loader).
"""

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf

from webapp import services
from webapp.errors import ServiceError
from webapp.models import User

CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


class ApiAuthError(ServiceError):
    """Why the caller is not let in: the HTTP status, a stable reason code and a message."""

    def __init__(self, status: int, reason: str, message=None):
        super().__init__(reason, message)
        self.status = status


def _bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header; "" for any other Authorization."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def caller() -> User | None:
    """The user the request speaks for, before any CSRF check (once per request)."""
    if "api_caller" not in g:
        token = _bearer_token()
        if token is not None:
            g.api_caller = services.user_for_api_token(token) if token else None
        elif current_user.is_authenticated:
            g.api_caller = current_user._get_current_object()
        else:
            g.api_caller = None
    return g.api_caller


def uses_bearer_token() -> bool:
    return _bearer_token() is not None


def api_user() -> User:
    """The authenticated caller; raises ApiAuthError: 401 without valid credentials, 400
    when a browser's request lacks its CSRF token."""
    user = caller()
    if user is None:
        if uses_bearer_token():
            raise ApiAuthError(401, "unauthorized", _l("The API token is invalid or revoked."))
        raise ApiAuthError(
            401, "unauthorized", _l("Sign in, or send a personal API token as a bearer token.")
        )
    if not uses_bearer_token() and current_app.config.get("WTF_CSRF_ENABLED", True):
        sent = next((request.headers[h] for h in CSRF_HEADERS if request.headers.get(h)), None)
        try:
            validate_csrf(sent)
        except ValidationError as error:
            raise ApiAuthError(
                400, "csrf", _l("The page has expired. Please reload it and try again.")
            ) from error
    return user


def rate_limit_key() -> str:
    """Limits count per person (a door's scanners may share one address), else per address."""
    user = caller()
    return f"user:{user.id}" if user else f"ip:{get_remote_address()}"
