"""Social projects and their trajectories through the three levels of support."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from projects.views import bp

    app.register_blueprint(bp)
