"""The libcurl multi client: POST many items concurrently over reused connections, within
a total and a per-endpoint limit, from one thread."""

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pycurl

from webhooks.sender.guard import ascii_url, refusal
from webhooks.sender.items import Feed, Outcome, Outgoing, SenderSettings
from webhooks.sender.signing import sign
from webhooks.sender.transfer import (
    CURL_TIMEOUT,
    CURL_WRITE_ERROR,
    IDLE_CONNECTION_SECONDS,
    Transfer,
    never_sent,
    trust_store,
)

log = logging.getLogger("dix.webhooks")


class Sender:
    """A libcurl multi handle and its easy handles, kept from one `send_all` to the next so a
    batch reuses the connections (and, over HTTPS, the TLS sessions) of the last. Used by
    one thread at a time. `broken` once a `send_all` on it failed: its handles may be in any
    state, so the caller makes a new one."""

    def __init__(self, cfg: SenderSettings) -> None:
        if cfg.concurrency < 1 or cfg.per_host < 1:
            raise ValueError("the sender's concurrency and per-endpoint limit must be at least 1")
        self.cfg = cfg
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, cfg.concurrency + cfg.slow_lane)
        self.idle: list[pycurl.Curl] = []
        self.handles: list[pycurl.Curl] = []
        self.trust = trust_store()
        self.broken = False

    def __enter__(self) -> "Sender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        self.multi.close()

    def handle(self) -> pycurl.Curl:
        """An idle easy handle, or a new one with the sender's fixed options."""
        if self.idle:
            return self.idle.pop()
        cfg = self.cfg
        handle = pycurl.Curl()
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.POST, 1)
        handle.setopt(pycurl.FOLLOWLOCATION, 0)
        handle.setopt(pycurl.PROXY, "")  # never a proxy from the environment
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(cfg.connect_timeout * 1000)))
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int(cfg.total_timeout * 1000)))
        handle.setopt(pycurl.USERAGENT, "DIX-Webhooks/1.0")
        handle.setopt(pycurl.MAXAGE_CONN, IDLE_CONNECTION_SECONDS)
        for option, value in self.trust.items():
            handle.setopt(option, value)
        self.handles.append(handle)
        return handle


def send_all(
    items: "list[Outgoing] | Feed",
    cfg: SenderSettings,
    on_outcome: Callable[[Outcome], Any],
    sender: Sender | None = None,
) -> None:
    """POST every item concurrently over reused connections, in this thread; `on_outcome` is
    called once for every item, as it finishes, so a hanging receiver holds back nobody's
    result but its own. `items` is a list, or a `Feed` that another thread fills and then
    closes.

    At most `concurrency` transfers run at once and at most `per_host` per endpoint; an item
    whose endpoint is busy waits, parked, and starts when one of that endpoint's transfers
    ends, so deliveries queued behind a slow endpoint never take the slots other endpoints
    need, and the request timeout starts only when the request really starts. libcurl
    resolves names asynchronously, within the connect timeout: a slow name server holds
    back its own endpoint's transfers only.

    `sender`: one kept by the caller (connections are then reused from one call to the
    next), else one for this call alone. Should anything fail in the sender itself, every
    item not finished gets an outcome saying so, and the sender is marked `broken`."""
    if sender is None:
        with Sender(cfg) as own:
            send_all(items, cfg, on_outcome, own)
        return
    run = _Run(items, cfg, on_outcome, sender)
    try:
        run.drive()
    except Exception as exc:
        sender.broken = True
        log.exception("webhook sender failed; its unfinished items are failed")
        run.fail_all(f"unexpected {type(exc).__name__}: {exc}")


