"""Certificate templates, issuing, PDF rendering, verification and signed credentials."""

from flask import Flask

from webapp import signals


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from certificates.demo import load_demo_certificates
    from certificates.services import batches, issuing
    from certificates.views import bp
    from certificates.views.keys import keys_cli

    app.register_blueprint(bp)
    app.cli.add_command(keys_cli)
    signals.course_completed.connect(issuing.issue_for_completions)  # due, after commit
    signals.attendance_marked.connect(issuing.issue_for_attendance)  # participation: due
    signals.worker_tick.connect(issuing.issue_due_certificates)  # what after commit left
    signals.deferred_work_counted.connect(issuing.count_due_certificates)
    signals.worker_tick.connect(batches.continue_quiet_batch)  # a batch whose page closed
    signals.deferred_work_counted.connect(batches.count_quiet_batches)
    signals.mail_previews_requested.connect(issuing.mail_samples)
    signals.demo_data_loading.connect(load_demo_certificates)
