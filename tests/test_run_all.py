"""`make run`'s last step, `manage.py run_all`, started for real: Ctrl-C leaves no process and
no port behind, and an address already in use is refused before anything starts."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]

SWAGGER_JS = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"


def _own_env(data_dir: Path) -> dict[str, str]:
    """SQLite and the filesystem broker in a data folder of the test's own: nothing shared
    with the suite's database or broker."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DIX_BROKER_URL", "DIX_BIND"}
    }
    env["DIX_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = _own_env(tmp_path_factory.mktemp("run-all-data"))
    done = _manage("migrate", "--no-input", "-v0", env=env)
    assert done.returncode == 0, done.stderr
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, session id) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[3])


def _session(sid: int) -> set[int]:
    """Every live process of a session: run_all's children and theirs, wherever they were
    reparented and whatever process group they are in."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            # A zombie has closed its sockets; it only waits for whoever reaps orphans.
            if stat is not None and stat[1] == sid and stat[0] != "Z":
                members.add(int(entry.name))
    return members


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "(gone)"


def _port_is_free(port: int) -> bool:
    # SO_REUSEADDR as gunicorn binds: connections in TIME_WAIT do not count as in use.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, "run_all stopped:\n" + log.read_text()
        assert time.monotonic() < deadline, "not serving after 120 s:\n" + log.read_text()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.5)


def _browser_like_connections(port: int) -> Iterator[socket.socket | http.client.HTTPConnection]:
    """What a browser leaves behind on /api/docs/: kept-alive HTTP/1.1 connections that
    fetched the page and its script, and requests whose headers are not all sent yet."""
    for _ in range(4):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in ("/api/docs/", SWAGGER_JS):
            connection.request("GET", path, headers={"Connection": "keep-alive"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, path
        yield connection
    for _ in range(4):
        half_sent = socket.create_connection(("127.0.0.1", port), timeout=30)
        half_sent.sendall(b"GET /api/docs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n")
        yield half_sent


@pytest.mark.parametrize("target", ["process group", "parent only"])
def test_sigint_stops_every_process_and_frees_the_port(
    migrated_env: dict[str, str], tmp_path: Path, target: str
) -> None:
    """A terminal's Ctrl-C signals the whole foreground process group; `kill -INT` only
    run_all. Either way nothing it started may outlive it, or the next `make run` finds the
    port taken."""
    port = _free_port()
    log = tmp_path / "run_all.log"
    with log.open("wb") as out:
        run_all = subprocess.Popen(
            [sys.executable, "manage.py", "run_all", "--bind", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=migrated_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own session, like a terminal's job: the test can signal its group without
            # signalling pytest, and find every descendant by session id.
            start_new_session=True,
        )
    started: set[int] = set()
    connections: list[socket.socket | http.client.HTTPConnection] = []
    try:
        _wait_until_serving(run_all, port, log)
        connections = list(_browser_like_connections(port))
        started = _session(run_all.pid)
        # run_all, gunicorn's master and workers, Celery's worker, its pool and beat.
        assert len(started) >= 6, [_command_line(pid) for pid in started]

        if target == "process group":
            os.killpg(run_all.pid, signal.SIGINT)
        else:
            os.kill(run_all.pid, signal.SIGINT)
        run_all.wait(timeout=90)

        deadline = time.monotonic() + 10
        while _session(run_all.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {pid: _command_line(pid) for pid in _session(run_all.pid)}
        assert left == {}, log.read_text()
        assert _port_is_free(port)
    finally:
        for connection in connections:
            connection.close()
        for pid in _session(run_all.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if run_all.poll() is None:
            run_all.kill()
            run_all.wait(timeout=10)


def _run_in_own_session(command: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run to the end; if it starts servers and hangs instead of refusing, stop them all."""
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
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        for pid in _session(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    return process.returncode, stdout, stderr


def _listening_socket() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


def test_run_all_on_a_port_in_use_says_set_dix_bind_and_starts_nothing(
    migrated_env: dict[str, str],
) -> None:
    with _listening_socket() as taken:
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        env = {**migrated_env, "DIX_BIND": address}

        code, stdout, stderr = _run_in_own_session(
            [sys.executable, "manage.py", "run_all"], env=env
        )

    assert code == 1
    assert stderr.strip().splitlines() == [
        f"CommandError: {address} is already in use (another `make run`?): set DIX_BIND to "
        f"a free address, e.g. DIX_BIND=127.0.0.1:{int(address.rsplit(':')[1]) + 1} make run"
    ]
    assert "DIX is starting" not in stdout


def test_make_run_finds_the_port_in_use_before_migrating(tmp_path: Path) -> None:
    """The check comes before `migrate`: on a new data folder nothing is created."""
    data_dir = tmp_path / "data"
    venv = sys.prefix  # the venv running the tests: make neither rebuilds nor reinstalls it
    with _listening_socket() as taken:
        env = {**_own_env(data_dir), "DIX_BIND": f"127.0.0.1:{taken.getsockname()[1]}"}

        code, stdout, stderr = _run_in_own_session(
            ["make", "--no-print-directory", "-o", f"{venv}/.installed", f"VENV={venv}", "run"],
            env=env,
        )

    assert code != 0
    assert "is already in use" in stderr
    assert "set DIX_BIND" in stderr
    assert not (data_dir / "dix.sqlite3").exists(), stdout
