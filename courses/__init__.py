"""Programmes, courses (an Event subtype), enrolment, materials, progress and completion."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from courses.views import bp

    app.register_blueprint(bp)
