"""Run the whole service in the foreground: web server, Celery worker and scheduler.

This is what `make run` ends with. Each part is its own process, as in production; if one
stops, the others are stopped too, and Ctrl-C stops all three and everything they started.
"""

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from gunicorn.util import parse_address

from intel.management.base import DixCommand
from mail.destination import mail_destination

DEFAULT_BIND = "127.0.0.1:8000"
# After SIGTERM each part has this long to stop what it started; then its whole process
# group gets SIGKILL. Ctrl-C a second time does not wait.
STOP_GRACE_SECONDS = 10
# gunicorn's own grace for its workers: shorter, so that gunicorn ends a worker stuck on a
# half-sent request (its thread blocks in recv, and interpreter exit waits for that thread)
# before run_all's SIGKILL has to.
WEB_GRACEFUL_TIMEOUT_SECONDS = 5
# How long a process group may take to vanish after SIGKILL. Zombies count as members until
# reaped; where nothing reaps orphans (some containers) they would count for ever.
KILLED_GROUP_WAIT_SECONDS = 2
# How long the web server may take to accept connections before run_all gives up on it.
START_TIMEOUT_SECONDS = 120


def _host_and_port(address: str) -> tuple[str, int] | None:
    """The address as gunicorn reads it; None for unix: and fd:// binds, which hold no TCP
    port."""
    try:
        parsed = parse_address(address)
    except (RuntimeError, ValueError):
        parsed = None
    if isinstance(parsed, str | int):
        return None
    if parsed is None or not 0 <= parsed[1] <= 65535:
        raise CommandError(f"DIX_BIND must be HOST:PORT (e.g. {DEFAULT_BIND}), not {address!r}.")
    host, port = parsed
    return host or "0.0.0.0", port  # noqa: S104 (gunicorn's reading of ":PORT")


def bind_check(address: str) -> None:
    """Refuse, in one line naming DIX_BIND, an address the web server could not listen on;
    before anything is migrated or started rather than after the worker and scheduler are
    up."""
    host_port = _host_and_port(address)
    if host_port is None:
        return
    host, port = host_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn binds: connections of a previous run in TIME_WAIT do not block it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                problem = f"{address} is already in use (another `make run`?)"
                bracketed = f"[{host}]" if family == socket.AF_INET6 else host
                example = f"{bracketed}:{port + 1}"
            else:
                problem = f"cannot listen on {address} ({error.strerror or error})"
                example = DEFAULT_BIND
            raise CommandError(
                f"{problem}: set DIX_BIND to a free address, e.g. DIX_BIND={example} make run"
            ) from None


def accepts_connections(address: str) -> bool:
    """Whether the web server at `address` (HOST:PORT or unix:PATH) accepts a connection; an
    `fd://` bind cannot be checked from here, and counts as accepting."""
    if address.startswith("unix:"):
        family, target = socket.AF_UNIX, address[len("unix:") :]
        connect: Any = target
    else:
        host_port = _host_and_port(address)
        if host_port is None:
            return True
        host, port = host_port
        # A wildcard address listens on every interface, loopback included.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        connect = (host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(connect)
        except OSError:
            return False
    return True


