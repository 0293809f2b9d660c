"""The baseline: the smallest Flask answer, served by the same gunicorn configuration."""

from flask import Flask

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
def ok():
    return "ok"
