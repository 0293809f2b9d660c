"""deploy/: the environment template lists every setting, and the app starts with it under
gunicorn with deploy/gunicorn.conf.py (workers in Prometheus multiprocess mode)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import database_independent
from tests.live_server import REPO_ROOT, run_gunicorn
from webapp.gunicorn_hooks import GIL_SWITCH_INTERVAL_SECONDS

DEPLOY = REPO_ROOT / "deploy"
TEMPLATE = DEPLOY / "tropa.env.example"
# where settings are read: the config, the app factory, the gunicorn config
SETTING_SOURCES = ("webapp/config.py", "webapp/__init__.py", "deploy/gunicorn.conf.py")
ENV_READ = re.compile(r"(?:environ\.get\(|_flag\()\s*\"([A-Z_]+)\"")


def template_settings() -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile reads them (the rest of the line, its
    double quotes removed)."""
    settings = {}
    for line in TEMPLATE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return settings


def test_the_template_lists_every_setting_with_its_meaning():
    read = set()
    for source in SETTING_SOURCES:
        read |= set(ENV_READ.findall((REPO_ROOT / source).read_text()))
    listed = template_settings()
    assert read - listed.keys() == set(), "settings missing from deploy/tropa.env.example"
    lines = TEMPLATE.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("TROPA_"):  # each setting follows its explanation
            above = lines[number - 1]
            assert above.startswith("#") or lines[number - 1].startswith("TROPA_"), line


@database_independent
def test_the_app_starts_from_the_template_with_the_gunicorn_config(app, tmp_path):
    env = template_settings()
    env.update(
        {
            # this machine's database and folders instead of the production paths
            "TROPA_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "TROPA_INSTANCE_PATH": str(tmp_path / "instance"),
            "TROPA_FILES_DIR": str(tmp_path / "shared" / "files"),
            "TROPA_CREDENTIAL_KEYS_DIR": str(tmp_path / "shared" / "keys"),
            "TROPA_METRICS_DIR": str(tmp_path / "prometheus"),
            "TROPA_METRICS_TOKEN": "scrape-token",
        }
    )
    with run_gunicorn(
        "webapp:create_app()", env, workers=2, threads=2, config=DEPLOY / "gunicorn.conf.py"
    ) as server:
        health = requests.get(f"{server.base_url}/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        # behind nginx (TROPA_PROXY_COUNT=1): the proxy's headers are taken
        forwarded = requests.get(
            f"{server.base_url}/.well-known/jwks.json",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tropa.example.org"},
            timeout=30,
        )
        assert forwarded.status_code == 200
        for _ in range(6):  # enough requests to reach both workers
            requests.get(f"{server.base_url}/healthz", timeout=30)
        assert requests.get(f"{server.base_url}/metrics", timeout=30).status_code == 401
        metrics = requests.get(
            f"{server.base_url}/metrics",
            headers={"Authorization": "Bearer scrape-token"},
            timeout=30,
        ).text
        count = re.search(
            r'tropa_request_duration_seconds_count\{endpoint="webapp.healthz",method="GET"\} '
            r"([0-9.]+)",
            metrics,
        )
        assert count and float(count.group(1)) >= 8  # every worker's requests, summed
        assert list(Path(tmp_path / "prometheus").glob("*.db"))


@database_independent
def test_every_gunicorn_config_hands_the_gil_over_more_often_in_its_workers(tmp_path):
    """The door's writers wait for the GIL at each statement (webapp.gunicorn_hooks). Each
    config is read in a process of its own, as gunicorn does: the deploy config sets the
    metrics folder in the environment of the process that reads it."""
    read_config = (
        "import runpy, sys; runpy.run_path(sys.argv[1])['post_fork'](None, None);"
        " print(sys.getswitchinterval())"
    )
    env = {**os.environ, "TROPA_METRICS_DIR": str(tmp_path / "prometheus")}
    for config in (REPO_ROOT / "gunicorn.conf.py", DEPLOY / "gunicorn.conf.py"):
        run = subprocess.run(
            [sys.executable, "-c", read_config, str(config)],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        assert float(run.stdout) == GIL_SWITCH_INTERVAL_SECONDS, config.name
