"""Real parts for the end-to-end delivery tests (`test_delivery_e2e.py`, `test_faults.py`).

- `workers`: Celery worker (and beat) processes started with `python -m celery -A config`,
  on the test database and the configured broker: Redis when `REDIS_URL` is set, else the
  embedded filesystem broker in a private `DIX_DATA_DIR`. This process publishes to the same
  broker (a Celery app of its own, made current for the test), so the on-commit path is real.
- `hook_receiver`: a webhook receiver on 127.0.0.1 that verifies every request with the
  `standardwebhooks` package and records what it got.
- `subscribe_endpoint`, `publish_notice`: a subscription whose secret the receiver knows; a notice drafted
  and published through the API.

Every wait is bounded and polls the database; processes are stopped in `finally` blocks.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery, current_app
from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet
from django.test import override_settings
from rest_framework.test import APIClient

from intel.models import Member
from notices.models import Notice
from tests.helpers.receiver import Receiver
from webhooks import services as webhook_services
from webhooks.models import Delivery, DeliveryState, Subscription

# What the worker processes run with: loopback allowed, fast retries (1 s, 1 s, 2 s), a sweep
# every second, short timeouts and leases.
WORKER_ENV = {
    "DIX_WEBHOOK_ALLOW_LOOPBACK": "true",
    "DIX_WEBHOOK_RETRY_SCHEDULE": "1,1,2",
    "DIX_WEBHOOK_SWEEP_SECONDS": "1",
    "DIX_WEBHOOK_TIMEOUT": "3",
    "DIX_WEBHOOK_CONNECT_TIMEOUT": "2",
    "DIX_WEBHOOK_LEASE_SECONDS": "5",
    "DIX_LOG_LEVEL": "INFO",
}
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.SENDING)
WAIT_LIMIT = 60.0


def worker_database_url() -> str:
    """The test database as a URL a worker process can open: the configured DATABASE_URL
    with the test database's name, or the per-process SQLite test file."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    configured = os.environ.get("DATABASE_URL", "")
    if configured:
        parts = urlsplit(configured)
        return urlunsplit(parts._replace(path="/" + db["NAME"]))
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "") + "@"
    return f"postgres://{auth}{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def filesystem_broker() -> bool:
    return str(settings.CELERY_BROKER_URL).startswith("filesystem://")


