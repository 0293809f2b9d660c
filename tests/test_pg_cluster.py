"""`make test` works from a checkout in a folder only root may enter: the throw-away
PostgreSQL cluster (scripts/pg-cluster.sh) runs its commands as `postgres` from a directory
that user can enter, not from the checkout."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import database_independent
from tests.live_server import REPO_ROOT
from tests.mail_support import free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    reason="starts a PostgreSQL cluster as the postgres user: needs root and PostgreSQL",
)


@database_independent
def test_a_clone_in_a_root_only_folder_starts_and_stops_the_cluster():
    with tempfile.TemporaryDirectory(prefix="tropa-0700-") as private:
        os.chmod(private, 0o700)
        clone = Path(private) / "tropa"
        subprocess.run(
            ["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)],
            check=True,
            timeout=120,
        )
        # The script as it is in this checkout, committed or not.
        shutil.copy(REPO_ROOT / "scripts" / "pg-cluster.sh", clone / "scripts" / "pg-cluster.sh")
        script = (
            "set -e; source scripts/pg-cluster.sh; trap pg_cluster_stop EXIT; pg_cluster_start; "
            '"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U tropa -d tropa_test -tAc "SELECT 42"; '
            'data=$PG_DATA; pg_cluster_stop; test ! -e "$data" && echo stopped'
        )
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=clone,
            env={**os.environ, "PG_PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=180,
        )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Permission denied" not in result.stderr
    assert result.stdout.splitlines()[-2:] == ["42", "stopped"], result.stdout
