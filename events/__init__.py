"""Events, sessions, registrations, tickets, check-in and attendance, calendar feeds."""

from flask import Flask

from webapp import signals


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from events.services import checkin, notifications, seats
    from events.views import bp

    app.register_blueprint(bp)
    signals.personal_data_requested.connect(seats.export_registrations)
    signals.person_anonymised.connect(seats.anonymise_registrations)
    signals.profile_changed.connect(notifications.reminders_follow_profile)  # language
    signals.api_token_rules.connect(checkin.is_staff_of_some_event)  # the door's staff
    signals.registration_changed.connect(notifications.reminders_follow_registration)
    signals.session_changed.connect(notifications.reminders_follow_session)
    signals.worker_tick.connect(notifications.send_due_mail)  # the mail registrations owe
    signals.deferred_work_counted.connect(notifications.count_mail_due)
    signals.mail_previews_requested.connect(notifications.mail_samples)
