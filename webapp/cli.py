"""The `tropa` command: Flask's CLI bound to the app factory, plus Tropa's own commands.

`tropa run`, `tropa db upgrade` (Flask-Migrate), `tropa demo-data` (courses),
`tropa create-user`, `tropa signals` (who reacts to what), the mail sender: `tropa worker`
(runs on) and `tropa send-due` (once, for cron), and `tropa backup PATH` / `tropa restore
PATH` (webapp.backup).
"""

import os
from pathlib import Path

import click
from flask.cli import FlaskGroup, run_command, with_appcontext

from webapp import backup as backups
from webapp import create_app, health, outbox, services, signals
from webapp.models import Role
from webapp.urls import BaseUrlRequired, check_listen_address


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def main():
    """Tropa: courses, events, attendance and certificates."""


@main.command("run", params=list(run_command.params), help=run_command.help)
@click.pass_context
def run(ctx: click.Context, **options):
    """Flask's `run`, refusing an address beyond loopback without TROPA_BASE_URL."""
    try:
        check_listen_address(options["host"], os.environ.get("TROPA_BASE_URL"))
    except BaseUrlRequired as refusal:
        raise click.UsageError(str(refusal)) from None
    # Links made outside a request (webapp.urls) name the address we listen on.
    os.environ.setdefault("TROPA_HOST", options["host"])
    os.environ.setdefault("TROPA_PORT", str(options["port"]))
    ctx.invoke(run_command, **options)


@main.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Full name")
@click.option("--password", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([role.value for role in Role]),
    help="Repeatable; replaces the user's roles. Default: participant.",
)
@with_appcontext
def create_user(email: str, name: str, password: str, roles: tuple[str, ...]):
    """Create or update a user (set-up scripts and support)."""
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    user = services.create_or_update_user(email, name=name, password=password, roles=roles)
    click.echo(f"{user.email}: {', '.join(sorted(user.roles))}")


@main.command("send-due")
@with_appcontext
def send_due():
    """Send the e-mail that is due now, once (for cron)."""
    report = outbox.send_due()
    health.beat()  # a worker run by cron is watched by /healthz like `tropa worker`
    click.echo(f"sent {report.sent}, to retry {report.retry}, failed {report.failed}")
    for error in report.errors:
        click.echo(error, err=True)


@main.command("worker")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between looks.")
@with_appcontext
def worker(poll: float):
    """Send e-mail from the outbox as it falls due, until stopped."""
    outbox.run_worker(poll_seconds=poll)


@main.command("signals")
@with_appcontext
def list_signals():
    """Who reacts to what: each named signal and the receivers connected to it."""
    for signal in signals.ALL:
        click.echo(signal.name)
        for receiver in signal.receivers_for(None):
            click.echo(f"    {receiver.__module__}.{receiver.__qualname__}")


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path):
    """Write one archive: the database, the files, the secret key and the signing keys,
    with a manifest of checksums. It holds secrets: keep it like one."""
    try:
        manifest = backups.backup(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{path}: {len(manifest['checksums'])} members, {manifest['database_backend']}")


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an instance that is not empty.")
@with_appcontext
def restore(path: Path, force: bool):
    """Bring an archive of `tropa backup` back into this (empty) instance; stop the app
    and the worker first."""
    try:
        summary = backups.restore(path, force=force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"restored {summary.tables} tables, {summary.files} files, {summary.keys} keys; "
        f"schema {summary.schema_revision}: run `tropa db upgrade` if the code is newer"
    )
