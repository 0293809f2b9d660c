"""Events, sessions, registrations, tickets, check-in and attendance, calendar feeds."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from events.views import bp

    app.register_blueprint(bp)
