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

from tests.helpers.processes import own_env, run_in_own_session, session_members

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]

SWAGGER_JS = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"


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
    env = own_env(tmp_path_factory.mktemp("run-all-data"))
    done = _manage("migrate", "--no-input", "-v0", env=env)
    assert done.returncode == 0, done.stderr
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
        started = session_members(run_all.pid)
        # run_all, gunicorn's master and workers, Celery's worker, its pool and beat.
        assert len(started) >= 6, [_command_line(pid) for pid in started]

        if target == "process group":
            os.killpg(run_all.pid, signal.SIGINT)
        else:
            os.kill(run_all.pid, signal.SIGINT)
        run_all.wait(timeout=90)

        deadline = time.monotonic() + 10
        while session_members(run_all.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {pid: _command_line(pid) for pid in session_members(run_all.pid)}
        assert left == {}, log.read_text()
        assert _port_is_free(port)
    finally:
        for connection in connections:
            connection.close()
        for pid in session_members(run_all.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if run_all.poll() is None:
            run_all.kill()
            run_all.wait(timeout=10)


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

        done = run_in_own_session([sys.executable, "manage.py", "run_all"], env=env, timeout=120)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"CommandError: {address} is already in use (another `make run`?): set DIX_BIND to "
        f"a free address, e.g. DIX_BIND=127.0.0.1:{int(address.rsplit(':')[1]) + 1} make run"
    ]
    assert "DIX is running" not in done.stdout


def test_make_run_finds_the_port_in_use_before_migrating(tmp_path: Path) -> None:
    """The check comes before `migrate`: on a new data folder nothing is created."""
    data_dir = tmp_path / "data"
    venv = sys.prefix  # the venv running the tests: make neither rebuilds nor reinstalls it
    with _listening_socket() as taken:
        env = {**own_env(data_dir), "DIX_BIND": f"127.0.0.1:{taken.getsockname()[1]}"}

        done = run_in_own_session(
            ["make", "--no-print-directory", "-o", f"{venv}/.installed", f"VENV={venv}", "run"],
            env=env,
            timeout=120,
        )

    assert done.returncode != 0
    assert "is already in use" in done.stderr
    assert "set DIX_BIND" in done.stderr
    assert not (data_dir / "dix.sqlite3").exists(), done.stdout


def test_the_banner_comes_once_the_web_server_accepts_connections(
    migrated_env: dict[str, str],
) -> None:
    """Whoever reads the banner can open its URL at once: when its first line is printed,
    the port already accepts connections."""
    port = _free_port()
    run_all = subprocess.Popen(
        [sys.executable, "manage.py", "run_all", "--bind", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env=migrated_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert run_all.stdout is not None
        seen: list[str] = []
        for line in run_all.stdout:
            seen.append(line)
            if line.startswith("DIX is running on"):
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    pass  # refused, it would raise: the banner came too early
                break
        else:
            pytest.fail("no banner:\n" + "".join(seen))
        assert any(line.startswith("Starting web server") for line in seen)
        assert line.strip() == f"DIX is running on http://127.0.0.1:{port}/"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run_all.pid, signal.SIGINT)
        try:
            run_all.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            for pid in session_members(run_all.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            run_all.kill()
            run_all.communicate(timeout=10)
