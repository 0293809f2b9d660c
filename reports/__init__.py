"""The monitoring dashboard and the funder's workbook (reads every package)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from reports.views import bp

    app.register_blueprint(bp)
