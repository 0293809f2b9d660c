"""Start-up rules of a deployment: the proxy in front, and nothing host-local when several
app hosts serve one database (README, Production).

With TROPA_SEVERAL_HOSTS=1 the app refuses to start while a setting would keep state on
one host: rate limits counted in memory (each host would allow the whole budget), a
secret key generated into one host's instance folder (a session made on one host would be
refused by the next), SQLite (one host's file).
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class DeploymentError(RuntimeError):
    """A setting that cannot work in this deployment; the message says what to set."""


def init_app(app: Flask, secret_key_from_environment: bool) -> None:
    if app.config["TROPA_SEVERAL_HOSTS"]:
        _check_several_hosts(app, secret_key_from_environment)
    proxies = app.config["TROPA_PROXY_COUNT"]
    if proxies:
        # Trust X-Forwarded-For/-Proto/-Host/-Port from that many proxies (nginx: 1), so
        # remote_addr (rate limits, logs) is the client and url_for(_external) says https.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )


def _check_several_hosts(app: Flask, secret_key_from_environment: bool) -> None:
    problems = []
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        problems.append(
            "TROPA_RATELIMIT_STORAGE is memory://: set it to the shared Redis "
            "(redis://host:6379/0) so every host counts the same login attempts"
        )
    if not secret_key_from_environment:
        problems.append("TROPA_SECRET_KEY is not set: give every host the same key")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append("TROPA_DATABASE_URL is SQLite: several hosts need PostgreSQL")
    if problems:
        raise DeploymentError(
            "TROPA_SEVERAL_HOSTS=1, but: " + "; ".join(problems) + " (README, Production)"
        )
