"""Webhook subscriptions through the HTTP API, for the tests of several packages: a scripted
receiver on loopback that verifies every request (`receiver`), an endpoint on it
(`subscribe`), and a GREEN notice to the whole network (`issue`)."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from intel.models import TLP, Member
from tests.conftest import Network

NOTICES = "/api/v1/notices/"
SUBSCRIPTIONS = "/api/v1/subscriptions/"
EVENTS = ["notice.published", "notice.updated", "notice.withdrawn"]

Api = Callable[[Member | None], APIClient]


# --- A scripted webhook receiver on loopback -------------------------------------------------


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]


class Receiver:
    """Every POST must verify with each secret registered for its path (else 400 and an entry
    in `refused`); it answers the scripted (status, headers[, body]) for its path, then 200."""

    def __init__(self) -> None:
        self.secrets: dict[str, list[str]] = {}
        # (status, headers) or (status, headers, body) per path; then 200 "ok".
        self.script: dict[str, list[tuple[Any, ...]]] = {}
        self.hits: list[Hit] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.handle(self)

            def do_GET(self) -> None:
                receiver.refused.append(f"GET {self.path}")
                self.send_response(405)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        name = request.path.lstrip("/")
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        headers = {key.lower(): value for key, value in request.headers.items()}
        with self.lock:
            secrets = list(self.secrets.get(name, []))
            scripted = self.script.get(name)
            status, extra, *answer = scripted.pop(0) if scripted else (200, {})
        reply: bytes = answer[0] if answer else b"ok"
        try:
            if not secrets:
                raise ValueError("no secret registered for this path")
            payloads = [Webhook(secret).verify(body, headers) for secret in secrets]
        except Exception as exc:
            with self.lock:
                self.refused.append(f"{name}: {exc!r}")
            status, extra = 400, {}
        else:
            with self.lock:
                self.hits.append(Hit(name, headers, body, payloads[0]))
        request.send_response(status)
        for key, value in extra.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(reply)))
        request.end_headers()
        request.wfile.write(reply)

    def to(self, name: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == name]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        yield rec
    rec.close()
    assert rec.refused == []


def subscribe(client: APIClient, receiver: Receiver, name: str, **fields: Any) -> dict[str, Any]:
    body = {"url": receiver.url(name), "event_types": EVENTS} | fields
    response = client.post(SUBSCRIPTIONS, body, format="json")
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    receiver.secrets[name] = [data["secret"]]
    return data


@pytest.fixture
def issue(network: Network, api: Api) -> Callable[..., dict[str, Any]]:
    """A GREEN notice to the whole network: alice drafts, cora (secretariat) publishes."""
    alice, cora = api(network.alice), api(network.cora)

    def make(**fields: Any) -> dict[str, Any]:
        body = {"type": "alert", "title": "Mini phones", "tlp": TLP.GREEN} | fields
        created = alice.post(NOTICES, body, format="json")
        assert created.status_code == 201, created.content
        published = cora.post(f"{NOTICES}{created.json()['id']}/publish/")
        assert published.status_code == 200, published.content
        data: dict[str, Any] = published.json()
        return data

    return make
