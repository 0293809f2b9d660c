"""Configuration from TROPA_* environment variables with safe defaults."""

import os
import secrets
from pathlib import Path

from webapp.urls import fallback_base_url


def _secret_key(instance_path: Path) -> str:
    """The key from the environment, else one generated once into instance/ (never committed).

    Several gunicorn workers may start at once: the first to create the file wins and the
    others read it, so all workers sign cookies with the same key.
    """
    if key := os.environ.get("TROPA_SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("TROPA_DATABASE_URL", f"sqlite:///{instance_path / 'tropa.db'}")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    max_upload_mb = int(os.environ.get("TROPA_MAX_UPLOAD_MB", "50"))
    base_url = os.environ.get("TROPA_BASE_URL", "").strip().rstrip("/")
    # Cookies only over HTTPS when the public address is HTTPS (or when told to).
    secure_cookies = _flag("TROPA_SECURE_COOKIES", base_url.startswith("https://"))
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # PostgreSQL's pooled connections are tested before use (a restarted server); a
        # SQLite file has no server to lose, and the test was a statement on every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "TROPA_TIMEZONE": os.environ.get("TROPA_TIMEZONE", "Europe/Moscow"),
        # The public address for links in mail, QR codes, calendars and certificates
        # (webapp.urls); empty: the request's own address. Required beyond loopback.
        "TROPA_BASE_URL": base_url,
        # Links made outside a request (the mail worker, the CLI) without TROPA_BASE_URL:
        # the address the server listens on (make run, tropa run and gunicorn.conf.py set it).
        "TROPA_FALLBACK_BASE_URL": fallback_base_url(
            os.environ.get("TROPA_HOST"), os.environ.get("TROPA_PORT")
        ),
        # the issuer printed on certificates and named in their signed credentials
        # Sites allowed to read the public API from a browser ("*": any; comma-separated).
        "TROPA_CORS_ORIGINS": [
            origin.strip().rstrip("/")
            for origin in os.environ.get("TROPA_CORS_ORIGINS", "*").split(",")
            if origin.strip()
        ],
        "TROPA_CENTRE_NAME": os.environ.get(
            "TROPA_CENTRE_NAME", "Центр поддержки социальных проектов Новгородской области"
        ),
        "TROPA_POLICY_VERSION": os.environ.get("TROPA_POLICY_VERSION", "2026-01"),
        "TROPA_PASSWORD_RESET_MAX_AGE": int(os.environ.get("TROPA_PASSWORD_RESET_MAX_AGE", "3600")),
        # Door check-in opens this long before a session starts, and closes at its end.
        "TROPA_CHECKIN_OPENS_MINUTES": int(os.environ.get("TROPA_CHECKIN_OPENS_MINUTES", "120")),
        # A course session's rotating self-check-in code is accepted from this long before
        # the start until the end.
        "TROPA_SELF_CHECKIN_OPENS_MINUTES": int(
            os.environ.get("TROPA_SELF_CHECKIN_OPENS_MINUTES", "15")
        ),
        # Wrong passwords only (a successful sign-in uses none): per account strictly, per
        # address generously (a class signs in at once behind one Wi-Fi). The first also
        # limits password-reset requests per address.
        "TROPA_LOGIN_RATE_LIMIT": os.environ.get("TROPA_LOGIN_RATE_LIMIT", "10 per minute"),
        "TROPA_LOGIN_ADDRESS_RATE_LIMIT": os.environ.get(
            "TROPA_LOGIN_ADDRESS_RATE_LIMIT", "100 per minute"
        ),
        # Per staff member: 8 scanners on one account at a scan a second each, plus a
        # phone's backlog of offline scans sent at once, stay well below it.
        # counts only unknown codes: slows down guessing, never a real lookup
        "TROPA_VERIFY_RATE_LIMIT": os.environ.get("TROPA_VERIFY_RATE_LIMIT", "20 per minute"),
        "TROPA_FEEDBACK_RATE_LIMIT": os.environ.get("TROPA_FEEDBACK_RATE_LIMIT", "30 per minute"),
        "TROPA_CHECKIN_RATE_LIMIT": os.environ.get("TROPA_CHECKIN_RATE_LIMIT", "1200 per minute"),
        "TROPA_MAIL_DIR": str(instance_path / "mail"),
        "MAIL_SERVER": os.environ.get("TROPA_MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("TROPA_MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("TROPA_MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("TROPA_MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _flag("TROPA_MAIL_USE_TLS", False),
        "MAIL_SENDER": os.environ.get("TROPA_MAIL_SENDER", "Tropa <noreply@tropa.local>"),
        # The outbox sender (webapp.outbox): tries a failing message again after 1, 2, 4...
        # minutes, and gives up after this many tries.
        "TROPA_MAIL_MAX_ATTEMPTS": int(os.environ.get("TROPA_MAIL_MAX_ATTEMPTS", "8")),
        "TROPA_MAIL_RETRY_SECONDS": int(os.environ.get("TROPA_MAIL_RETRY_SECONDS", "60")),
        # Reminders before each session, in hours ("24,1"; empty: none).
        "TROPA_REMINDER_HOURS": [
            int(hours)
            for hours in os.environ.get("TROPA_REMINDER_HOURS", "24,1").split(",")
            if hours.strip()
        ],
        "RATELIMIT_ENABLED": _flag("TROPA_RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": os.environ.get("TROPA_RATELIMIT_STORAGE", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BOOTSTRAP_BOOTSWATCH_THEME": None,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        # Course materials and task answers (webapp.storage): outside the static folder.
        "TROPA_FILES_DIR": os.environ.get("TROPA_FILES_DIR", str(instance_path / "files")),
        "TROPA_MAX_UPLOAD_MB": max_upload_mb,
        # A request may carry one upload plus its form.
        "MAX_CONTENT_LENGTH": (max_upload_mb + 10) * 1024 * 1024,
        "PAGE_SIZE": 12,
        **_production_settings(instance_path),
    }


def _production_settings(instance_path: Path) -> dict:
    """Settings of a deployment (README, Production; deploy/tropa.env.example)."""
    return {
        # The Ed25519 keys that sign credentials (certificates.services.signing_keys); with
        # several hosts, on shared storage like the files folder.
        "TROPA_CREDENTIAL_KEYS_DIR": os.environ.get(
            "TROPA_CREDENTIAL_KEYS_DIR", str(instance_path / "credential-keys")
        ),
        # More than one app host: refuses per-host state (webapp.deployment).
        "TROPA_SEVERAL_HOSTS": _flag("TROPA_SEVERAL_HOSTS", False),
        # How many proxies in front set X-Forwarded-* (nginx: 1); 0 trusts none.
        "TROPA_PROXY_COUNT": int(os.environ.get("TROPA_PROXY_COUNT", "0")),
        # /healthz answers 503 when the mail worker has been silent this long.
        "TROPA_WORKER_SILENT_SECONDS": int(os.environ.get("TROPA_WORKER_SILENT_SECONDS", "300")),
        # /metrics asks for this bearer token when set.
        "TROPA_METRICS_TOKEN": os.environ.get("TROPA_METRICS_TOKEN", ""),
        # One JSON line per request on the `tropa.request` logger (stderr); off by default
        # so that `make run` shows the development server's own lines only.
        "TROPA_REQUEST_LOG": _flag("TROPA_REQUEST_LOG", False),
    }
