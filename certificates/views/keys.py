"""`tropa keys list | rotate | retire KID`: the credential signing keys
(certificates.services.signing_keys)."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from certificates.services import signing_keys

keys_cli = AppGroup("keys", help="The Ed25519 keys that sign credentials.")


@keys_cli.command("list")
def list_keys():
    """The published keys, the current (signing) one first."""
    for number, key in enumerate(signing_keys.published_keys()):
        created = datetime.fromtimestamp(key.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{key.kid}  {created}  {'current' if number == 0 else 'published'}")


@keys_cli.command("rotate")
def rotate():
    """Sign with a new key from now on; the old ones stay published (their credentials
    still verify) until retired."""
    key = signing_keys.rotate()
    click.echo(f"current: {key.kid}")


@keys_cli.command("retire")
@click.argument("kid")
def retire(kid: str):
    """Remove a key from the JWKS for good: credentials it signed stop verifying.
    A kid may begin with "-": write `tropa keys retire -- KID`."""
    try:
        signing_keys.retire(kid)
    except signing_keys.UnknownKey:
        raise click.ClickException(f"no published key {kid}") from None
    except signing_keys.CurrentKeyRetired:
        raise click.ClickException(f"{kid} is the current key: rotate first") from None
    click.echo(f"retired: {kid}")