class _Run:
    """The state of one `send_all`."""

    def __init__(
        self,
        items: "list[Outgoing] | Feed",
        cfg: SenderSettings,
        on_outcome: Callable[[Outcome], Any],
        sender: Sender,
    ) -> None:
        self.feed = items if isinstance(items, Feed) else None
        self.ready: deque[Outgoing] = deque() if isinstance(items, Feed) else deque(items)
        # Plain dicts: a Counter's or defaultdict's miss runs Python code, once per item.
        self.parked: dict[int, deque[Outgoing]] = {}
        self.active: dict[int, int] = {}
        self.running: dict[pycurl.Curl, Transfer] = {}
        self.by_age: deque[Transfer] = deque()  # running transfers, oldest first
        self.slow = 0  # running transfers in the slow lane
        self.outcomes: list[Outcome] = []
        self.cfg = cfg
        self.on_outcome = on_outcome
        self.sender = sender

    def release(self, endpoint: int) -> None:
        """One of `endpoint`'s slots is free, or an item of it was not sent: its next parked
        item (if any) becomes ready again."""
        queued = self.parked.get(endpoint)
        if queued:
            self.ready.appendleft(queued.popleft())
            if not queued:
                del self.parked[endpoint]

    def unsent(self, item: Outgoing, error: str) -> None:
        self.outcomes.append(never_sent(item, error))
        self.release(item.endpoint)

    def start(self, item: Outgoing) -> None:
        cfg = self.cfg
        reason = refusal(item.url, cfg.allow_loopback)
        if reason:
            self.unsent(item, f"refused: {reason}")
            return
        started = datetime.now(UTC)
        transfer = Transfer(item, started, cfg.allow_loopback)
        handle = self.sender.handle()
        try:
            handle.setopt(pycurl.URL, ascii_url(item.url))
            handle.setopt(pycurl.POSTFIELDS, item.body.encode())
            handle.setopt(
                pycurl.HTTPHEADER,
                [
                    "Content-Type: application/json",
                    "Expect:",  # no `100-continue` round trip before the body
                    f"webhook-id: {item.webhook_id}",
                    f"webhook-timestamp: {int(started.timestamp())}",
                    "webhook-signature: " + sign(item.webhook_id, started, item.body, item.secrets),
                ],
            )
            handle.setopt(pycurl.OPENSOCKETFUNCTION, transfer.open_socket)
            handle.setopt(pycurl.WRITEFUNCTION, transfer.write)
            handle.setopt(pycurl.HEADERFUNCTION, transfer.header)
            self.sender.multi.add_handle(handle)
        except Exception as exc:  # an item libcurl will not take fails alone
            self.sender.idle.append(handle)
            if isinstance(exc, UnicodeError):
                self.unsent(item, "refused: The URL's host name is not valid.")
            else:
                self.unsent(item, f"unexpected {type(exc).__name__}: {exc}")
            return
        self.active[item.endpoint] = self.active.get(item.endpoint, 0) + 1
        self.running[handle] = transfer
        if self.cfg.slow_lane:
            self.by_age.append(transfer)

    def move_slow(self) -> None:
        """Transfers running for longer than `slow_after` leave the count of `concurrency`
        for the slow lane, while it has room: a receiver that hangs until the timeout then
        holds a socket, not one of the turns the other endpoints' requests need."""
        cfg, by_age = self.cfg, self.by_age
        if not cfg.slow_lane:
            return
        limit = time.perf_counter() - cfg.slow_after
        while by_age and (by_age[0].done or by_age[0].clock < limit):
            transfer = by_age.popleft()
            if not transfer.done and self.slow < cfg.slow_lane:
                transfer.slow = True
                self.slow += 1
            # else: finished, or the lane is full and it keeps counting where it is

    def finish(self, handle: pycurl.Curl, errno: int, message: str) -> None:
        transfer = self.running.pop(handle)
        transfer.done = True
        if transfer.slow:
            self.slow -= 1
        self.sender.multi.remove_handle(handle)
        self.sender.idle.append(handle)
        status = handle.getinfo(pycurl.RESPONSE_CODE) or None
        if errno == 0 or (errno == CURL_WRITE_ERROR and transfer.capped):
            error = ""
        elif transfer.refused and status is None:
            error = f"refused: {transfer.refused}"
        elif errno == CURL_TIMEOUT:
            error = "timeout"
        else:
            error = f"curl error {errno}: {message}"
        self.outcomes.append(transfer.outcome(status, error))
        endpoint = transfer.item.endpoint
        self.active[endpoint] -= 1
        self.release(endpoint)

    def drive(self) -> None:
        feed, ready, running, outcomes = self.feed, self.ready, self.running, self.outcomes
        multi = self.sender.multi
        per_host, concurrency = self.cfg.per_host, self.cfg.concurrency
        while True:
            if feed is not None:
                pending = feed.pending
                while pending:
                    ready.append(pending.popleft())
            self.move_slow()
            while ready and len(running) - self.slow < concurrency:
                item = ready.popleft()
                if self.active.get(item.endpoint, 0) >= per_host:
                    self.parked.setdefault(item.endpoint, deque()).append(item)
                else:
                    self.start(item)
            if feed is not None:
                feed.busy = len(ready) + len(running) - self.slow

            if running:
                while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                    pass
                while True:
                    queued_messages, succeeded, failed = multi.info_read()
                    for handle in succeeded:
                        self.finish(handle, 0, "")
                    for handle, errno, message in failed:
                        self.finish(handle, errno, message)
                    if not queued_messages:
                        break
            if outcomes:
                self.hand_over()
                continue  # slots were freed: start what is ready before waiting
            if running:
                # Wait for the sockets; look at the feed every 2 ms while it brings work, every
                # 10 ms while it is open but quiet (requests outstanding, nothing new due).
                busy_feed = (
                    feed is not None
                    and not feed.closed
                    and time.perf_counter() - feed.last_put < 0.1
                )
                wait = 0.002 if busy_feed else 0.01
                began = time.perf_counter()
                if multi.select(wait) <= 0 and time.perf_counter() - began < wait / 2:
                    # Nothing to wait on (a socket above FD_SETSIZE, or none open yet):
                    # libcurl's fd_set cannot hold it, so pace the loop instead of spinning.
                    time.sleep(wait)
                continue
            if ready:
                continue
            if feed is None or (feed.closed and not feed.pending):
                break
            feed.arrived.clear()
            feed.hungry = True  # then look again: an item put meanwhile is seen
            if not (feed.pending or feed.closed):
                feed.arrived.wait(0.05)
        if self.parked:  # cannot happen: a parked item waits for a running transfer
            raise RuntimeError("items were left parked")

    def hand_over(self) -> None:
        done = list(self.outcomes)
        self.outcomes.clear()  # in place: `drive` holds the list
        for outcome in done:
            self.on_outcome(outcome)

    def fail_all(self, error: str) -> None:
        """Give every item not finished an outcome: those running, ready or parked, and
        those the feed still brings until it is closed."""
        self.hand_over()
        for handle, transfer in list(self.running.items()):
            with contextlib.suppress(Exception):
                self.sender.multi.remove_handle(handle)
            self.running.pop(handle)
            self.on_outcome(transfer.outcome(None, error))
        left = [*self.ready, *(item for queued in self.parked.values() for item in queued)]
        self.ready.clear()
        self.parked.clear()
        for item in left:  # never started, so not among the outcomes handed over
            self.on_outcome(never_sent(item, error))
        feed = self.feed
        while feed is not None:
            while feed.pending:
                self.on_outcome(never_sent(feed.pending.popleft(), error))
            if feed.closed and not feed.pending:
                break
            feed.arrived.clear()
            feed.hungry = True
            if not (feed.pending or feed.closed):
                feed.arrived.wait(0.05)
