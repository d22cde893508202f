"""The webhook sender itself (`webhooks.sender.send_all`, libcurl underneath) against real
HTTP(S) servers on 127.0.0.1: where it connects, what it refuses before connecting, what it
keeps of an answer, and that it reuses its connections. No database."""

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhooks.sender import (
    RESPONSE_BODY_CAP,
    Outcome,
    Outgoing,
    Sender,
    SenderSettings,
    client,
    send_all,
)

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def settings(allow_loopback: bool = True, concurrency: int = 4) -> SenderSettings:
    return SenderSettings(
        concurrency=concurrency,
        per_host=concurrency,
        connect_timeout=2.0,
        total_timeout=5.0,
        allow_loopback=allow_loopback,
    )


def item(url: str, key: int = 1) -> Outgoing:
    return Outgoing(
        key=key,
        endpoint=1,
        url=url,
        webhook_id=f"msg_test{key}",
        body='{"type":"test"}',
        secrets=(SECRET,),
    )


def send(items: list[Outgoing], cfg: SenderSettings, sender: Sender | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    send_all(items, cfg, outcomes.append, sender)
    return sorted(outcomes, key=lambda o: o.key)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer_body: bytes) -> None:
        self.answer_body = answer_body
        self.hosts: list[str] = []
        self.connections = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> Any:
        self.connections += 1
        return super().get_request()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.hosts.append(self.headers.get("host", ""))
        self.send_response(200)
        self.send_header("content-length", str(len(self.server.answer_body)))
        self.end_headers()
        self.wfile.write(self.server.answer_body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(server: _Server) -> Iterator[_Server]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from _serve(_Server(b"ok"))


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[_Server]:
    """An HTTPS server whose certificate (self-signed, for 127.0.0.1) no CA vouches for."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = _Server(b"ok")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


def test_a_host_name_is_called_at_the_address_it_was_checked_at(server: _Server) -> None:
    port = server.server_address[1]
    (outcome,) = send([item(f"http://localhost:{port}/hook")], settings())
    assert (outcome.status_code, outcome.error, outcome.response_body) == (200, "", "ok")
    assert server.hosts == [f"localhost:{port}"]  # the name is kept for the Host header


def test_a_name_that_resolves_to_loopback_is_refused_before_connecting(server: _Server) -> None:
    """The guard on: `localhost` passes the URL check (a name, HTTPS) and is refused once
    resolved, with no connection made."""
    port = server.server_address[1]
    (outcome,) = send([item(f"https://localhost:{port}/hook")], settings(allow_loopback=False))
    assert outcome.status_code is None
    assert outcome.error.startswith("refused:"), outcome.error
    assert "loopback" in outcome.error, outcome.error
    assert server.connections == 0


def test_a_name_that_does_not_resolve_fails_alone(server: _Server) -> None:
    port = server.server_address[1]
    outcomes = send(
        [item("http://no-such-host.invalid/hook", 1), item(f"http://127.0.0.1:{port}/", 2)],
        settings(),
    )
    assert outcomes[0].status_code is None
    assert outcomes[0].error
    assert (outcomes[1].status_code, outcomes[1].error) == (200, "")


def test_proxies_from_the_environment_are_not_used(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
    for variable in ("http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, proxy)
    port = server.server_address[1]
    (outcome,) = send([item(f"http://127.0.0.1:{port}/hook")], settings())
    assert (outcome.status_code, outcome.error) == (200, "")
    assert server.hosts == [f"127.0.0.1:{port}"]


def test_a_long_answer_is_kept_up_to_the_cap() -> None:
    long = b"x" * (RESPONSE_BODY_CAP * 30)
    for running in _serve(_Server(long)):
        port = running.server_address[1]
        (outcome,) = send([item(f"http://127.0.0.1:{port}/hook")], settings())
    assert (outcome.status_code, outcome.error, outcome.succeeded) == (200, "", True)
    assert outcome.response_body == "x" * RESPONSE_BODY_CAP


def test_https_certificates_are_verified(tls_server: _Server) -> None:
    port = tls_server.server_address[1]
    (outcome,) = send([item(f"https://127.0.0.1:{port}/hook")], settings())
    assert outcome.status_code is None
    assert "certificate" in outcome.error.lower(), outcome.error
    assert tls_server.hosts == []  # nothing was posted to an unverified server


def test_a_kept_sender_reuses_its_connections(server: _Server) -> None:
    port = server.server_address[1]
    cfg = settings(concurrency=2)
    with Sender(cfg) as sender:
        for round_ in range(3):
            batch = [item(f"http://127.0.0.1:{port}/hook", round_ * 10 + n) for n in range(10)]
            outcomes = send(batch, cfg, sender)
            assert [o.status_code for o in outcomes] == [200] * 10
    assert len(server.hosts) == 30
    assert server.connections <= 2  # 30 POSTs in three calls over at most two connections


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST.", "%6cocalhost", "127.1", "2130706433", "sub.localhost"]
)
def test_every_way_of_naming_loopback_is_refused_at_the_address(server: _Server, host: str) -> None:
    """However the host is written, the address libcurl would connect to is what is checked
    (an encoded or numeric spelling that the URL check takes for a name resolves, in
    libcurl, to 127.0.0.1): refused, and nothing connects."""
    port = server.server_address[1]
    (outcome,) = send([item(f"https://{host}:{port}/hook")], settings(allow_loopback=False))
    assert outcome.status_code is None
    assert outcome.error.startswith("refused:"), outcome.error
    assert server.connections == 0


def test_an_international_host_name_is_sent_in_its_idna_form(server: _Server) -> None:
    port = server.server_address[1]
    (outcome,) = send([item(f"http://bücher.localhost:{port}/hook/ü")], settings())
    assert (outcome.status_code, outcome.error) == (200, "")
    assert server.hosts == [f"xn--bcher-kva.localhost:{port}"]


def test_items_queued_behind_one_that_cannot_be_sent_are_sent(server: _Server) -> None:
    """One endpoint, one request at a time: an item refused when its turn comes hands the
    turn on to the next, and every item gets its outcome."""
    port = server.server_address[1]
    good = f"http://127.0.0.1:{port}/hook"
    cfg = SenderSettings(
        concurrency=4, per_host=1, connect_timeout=2.0, total_timeout=5.0, allow_loopback=True
    )
    outcomes = send(
        [item(good, 1), item("ftp://127.0.0.1/x", 2), item("https://[bad/", 3), item(good, 4)],
        cfg,
    )
    assert [(o.key, o.status_code) for o in outcomes] == [(1, 200), (2, None), (3, None), (4, 200)]
    assert outcomes[1].error.startswith("refused:")
    assert outcomes[2].error.startswith("refused:")


def test_a_malformed_url_fails_alone_and_the_sender_goes_on(server: _Server) -> None:
    port = server.server_address[1]
    good = f"http://127.0.0.1:{port}/hook"
    cfg = settings()
    with Sender(cfg) as sender:
        first = send([item("https://[evil.example]/", 1), item(good, 2)], cfg, sender)
        again = send([item(good, 3)], cfg, sender)
    assert [(o.status_code, o.error[:8]) for o in first] == [(None, "refused:"), (200, "")]
    assert [(o.status_code, o.error) for o in again] == [(200, "")]
    assert not sender.broken


def test_the_certificates_python_trusts_are_the_ones_trusted(
    tls_server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender trusts what Python's `ssl` trusts (the system's store, or `SSL_CERT_FILE`),
    not a path built into the libcurl it was shipped with."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    port = tls_server.server_address[1]
    (outcome,) = send([item(f"https://127.0.0.1:{port}/hook")], settings())
    assert (outcome.status_code, outcome.error) == (200, "")


def test_a_failure_inside_the_sender_fails_every_item_and_loses_none(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the sender itself fail mid-way, every item handed in, started or not, still gets
    exactly one outcome (a lost one would leave its delivery leased until the lease ends),
    and the sender is marked broken so that the worker makes a new one."""

    def broken_finish(self: Any, handle: Any, errno: int, message: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(client._Run, "finish", broken_finish)
    port = server.server_address[1]
    cfg = SenderSettings(
        concurrency=2, per_host=1, connect_timeout=2.0, total_timeout=5.0, allow_loopback=True
    )
    with Sender(cfg) as sender:
        items = [item(f"http://127.0.0.1:{port}/hook", n) for n in range(6)]
        outcomes = send(items, cfg, sender)
        assert sender.broken
    assert [o.key for o in outcomes] == list(range(6))
    assert all(o.status_code is None and "RuntimeError: boom" in o.error for o in outcomes)
