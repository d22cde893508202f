"""What goes into the sender and what comes out: items to POST, their outcomes, the
sender's settings, and the feed another thread fills while the sender runs."""

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Outgoing:
    """One POST to make."""

    key: int
    endpoint: int
    url: str
    webhook_id: str
    body: str
    secrets: tuple[str, ...]


@dataclass(slots=True)
class Outcome:
    """What came of one POST."""

    key: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str
    response_body: str
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class SenderSettings:
    """`concurrency` transfers at once, `per_host` per endpoint; a transfer still running
    after `slow_after` seconds moves to the slow lane (up to `slow_lane` of them) and stops
    counting against `concurrency`, so endpoints that hang hold sockets, not everyone's
    turn."""

    concurrency: int
    per_host: int
    connect_timeout: float
    total_timeout: float
    allow_loopback: bool
    slow_lane: int = 0
    slow_after: float = 0.1


class Feed:
    """Items handed to a running `send_all` from another thread as they are prepared, so the
    first POSTs of a batch go out while the rest is still being rendered and signed."""

    def __init__(self) -> None:
        self.pending: deque[Outgoing] = deque()  # appends and pops are atomic across threads
        self.closed = False
        self.hungry = False  # the sender waits for items: wake it (else it will look anyway)
        self.arrived = threading.Event()
        # Items handed over and not yet started, plus transfers running outside the slow
        # lane (set by the sender): what the feeding thread keeps topped up.
        self.busy = 0
        self.last_put = 0.0

    def put(self, item: "Outgoing") -> None:
        self.pending.append(item)
        self.last_put = time.perf_counter()
        if self.hungry:
            self.hungry = False
            self.arrived.set()

    def close(self) -> None:
        """No more items: `send_all` returns once those handed over are done."""
        self.closed = True
        self.arrived.set()
