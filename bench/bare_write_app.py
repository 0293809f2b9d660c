"""The write baseline: the smallest Flask endpoint that writes, one row INSERTed into a SQLite
table per POST (WAL, synchronous=NORMAL, as Tropa tunes SQLite), served by the same gunicorn
configuration. The check-in benchmark compares with it.

    BARE_WRITE_DATABASE=/tmp/bare.db gunicorn bench.bare_write_app:app
"""

import os
import sqlite3
import threading

from flask import Flask, request

DATABASE = os.environ.get("BARE_WRITE_DATABASE", "bare-write.db")

app = Flask(__name__)
_per_thread = threading.local()


def connection() -> sqlite3.Connection:
    """One connection per worker thread, each statement its own transaction."""
    if not hasattr(_per_thread, "connection"):
        database = sqlite3.connect(DATABASE, timeout=30, isolation_level=None)
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("PRAGMA synchronous=NORMAL")
        database.execute(
            "CREATE TABLE IF NOT EXISTS scans"
            " (id INTEGER PRIMARY KEY, secret TEXT NOT NULL, at TEXT NOT NULL)"
        )
        _per_thread.connection = database
    return _per_thread.connection


@app.route("/", methods=["GET", "POST"])
def write():
    if request.method == "GET":  # the readiness probe
        return {"status": "ok"}
    body = request.get_json(silent=True) or {}
    connection().execute(
        "INSERT INTO scans (secret, at) VALUES (?, datetime('now'))", (str(body.get("secret")),)
    )
    return {"status": "ok"}
