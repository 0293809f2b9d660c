"""What every gunicorn that serves Tropa does (gunicorn.conf.py in the checkout and
deploy/gunicorn.conf.py): refuse to serve beyond loopback without TROPA_BASE_URL
(webapp.urls), tell the workers the address they listen on, for links made outside a
request, and hand the GIL between a worker's threads more often."""

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


# A worker's threads share one GIL. The thread whose turn it is to write (SQLite's one
# writer, a seat lock) lets the GIL go at every statement and then waits for it until the
# thread holding it is made to switch: 5 ms by default, while every other writer queues
# behind it. Half a millisecond doubled the door's check-ins a second on 2 cores (bench/).
GIL_SWITCH_INTERVAL_SECONDS = 0.0005


def shorten_gil_switch_interval(_server, _worker) -> None:
    """gunicorn's post_fork: in each worker process."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
