"""gunicorn reads this file when started in the checkout (or with --chdir to it); from
elsewhere pass it: `gunicorn -c /path/to/tropa/gunicorn.conf.py ...`.

It refuses to serve beyond loopback without TROPA_BASE_URL (webapp.urls), and tells the
workers the address they listen on, for links made outside a request.
"""

import os
import sys

from webapp.urls import BaseUrlRequired, check_listen_address


def on_starting(server):
    for address in server.cfg.bind:
        host = "unix" if address.startswith(("unix:", "fd://")) else address.rpartition(":")[0]
        try:
            check_listen_address(host or address, os.environ.get("TROPA_BASE_URL"))
        except BaseUrlRequired as refusal:
            server.log.error(str(refusal))
            sys.exit(1)


def when_ready(server):
    # Before the workers fork: they inherit it (port 0 becomes the port the OS chose).
    address = server.LISTENERS[0].getsockname() if server.LISTENERS else None
    if isinstance(address, tuple):
        os.environ.setdefault("TROPA_HOST", address[0])
        os.environ.setdefault("TROPA_PORT", str(address[1]))
