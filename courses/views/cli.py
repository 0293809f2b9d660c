"""`tropa demo-data`."""

import click
from flask_babel import gettext as _

from courses import demo
from courses.views import bp


@bp.cli.command("demo-data")
def demo_data():
    """Create a demo training centre (once) and print the demo logins."""
    summary = demo.load_demo_data()
    if summary.created:
        click.echo(
            _(
                "Demo data created: %(programmes)d programmes, %(courses)d courses, "
                "%(users)d users, %(organisations)d organisations, %(enrolments)d enrolments.",
                programmes=summary.programmes,
                courses=summary.courses,
                users=summary.users,
                organisations=summary.organisations,
                enrolments=summary.enrolments,
            )
        )
        click.echo(
            _(
                "Demo events: %(events)d, with %(registrations)d registrations.",
                events=summary.events,
                registrations=summary.event_registrations,
            )
        )
        for line in summary.extra:
            click.echo(line)
    else:
        click.echo(_("Demo data is already there: nothing changed."))
    click.echo(_("Demo logins (password: %(password)s):", password=demo.DEMO_PASSWORD))
    for role, email in demo.DEMO_LOGINS:
        click.echo(f"  {role.label:<16} {email}")
