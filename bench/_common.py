"""Shared plumbing for the benchmarks: a throw-away PostgreSQL database and Redis db, child
processes that are always cleaned up, /proc sampling of memory and CPU, percentiles, and the
result files (`--json`, `--out`).

Each benchmark calls `Harness.start()` before importing Django: it creates the database,
sets the environment (DATABASE_URL, REDIS_URL, DIX_DATA_DIR, …) and only then sets Django up.
`Harness.close()` (also run at exit and on SIGTERM) stops every process it started, drops the
database and deletes this run's Redis keys (its settings module, bench/*_settings.py, prefixes
them and names the Celery queue after the run, so that runs sharing db 12 do not collide).
"""

import argparse
import atexit
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS_DB_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
RESULTS = ROOT / "bench" / "results"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def tool(name: str) -> str:
    """A console script of this virtualenv (celery, gunicorn), else from PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            pids.append(int(entry))
    return pids


def group_rss(pgid: int, pids: Sequence[int] | None = None) -> int:
    """Resident memory, in bytes, of every process in a process group (a worker and its
    pool children), or of `pids` (the group's, found earlier)."""
    total = 0
    for pid in _group_pids(pgid) if pids is None else pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except OSError:
            continue
    return total


def process_cpu(pgid: int, *, system_only: bool = False) -> dict[int, float]:
    """CPU seconds (user + system, or system only) used so far by each live process of a
    process group."""
    usage = {}
    for pid in _group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user = 0 if system_only else int(fields[11])
        usage[pid] = (user + int(fields[12])) / TICKS  # utime, stime
    return usage


def postgres_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL server's live processes (every backend and
    helper, any database): the benchmarks share the machine's cores with it."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                head, tail = handle.read().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1].startswith("postgres"):
            fields = tail.split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def group_cpu(pgid: int, *, system_only: bool = False) -> float:
    """CPU seconds (user + system, or system only) used so far by the live processes of a
    process group."""
    return sum(process_cpu(pgid, system_only=system_only).values())


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all CPUs, all processes) since boot:
    the benchmarks print how much of the machine other processes took during a run."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICKS


def wait_for_quiet(max_wait: float = 90.0, busy_below: float = 0.3) -> str:
    """Wait until the rest of the machine is nearly idle (under `busy_below` CPU-seconds busy
    per second over one second), at most `max_wait` seconds: figures taken while other
    processes compete for the same cores mean little. Returns a note for the report."""
    started = time.monotonic()
    while True:
        before = machine_busy()
        time.sleep(1.0)
        busy = machine_busy() - before
        waited = time.monotonic() - started
        if busy < busy_below:
            return f"machine quiet ({busy:.2f} CPU busy before the run)"
        if waited >= max_wait:
            return f"NOT QUIET: {busy:.2f} CPUs busy with other work after waiting {waited:.0f} s"


class PeakSampler:
    """Samples a process group's total RSS in a thread; `peak` is the largest seen."""

    def __init__(self, pgid: int, every: float = 0.05) -> None:
        self.pgid = pgid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # The group's processes are looked up once a second, not at every sample: scanning
        # all of /proc 20 times a second took CPU from what is being measured.
        pids: list[int] = []
        found = 0.0
        while not self._stop.is_set():
            if time.monotonic() - found >= 1.0:
                pids, found = _group_pids(self.pgid), time.monotonic()
            self.peak = max(self.peak, group_rss(self.pgid, pids))
            self._stop.wait(self.every)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, group_rss(self.pgid))


