"""What every gunicorn that serves Tropa does (gunicorn.conf.py in the checkout and
deploy/gunicorn.conf.py): refuse to serve beyond loopback without TROPA_BASE_URL
(webapp.urls), and tell the workers the address they listen on, for links made outside a
request."""

import os
import sys

from webapp.urls import BaseUrlRequired, check_listen_address


def refuse_public_address_without_base_url(server) -> None:
    """gunicorn's on_starting."""
    for address in server.cfg.bind:
        host = "unix" if address.startswith(("unix:", "fd://")) else address.rpartition(":")[0]
        try:
            check_listen_address(host or address, os.environ.get("TROPA_BASE_URL"))
        except BaseUrlRequired as refusal:
            server.log.error(str(refusal))
            sys.exit(1)


def publish_listen_address(server) -> None:
    """gunicorn's when_ready: before the workers fork, so they inherit it (port 0 becomes
    the port the OS chose)."""
    address = server.LISTENERS[0].getsockname() if server.LISTENERS else None
    if isinstance(address, tuple):
        os.environ.setdefault("TROPA_HOST", address[0])
        os.environ.setdefault("TROPA_PORT", str(address[1]))
