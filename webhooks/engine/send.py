"""The engine's side of sending: the sender's settings, and one sending thread per worker
process that keeps its libcurl client (and so its connections) from batch to batch."""

import concurrent.futures
import contextlib
import os
import queue
import threading
from collections.abc import Callable

from django.conf import settings

from webhooks.sender import Feed, Outcome, Sender, SenderSettings, send_all


def sender_settings() -> SenderSettings:
    """The sender's settings, from Django's."""
    return SenderSettings(
        concurrency=settings.DIX_WEBHOOK_CONCURRENCY,
        per_host=settings.DIX_WEBHOOK_PER_ENDPOINT,
        connect_timeout=settings.DIX_WEBHOOK_CONNECT_TIMEOUT,
        total_timeout=settings.DIX_WEBHOOK_TIMEOUT,
        allow_loopback=settings.DIX_WEBHOOK_ALLOW_LOOPBACK,
        slow_lane=settings.DIX_WEBHOOK_SLOW_LANE,
    )


class SenderLoop:
    """One sending thread per worker process, and one `Sender` (libcurl multi handle) per
    sender settings, kept from batch to batch: the next batch reuses the connections (and,
    over HTTPS, the TLS sessions) of the last instead of opening its own. Made on first use
    in the process that uses it, so a forked pool process never inherits a parent's thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.thread = concurrent.futures.ThreadPoolExecutor(1, "dix-webhook-sender")
        self.senders: dict[SenderSettings, Sender] = {}

    def send(
        self, feed: Feed, cfg: SenderSettings, on_outcome: Callable[[Outcome], object]
    ) -> "concurrent.futures.Future[None]":
        def run() -> None:
            sender = self.senders.get(cfg)
            if sender is None or sender.broken:
                for old in self.senders.values():  # settings changed, or it failed
                    with contextlib.suppress(Exception):
                        old.close()
                self.senders = {cfg: Sender(cfg)}
                sender = self.senders[cfg]
            send_all(feed, cfg, on_outcome, sender)

        return self.thread.submit(run)


_sender_loop: SenderLoop | None = None
_sender_lock = threading.Lock()


def sender_loop() -> SenderLoop:
    """This process's sender loop, made on first use (and again in a forked child)."""
    global _sender_loop
    with _sender_lock:
        if _sender_loop is None or _sender_loop.pid != os.getpid():
            _sender_loop = SenderLoop()
        return _sender_loop


# The sender's future (it raises what the sender raised) and the queue of its outcomes.
Sending = tuple["concurrent.futures.Future[None]", "queue.SimpleQueue[Outcome | None]"]


def start_sender(feed: Feed) -> Sending:
    """POST what `feed` receives, on the process's sender loop; outcomes arrive on the
    returned queue, then None."""
    # SimpleQueue: its put is one C call, where Queue's takes a lock and notifies a condition.
    results: queue.SimpleQueue[Outcome | None] = queue.SimpleQueue()
    future = sender_loop().send(feed, sender_settings(), results.put)
    future.add_done_callback(lambda _: results.put(None))
    return future, results