class Workers:
    """Worker processes of one test, and the broker they share with this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.broker_dir = self.data_dir / "broker"
        for sub in ("queue", "processed", "control"):
            (self.broker_dir / sub).mkdir(parents=True, exist_ok=True)
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.env = dict(os.environ)
        self.env.update(WORKER_ENV)
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=worker_database_url(),
            DIX_DATA_DIR=str(self.data_dir),
            # Signing secrets are encrypted under a key derived from the secret key, which
            # would otherwise be generated anew in the private data dir.
            DIX_SECRET_KEY=settings.SECRET_KEY,
            DIX_ENCRYPTION_KEY=settings.DIX_ENCRYPTION_KEY,
        )
        self.app = Celery("dix-e2e-publisher", set_as_current=False)
        self.app.config_from_object("django.conf:settings", namespace="CELERY")
        if filesystem_broker():
            queue = str(self.broker_dir / "queue")
            self.app.conf.broker_transport_options = {
                "data_folder_in": queue,
                "data_folder_out": queue,
                "processed_folder": str(self.broker_dir / "processed"),
                "control_folder": str(self.broker_dir / "control"),
                "store_processed": False,
            }

    # --- processes -------------------------------------------------------------------------

    def start(
        self,
        *,
        beat: bool = True,
        pool: str = "prefork",
        concurrency: int = 2,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `celery worker` (with an embedded beat running the sweep) and wait until it
        is ready. Its own session, so that a kill reaches its pool children and beat."""
        number = len(self.processes) + 1
        log_path = self.root / f"worker-{number}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", pool, "-c", str(concurrency),
            "--hostname", f"dix-e2e-{number}-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", "INFO",
        ]  # fmt: skip
        if beat:
            command += ["-B", "--schedule", str(self.data_dir / f"beat-{number}")]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env | (env or {}),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append((process, log_path))
        self.wait_until(
            lambda: "ready." in log_path.read_text(errors="replace"),
            what=f"worker {number} ready",
            timeout=30,
        )
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and everything it started (pool children, beat)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """On Redis a cold shutdown (SIGQUIT) first, so that the shared broker is left clean;
        then SIGKILL to whatever is left of its session. The filesystem broker is private."""
        if process.poll() is None and not filesystem_broker():
            process.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self.kill(process)

    def stop_all(self) -> None:
        for process, _ in self.processes:
            self.stop(process)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [process for process, _ in self.processes if process.poll() is None]

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(
            f"--- {path.name} (exit {process.poll()}) ---\n"
            + path.read_text(errors="replace")[-tail:]
            for process, path in self.processes
        )

    # --- the broker ------------------------------------------------------------------------

    def queued_messages(self) -> int:
        if filesystem_broker():
            return sum(1 for _ in (self.broker_dir / "queue").glob("*.msg"))
        with self.app.connection_for_read() as conn:
            return int(conn.default_channel.client.llen("celery"))  # type: ignore[attr-defined]

    def empty_broker(self) -> None:
        """The broker loses everything it holds. Filesystem broker: the queue's message files
        are deleted. Redis: FLUSHDB on the broker's database — the data loss of a restart
        without persistence, without restarting a server that others may share."""
        if filesystem_broker():
            for message in (self.broker_dir / "queue").iterdir():
                message.unlink(missing_ok=True)
            return
        with self.app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()  # type: ignore[attr-defined]

    def purge(self) -> None:
        """Drop what is left in the (shared) Redis queue; the filesystem broker is private."""
        if not filesystem_broker():
            self.app.control.purge()

    # --- waiting ---------------------------------------------------------------------------

    def wait_until(
        self,
        condition: Callable[[], Any],
        *,
        what: str | Callable[[], str],
        timeout: float = WAIT_LIMIT,
    ) -> float:
        """Poll `condition` until true; fail with `what` (a callable: described at the time)
        and the workers' logs after `timeout` seconds. Returns the seconds waited."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started >= timeout:
                described = what() if callable(what) else what
                pytest.fail(f"{described}: not after {timeout:.0f} s\n{self.logs()}")
            time.sleep(0.1)
        return time.monotonic() - started

    def wait_settled(
        self, deliveries: QuerySet[Delivery], *, timeout: float = WAIT_LIMIT
    ) -> dict[str, int]:
        """Wait until none of `deliveries` is pending or sending; their counts by state."""
        self.wait_until(
            lambda: not deliveries.filter(state__in=OPEN_STATES).exists(),
            what=lambda: f"deliveries settled (now {states(deliveries)})",
            timeout=timeout,
        )
        return states(deliveries)


def states(deliveries: QuerySet[Delivery]) -> dict[str, int]:
    rows = deliveries.order_by().values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


@pytest.fixture
def workers(transactional_db: None, tmp_path: Path) -> Iterator[Workers]:
    stack = Workers(tmp_path / "celery")
    previous = current_app._get_current_object()  # type: ignore[attr-defined]
    stack.app.set_current()
    try:
        yield stack
    finally:
        previous.set_current()
        stack.stop_all()
        stack.purge()
        stack.app.close()


@pytest.fixture
def hook_receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def loopback_allowed() -> Iterator[None]:
    """Subscriptions on 127.0.0.1 pass the API's URL check in this process too."""
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        yield


Subscribe = Callable[..., Subscription]


@pytest.fixture
def subscribe_endpoint(hook_receiver: Receiver, loopback_allowed: None) -> Subscribe:
    """`subscribe_endpoint(member, name, behaviour=…, **fields)`: an endpoint of the member's
    organisation on the receiver, for `notice.*` events unless told otherwise."""

    def make(
        member: Member, name: str, *, behaviour: dict[str, Any] | None = None, **fields: Any
    ) -> Subscription:
        fields.setdefault("event_types", ["notice.published", "notice.updated"])
        fields["url"] = hook_receiver.url(name)
        issued = webhook_services.subscription_create(member=member, fields=fields)
        hook_receiver.register(name, issued.secret, **(behaviour or {}))
        return issued.subscription

    return make


@pytest.fixture
def publish_notice(api: Callable[[Member | None], APIClient]) -> Callable[..., Notice]:
    """`publish_notice(author, **fields)`: draft and publish a notice through the API."""

    def make(author: Member, **fields: Any) -> Notice:
        client = api(author)
        body = {
            "type": "alert",
            "title": "Mini phones in prisons",
            "summary": "Low-metal mini phones pass walk-through detectors.",
            "body": "Seen in three prisons.",
            "action_requested": "Check your prisons.",
            "audience": {"scope": "network"},
            "tlp": "TLP:GREEN",
        } | fields
        draft = client.post("/api/v1/notices/", body, format="json")
        assert draft.status_code == 201, draft.content
        published = client.post(f"/api/v1/notices/{draft.json()['id']}/publish/")
        assert published.status_code == 200, published.content
        return Notice.objects.get(pk=draft.json()["id"])

    return make
