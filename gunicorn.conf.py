"""gunicorn reads this file when started in the checkout (or with --chdir to it); from
elsewhere pass it: `gunicorn -c /path/to/tropa/gunicorn.conf.py ...`. A server uses
deploy/gunicorn.conf.py, which does the same and more (webapp.gunicorn_hooks)."""

from webapp.gunicorn_hooks import (
    publish_listen_address,
    refuse_public_address_without_base_url,
    shorten_gil_switch_interval,
)


def on_starting(server):
    refuse_public_address_without_base_url(server)


def when_ready(server):
    publish_listen_address(server)


def post_fork(server, worker):
    shorten_gil_switch_interval(server, worker)
