"""Absolute URLs: one rule for every link that leaves the page (mail, QR codes, tickets,
calendars, certificates and their credentials, the API's `url` fields).

The base is TROPA_BASE_URL when set. Otherwise, in a request, the address the request came
to; outside one (the mail worker, the CLI), the address the server was started on:
TROPA_HOST and TROPA_PORT, which `make run`, `tropa run` and gunicorn.conf.py set
(default http://127.0.0.1:5000).

Without TROPA_BASE_URL, a request's Host header would choose the links Tropa mails and
prints, and the worker would print the server's own address; so a server listening on
anything but loopback refuses to start without it (check_listen_address, called by
gunicorn.conf.py and `tropa run`).
"""

import ipaddress

from flask import current_app, has_request_context, request, url_for

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def base_url() -> str:
    """Scheme, host and port (and a path prefix, if configured) without a trailing slash."""
    if configured := current_app.config.get("TROPA_BASE_URL"):
        return configured
    if has_request_context():
        return request.url_root.rstrip("/")
    return current_app.config["TROPA_FALLBACK_BASE_URL"]


def absolute_url(path: str) -> str:
    """`path` (starting with /) on the base URL."""
    return base_url() + path


def absolute_url_for(endpoint: str, **values) -> str:
    """url_for() on the base URL; works outside a request too (the worker, the CLI)."""
    if has_request_context():
        path = url_for(endpoint, **values, _external=False)
        path = path.removeprefix(request.script_root)  # the base URL carries any prefix
    else:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return absolute_url(path)


def fallback_base_url(host: str | None, port: str | int | None) -> str:
    """The server's own address, for links made outside a request."""
    host = host or DEFAULT_HOST
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  every interface: loopback is one of them
        host = DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port or DEFAULT_PORT}"


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BaseUrlRequired(RuntimeError):
    """The server would listen beyond loopback without TROPA_BASE_URL."""


def check_listen_address(host: str, configured_base_url: str | None) -> None:
    """Refuse a server on a non-loopback address (or a Unix socket, i.e. behind a proxy)
    without TROPA_BASE_URL: links in mail, QR codes and certificates would follow whatever
    Host a request names."""
    if (configured_base_url or "").strip() or is_loopback(host):
        return
    raise BaseUrlRequired(
        f"Tropa will not listen on {host} without TROPA_BASE_URL: the links it mails and "
        "prints (tickets, QR codes, calendars, certificates) must name the public address. "
        "Set TROPA_BASE_URL=https://your-public-address (and TROPA_SECRET_KEY, "
        "TROPA_RATELIMIT_STORAGE; see README, Production), or listen on 127.0.0.1 to try "
        "Tropa on this machine."
    )
