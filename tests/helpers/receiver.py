"""A real webhook receiver on 127.0.0.1 for the delivery tests.

A `ThreadingHTTPServer` on its own thread. Every endpoint is `/hooks/<name>`, registered with
its subscription's signing secret; every request is verified with the `standardwebhooks`
package (as a subscriber would) and recorded: endpoint, `webhook-id`, verified payload. An
endpoint can be told to fail, to hang, or to hold its first answer until the test says so.
"""

import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks.models import Delivery, Subscription


@dataclass(frozen=True)
class Hit:
    """One request as the receiver saw it."""

    endpoint: str
    webhook_id: str
    payload: Any
    verified: bool
    error: str
    answered: int  # the status code answered; 0 when it hung past any client's timeout
    at: float


@dataclass
class Behaviour:
    """How one endpoint answers. Requests are counted per endpoint, from 0."""

    secret: str
    fail_first: int = 0  # answer 500 to the first n requests
    hang_first: int = 0  # sleep `hang_seconds` before answering the first n requests
    hang_seconds: float = 0.0
    # On the first request: set `reached`, then answer only once `release` is set.
    reached: threading.Event | None = None
    release: threading.Event | None = None
    count: int = field(default=0)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the sender opens up to DIX_WEBHOOK_CONCURRENCY connections
    receiver: "Receiver"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A hanging endpoint's client has gone when it finally answers: not an error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the sender reuses connections
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        name = self.path.rstrip("/").rsplit("/", 1)[-1]
        status = self.server.receiver.handle(name, body, dict(self.headers.items()))
        try:
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver:
    """`url(name)` for a subscription, `register(name, secret, …)` once its secret is known;
    `hits` is everything received, in order of arrival."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay  # seconds every answer takes (a slow receiver)
        self.hits: list[Hit] = []
        self._endpoints: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def register(self, name: str, secret: str, **behaviour: Any) -> None:
        with self._lock:
            self._endpoints[name] = Behaviour(secret=secret, **behaviour)

    def change(self, name: str, **behaviour: Any) -> None:
        """Change how a registered endpoint answers from now on (e.g. `fail_first=0`: back)."""
        with self._lock:
            for key, value in behaviour.items():
                setattr(self._endpoints[name], key, value)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- what arrived ----------------------------------------------------------------------

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def count(self) -> int:
        with self._lock:
            return len(self.hits)

    def hits_for(self, name: str) -> list[Hit]:
        return [hit for hit in self.snapshot() if hit.endpoint == name]

    def unverified(self) -> list[Hit]:
        return [hit for hit in self.snapshot() if not hit.verified]

    # --- one request -----------------------------------------------------------------------

    def handle(self, name: str, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            endpoint = self._endpoints.get(name)
            number = endpoint.count if endpoint else 0
            if endpoint:
                endpoint.count += 1
        payload: Any = None
        error = ""
        if endpoint is None:
            error = "unknown endpoint"
        else:
            try:
                payload = Webhook(endpoint.secret).verify(body, headers)
            except WebhookVerificationError as exc:
                error = f"signature: {exc}"
        status = 200
        if error:
            status = 400
        elif endpoint is not None and number < endpoint.fail_first:
            status = 500
        hangs = endpoint is not None and number < endpoint.hang_first
        headers = {k.lower(): v for k, v in headers.items()}
        hit = Hit(
            endpoint=name,
            webhook_id=headers.get("webhook-id", ""),
            payload=payload,
            verified=not error,
            error=error,
            answered=0 if hangs else status,  # 0: answered too late for any client
            at=time.monotonic(),
        )
        with self._lock:
            self.hits.append(hit)
        if endpoint is not None:
            if number == 0 and endpoint.reached is not None and endpoint.release is not None:
                endpoint.reached.set()
                endpoint.release.wait(30)
            if hangs:
                time.sleep(endpoint.hang_seconds)
        if self.delay:
            time.sleep(self.delay)
        return status


def endpoint_name(subscription: Subscription) -> str:
    return subscription.url.rstrip("/").rsplit("/", 1)[-1]


def assert_all_arrived(receiver: Receiver, deliveries: Iterable[Delivery]) -> int:
    """Each delivery reached its endpoint, verified, under its own `webhook-id` and no other;
    nothing failed verification anywhere. Returns the number of duplicates: the same
    `webhook-id` received again after the receiver had already accepted it (2xx) — allowed,
    counted. A retry after a failed answer is not a duplicate."""
    assert receiver.unverified() == [], receiver.unverified()
    by_endpoint: dict[str, list[Hit]] = {}
    for hit in receiver.snapshot():
        by_endpoint.setdefault(hit.endpoint, []).append(hit)
    duplicates = 0
    for delivery in deliveries:
        name = endpoint_name(delivery.subscription)
        hits = by_endpoint.get(name, [])
        received = Counter(hit.webhook_id for hit in hits)
        assert set(received) == {delivery.webhook_id}, (name, delivery.webhook_id, received)
        accepted = [i for i, hit in enumerate(hits) if 200 <= hit.answered < 300]
        if accepted:
            duplicates += len(hits) - accepted[0] - 1
    return duplicates
