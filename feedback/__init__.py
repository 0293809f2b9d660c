"""Feedback after sessions and events: forms, invitations by e-mail, answers, results."""

from flask import Flask

from webapp import signals


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from feedback import services
    from feedback.demo import load_demo_feedback
    from feedback.views import bp

    app.register_blueprint(bp)
    signals.worker_tick.connect(services.invite_attendees)  # invitations after sessions end
    signals.mail_previews_requested.connect(services.mail_samples)
    signals.personal_data_requested.connect(services.export_feedback)
    signals.person_anonymised.connect(services.forget_free_text)
    signals.demo_data_loading.connect(load_demo_feedback)

    @app.context_processor
    def feedback_links():
        """For the ticket page and My learning: feedback_links([registration ids])."""
        return {"feedback_links": services.links_for}
