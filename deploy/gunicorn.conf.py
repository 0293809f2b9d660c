"""gunicorn settings for Tropa: `gunicorn -c deploy/gunicorn.conf.py` (deploy/systemd/
tropa.service). Every value can be changed from the environment file
(deploy/tropa.env.example)."""

import os
from pathlib import Path

from webapp.gunicorn_hooks import (
    publish_listen_address,
    refuse_public_address_without_base_url,
    shorten_gil_switch_interval,
)

wsgi_app = "webapp:create_app()"
bind = os.environ.get("TROPA_BIND", "127.0.0.1:8000")
# gthread: a few processes with threads each; sync workers would make a slow client (a
# phone on a bad network uploading a file) hold a whole process.
worker_class = "gthread"
workers = int(os.environ.get("TROPA_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("TROPA_THREADS", "4"))
timeout = 60  # a certificate batch step or an export stays well under it
graceful_timeout = 30
keepalive = 5
# a worker is replaced after this many requests (bounds any slow leak)
max_requests = 2000
max_requests_jitter = 200
# Tropa writes its own JSON request log (logger tropa.request) to stderr: no access log.
accesslog = None
errorlog = "-"
# X-Forwarded-* are handled by the app (TROPA_PROXY_COUNT), not by gunicorn.
forwarded_allow_ips = "127.0.0.1"

# Prometheus counters of every worker process land in one folder that /metrics sums; it is
# emptied when gunicorn starts (systemd's RuntimeDirectory gives /run/tropa). Set here, not
# in the environment file, so that `tropa worker` and the CLI keep their counters to
# themselves.
_metrics_dir = Path(os.environ.get("TROPA_METRICS_DIR", "/run/tropa/prometheus"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)


def on_starting(server):
    refuse_public_address_without_base_url(server)
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()


def when_ready(server):
    publish_listen_address(server)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    shorten_gil_switch_interval(server, worker)
