"""Certificate templates, issuing, PDF rendering, verification and signed credentials."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from certificates.views import bp

    app.register_blueprint(bp)
