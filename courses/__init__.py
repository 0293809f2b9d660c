"""Programmes, courses (an Event subtype), enrolment, materials, progress and completion."""

from flask import Flask

from webapp import signals


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from courses.services import catalogue, completion, courses_taught
    from courses.views import bp

    app.register_blueprint(bp)
    signals.taught_event_ids.connect(courses_taught)  # trainers' sessions in their feed
    signals.worker_tick.connect(completion.record_completions_by_time)  # a session ended
    # the catalogue's cached pages follow places left and dates
    signals.registration_changed.connect(catalogue.catalogue_follows_registration)
    signals.session_changed.connect(catalogue.catalogue_follows_session)
