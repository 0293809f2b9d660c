"""Outcomes of projects: the entry audit (support level 1, re-taken at level moves) and the
projects' stories with their public pages /stories/ and GET /api/v1/stories."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and connect the receivers (called by projects.init_app)."""
    from projects.outcomes import stories
    from projects.outcomes.views import bp

    app.register_blueprint(bp)

    @app.context_processor
    def latest_stories():
        """For the home page: latest_stories(3)."""
        return {"latest_stories": stories.latest}