class Harness:
    """Owns the bench database, the Redis db, the temporary data dir and child processes."""

    def __init__(self, name: str, env: dict[str, str] | None = None) -> None:
        self.dbname = f"dix_bench_{name}_{os.getpid()}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"dix-bench-{name}-"))
        self.children: list[subprocess.Popen[Any]] = []
        self.env = dict(os.environ)
        self.env.update(
            {
                "BENCH_TAG": self.dbname,  # cache key prefix and Celery queue of this run
                "DATABASE_URL": f"{PG_URL}/{self.dbname}",
                "REDIS_URL": REDIS_DB_URL,
                "DIX_DATA_DIR": str(self.tmp / "data"),
                "DIX_LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "PYTHONPATH": str(ROOT),
            }
        )
        self.env.update(env or {})
        self._closed = False

    def start(self) -> None:
        """Create the database, export the environment, set Django up and migrate."""
        host, port = PG_URL.rsplit("@", 1)[1].split(":")
        user = PG_URL.split("//", 1)[1].split("@", 1)[0]
        self._pg = ["-h", host, "-p", port, "-U", user]
        subprocess.run(["createdb", *self._pg, self.dbname], check=True)
        atexit.register(self.close)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)

    def forget_redis(self) -> None:
        """Delete this run's keys (its cache prefix and Celery queue), nobody else's: other
        runs and other sessions may use the same Redis db at the same time."""
        import redis

        client = redis.Redis.from_url(REDIS_DB_URL)
        for key in client.scan_iter(match=f"*{self.dbname}*", count=1000):
            client.delete(key)

    def spawn(self, args: Sequence[str], *, log: str, env: dict[str, str] | None = None) -> Any:
        """Start a child in its own process group, output to a log file in the temp dir."""
        out = open(self.tmp / log, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_path = self.tmp / log  # type: ignore[attr-defined]
        self.children.append(proc)
        return proc

    def stop(self, proc: Any, timeout: float = 10.0) -> None:
        """SIGTERM the child's process group, SIGKILL what is left after `timeout`."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc in self.children:
            self.children.remove(proc)

    def tail(self, proc: Any, lines: int = 30) -> str:
        try:
            return "\n".join(Path(proc.log_path).read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for proc in list(self.children):
            self.stop(proc, timeout=5)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        subprocess.run(
            ["dropdb", *self._pg, "--if-exists", "--force", self.dbname],
            check=False,
            stderr=subprocess.DEVNULL,
        )
        with contextlib.suppress(Exception):
            self.forget_redis()
        if not os.environ.get("BENCH_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- Result files ---------------------------------------------------------------------------

# Options of the command line that say where results go, not what is measured.
_OUTPUT_OPTIONS = ("json", "out")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """`--json [FILE]` and `--out DIR`, the same for every benchmark."""
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        metavar="FILE",
        help="write the results as JSON: to FILE, or without FILE to "
        "bench/results/<name>-<YYYY-MM-DD>.json",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="write the results as JSON to DIR/<name>-<YYYY-MM-DD>.json"
    )


def git_commit(root: Path = ROOT) -> str:
    """The checkout's commit, with `+dirty` when its tracked files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "diff", "--quiet", "HEAD", "--"], check=False
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
    }


def _result_path(name: str, args: argparse.Namespace, today: str) -> Path | None:
    if args.json:
        return Path(args.json)
    if args.json is None and not args.out:
        return None
    folder = Path(args.out) if args.out else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{today}.json"
    number = 2
    while path.exists():  # a second run the same day keeps the first's file
        path = folder / f"{name}-{today}-{number}.json"
        number += 1
    return path


def write_results(
    name: str,
    args: argparse.Namespace,
    *,
    figures: dict[str, Any],
    anchors: dict[str, Any],
    ratios: dict[str, Any],
    goals: dict[str, str] | None = None,
    ok: bool = True,
    notes: Sequence[str] = (),
    detail: Any = None,
) -> Path | None:
    """Write one run's result file when `--json` or `--out` asks for it; returns its path.

    `figures` are DIX's, `anchors` the same work done by the anchor in the same run, `ratios`
    DIX against the anchor (the goals compare these), `goals` each ratio's goal as text
    (`">= 0.5"`), `detail` everything the bench measured, as it measured it."""
    now = datetime.datetime.now(datetime.UTC)
    path = _result_path(name, args, f"{now:%Y-%m-%d}")
    if path is None:
        return None
    parameters = {k: v for k, v in vars(args).items() if k not in _OUTPUT_OPTIONS}
    document = {
        "bench": name,
        "date": now.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "parameters": parameters,
        "machine": machine(),
        "figures": figures,
        "anchors": anchors,
        "ratios": ratios,
        "goals": goals or {},
        "ok": ok,
        "notes": list(notes),
        "detail": detail,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"results written to {path}", flush=True)
    return path