def _signal_group(pgid: int, signum: int) -> bool:
    """Signal a whole process group; False once the group has no process left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        # A member changed its identity; the group still exists.
        return True
    return True


def stop_all(processes: dict[str, subprocess.Popen[bytes]], hurry: Callable[[], bool]) -> None:
    """Stop every part and everything each part started.

    Each part leads its own process group. SIGTERM goes to the part alone, so gunicorn and
    Celery stop their own workers in order; once a part has exited, or after the grace
    period, or when `hurry()` turns true, its whole group gets SIGKILL: a worker whose
    master has gone, or that ignores SIGTERM, cannot keep the port.
    """
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    groups = {process.pid: process for process in processes.values()}
    killed_at: dict[int, float] = {}
    while groups:
        now = time.monotonic()
        give_up = now >= deadline or hurry()
        for pgid, process in list(groups.items()):
            if pgid not in killed_at and (process.poll() is not None or give_up):
                killed_at[pgid] = now
            if pgid in killed_at:
                exists = _signal_group(pgid, signal.SIGKILL)
                process.poll()
                if not exists or now - killed_at[pgid] > KILLED_GROUP_WAIT_SECONDS:
                    del groups[pgid]
        time.sleep(0.1)
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=KILLED_GROUP_WAIT_SECONDS)


class Command(DixCommand):
    help = "Run web (gunicorn), a Celery worker and Celery beat together, in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("DIX_BIND", DEFAULT_BIND))
        parser.add_argument("--worker-concurrency", type=int, default=2)
        parser.add_argument(
            "--check-port",
            action="store_true",
            help="Only check that the web server could listen on --bind, then exit "
            "(`make run` does this before migrating).",
        )

    def needs_migrated_database(self, options: dict[str, Any]) -> bool:
        return not options["check_port"]

    def handle(self, *args: Any, **opts: Any) -> None:
        bind_check(opts["bind"])
        if opts["check_port"]:
            return
        python = sys.executable
        bin_dir = os.path.dirname(python)
        commands = {
            "web": [
                os.path.join(bin_dir, "gunicorn"),
                "--config",
                str(settings.BASE_DIR / "config" / "gunicorn.py"),
                "--bind",
                opts["bind"],
                "--graceful-timeout",
                str(WEB_GRACEFUL_TIMEOUT_SECONDS),
                "config.wsgi",
            ],
            "worker": [
                os.path.join(bin_dir, "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(opts["worker_concurrency"]),
            ],
            "scheduler": [
                os.path.join(bin_dir, "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        signals_received = 0

        def count_signal(signum: int, frame: Any) -> None:
            nonlocal signals_received
            signals_received += 1

        # Installed before any part starts, so that no Ctrl-C can leave a part unstopped.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, count_signal)
        # The parts run in process groups of their own, outside the terminal's foreground
        # group: they may write to the terminal even under `stty tostop`.
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        processes: dict[str, subprocess.Popen[bytes]] = {}
        exit_code = 0
        try:
            for name, command in commands.items():
                # A group per part: Ctrl-C reaches run_all alone, which stops the parts in
                # order, and SIGKILL to the group reaches whatever a part started.
                processes[name] = subprocess.Popen(  # noqa: S603
                    command, stdin=subprocess.DEVNULL, process_group=0
                )
            self.stdout.write(f"Starting web server, worker and scheduler on {opts['bind']}...")
            self.stdout.flush()
            exit_code = self._wait_for_web(opts["bind"], processes, lambda: signals_received > 0)
            if not exit_code and not signals_received:
                self._banner(opts["bind"])
            while not signals_received and not exit_code:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        exit_code = process.returncode or 1
                        break
                else:
                    time.sleep(0.2)
        finally:
            stop_all(processes, hurry=lambda: signals_received > 1)
        sys.exit(exit_code)

    def _wait_for_web(
        self,
        bind: str,
        processes: dict[str, subprocess.Popen[bytes]],
        interrupted: Callable[[], bool],
    ) -> int:
        """0 once the web server accepts connections; else an exit code, with the reason on
        stderr: a part that stopped while starting, or a server still not listening after
        `START_TIMEOUT_SECONDS`."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not interrupted():
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(
                        f"{name} exited with {process.returncode} while starting; stopping "
                        "(its messages are above)."
                    )
                    return process.returncode or 1
            if accepts_connections(bind):
                return 0
            if time.monotonic() > deadline:
                self.stderr.write(
                    f"The web server did not accept connections on {bind} within "
                    f"{START_TIMEOUT_SECONDS} s; stopping (its messages are above)."
                )
                return 1
            time.sleep(0.2)
        return 0

    def _banner(self, bind: str) -> None:
        """Printed once the web server has bound its port: every URL in it answers."""
        url = f"http://{bind}"
        self.stdout.write(
            f"\nDIX is running on {url}/\n"
            f"  Portal:    {url}/  (sign in as a demo persona: see above, or the sign-in page)\n"
            f"  API:       {url}/api/v1/\n"
            f"  API docs:  {url}/api/docs/  (ReDoc: {url}/api/redoc/)\n"
            f"  Admin:     {url}/admin/\n"
            f"  Health:    {url}/healthz  {url}/readyz\n"
            f"  Broker:    {settings.CELERY_BROKER_URL}   Database: "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}\n"
            f"  E-mail:    {mail_destination()}\n"
            f"Ctrl-C stops web, worker and scheduler (within {STOP_GRACE_SECONDS} s; "
            "press it again not to wait).\n"
        )
        self.stdout.flush()
