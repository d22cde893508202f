"""Every benchmark still runs, at its smallest size, and writes a result file with figures.

The benches need PostgreSQL (each creates and drops a database of its own next to the suite's)
and Redis, taken from the suite's `DATABASE_URL` and `REDIS_URL`; bench/pull also needs `wrk`.
Without them the tests are skipped. Figures at these sizes mean nothing: only that each bench
runs, checks what it checks (exit 0) and writes its file.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

QUIET = ["--quiet-wait", "0"]  # measure at once: the figures do not matter here
TINY = {
    "fanout": ["--subscriptions", "50", "--anchor-runs", "1", *QUIET],
    "pull": ["--notices", "50", "--duration", "1", "--warmup", "1", "--runs", "1", *QUIET],
    "imei_check": ["--profiles", "100", "--runs", "1", "--items", "2000", *QUIET],
    "taxii": ["--objects", "300", "--runs", "1", *QUIET],
    "clients": ["--posts", "200", "--runs", "1"],
    "portal": ["--notices", "20", "--profiles", "50", "--requests", "3", *QUIET],
}
NEEDS_SERVERS = {"fanout", "pull", "imei_check", "taxii", "portal"}


def _bench_env() -> dict[str, str]:
    database = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    if not database.startswith(("postgres://", "postgresql://")) or not redis:
        pytest.skip("needs DATABASE_URL on PostgreSQL and REDIS_URL")
    if shutil.which("createdb") is None:
        pytest.skip("needs PostgreSQL's createdb and dropdb")
    server = urlsplit(database)._replace(path="").geturl()
    if urlsplit(database).port is None:
        server += ":5432"  # bench/_common.py reads host:port from BENCH_POSTGRES
    return {"BENCH_POSTGRES": server, "BENCH_REDIS": redis}


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_bench_runs_tiny_and_writes_its_result_file(name: str, tmp_path: Path) -> None:
    env = {**os.environ}
    if name in NEEDS_SERVERS:
        env |= _bench_env()
    if name == "pull" and shutil.which("wrk") is None:
        pytest.skip("bench/pull needs wrk")
    out = tmp_path / "results"

    done = subprocess.run(
        [sys.executable, f"bench/{name}.py", *TINY[name], "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (path,) = out.glob(f"{name}-*.json")
    result = json.loads(path.read_text())
    assert result["bench"] == name
    assert result["ok"] is True
    assert result["figures"]
    assert result["ratios"]
    assert result["machine"]["cpus"]
    assert result["commit"]
