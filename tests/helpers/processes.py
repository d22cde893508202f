"""Running `manage.py`, make or a server as a process of its own, in a session of its own, so
that everything it starts can be found and stopped."""

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

# What would point a started process at the suite's own database, broker or address.
SHARED_WITH_THE_SUITE = {"DATABASE_URL", "REDIS_URL", "DIX_BROKER_URL", "DIX_BIND"}


def own_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """This process's environment, with SQLite (or `database_url`) and the filesystem broker
    in `data_dir`: nothing shared with the suite's database or broker. `config.settings`, not
    the tests' settings."""
    env = {key: value for key, value in os.environ.items() if key not in SHARED_WITH_THE_SUITE}
    env["DIX_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, session id) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[3])


def session_members(sid: int) -> set[int]:
    """Every live process of a session (Linux: read from /proc): its leader's children and
    theirs, wherever they were reparented and whatever process group they are in."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            # A zombie has closed its sockets; it only waits for whoever reaps orphans.
            if stat is not None and stat[1] == sid and stat[0] != "Z":
                members.add(int(entry.name))
    return members


def kill_session(sid: int) -> None:
    """SIGKILL a session's process group and, where /proc tells, every other process in it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(sid, signal.SIGKILL)
    if Path("/proc/self/stat").exists():
        for pid in session_members(sid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def run_in_own_session(
    command: list[str], *, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `command` in the project folder to its end, in a session of its own; if it is still
    running after `timeout` seconds (it started servers instead of refusing), stop everything
    it started and fail the test."""
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_session(process.pid)
        process.communicate()
        pytest.fail(f"{' '.join(command)} still running after {timeout:.0f} s")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
