"""Standard Webhooks signing and the SSRF-safe HTTP sender. No ORM here.

The sender is libcurl's multi interface (pycurl): one thread drives many transfers over
reused connections, and the HTTP work runs in C with the GIL released. Measured on a 2-core
machine against bench/receiver.py, 10,000 POSTs over 100 connections: pycurl ~40,000/s and
0.2 s of CPU, aiohttp ~7,000/s and 1.4 s (the engine's previous client), pyreqwest ~11,000/s,
curl_cffi's asyncio session ~4,000/s (bench/README.md).

Every address libcurl is about to connect to, after resolving a name itself (asynchronously,
within the connect timeout), is checked first (`CURLOPT_OPENSOCKETFUNCTION`): loopback,
private, link-local, CGNAT, multicast, reserved and transition addresses get no socket. The
check is on the very address connected to, so neither a resolver's answer (DNS rebinding) nor
a way of writing the host (percent-encoded, dotted, numeric) can lead anywhere else. Proxies
from the environment are ignored, redirects are not followed, and only HTTP(S) is spoken.
"""

import contextlib
import functools
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pycurl
from standardwebhooks.webhooks import Webhook

log = logging.getLogger("dix.webhooks")

RESPONSE_BODY_CAP = 4096

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
# Non-public ranges that `is_global` misses on some Python 3.11 patch releases.
_ALSO_DENIED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "192.88.99.0/24",
        "::/96",
        "::ffff:0:0:0/96",
        "100::/64",
        "fec0::/10",
        "3fff::/20",
    )
)


class UnsafeDestination(Exception):
    """The URL may not be called: wrong scheme, or a host that is not on the public internet."""


def forbidden_reason(address: str, *, allow_loopback: bool) -> str | None:
    """Why this resolved address may not be called, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return forbidden_reason(str(ip.ipv4_mapped), allow_loopback=allow_loopback)
        # is_global is True for these, yet they embed (and reach) any IPv4 address.
        if ip in _NAT64 or ip in _NAT64_LOCAL or ip in _SIX_TO_FOUR or ip in _TEREDO:
            return "an IPv6 transition address (NAT64, 6to4, Teredo)"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if any(ip in net for net in _ALSO_DENIED if net.version == ip.version):
        return "a private, link-local, shared (CGNAT) or reserved address"
    if ip.is_multicast:
        return "a multicast address"
    if not ip.is_global:
        return "a private, link-local, shared (CGNAT) or reserved address"
    return None


def check_url(url: str, *, allow_loopback: bool, resolve: bool = True) -> None:
    """Refuse a URL that is not HTTPS (plain HTTP only with `allow_loopback`), or whose host
    resolves to any forbidden address."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed or misplaced "[" in the authority
        raise UnsafeDestination("The URL is not valid.") from None
    allowed_schemes = {"https", "http"} if allow_loopback else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UnsafeDestination(f"Only {' or '.join(sorted(allowed_schemes))} URLs are allowed.")
    if not parts.hostname:
        raise UnsafeDestination("The URL has no host.")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeDestination("The URL's port is not a valid port number.") from None
    if parts.username or parts.password:
        raise UnsafeDestination("Credentials in the URL are not allowed.")
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"The host {parts.hostname!r} does not resolve.") from exc
    for info in infos:
        reason = forbidden_reason(str(info[4][0]), allow_loopback=allow_loopback)
        if reason:
            raise UnsafeDestination(f"The host {parts.hostname!r} resolves to {reason}.")


@functools.lru_cache(maxsize=65536)
def _signer(secret: str) -> Webhook:
    """The signer of one secret, made once per process (it decodes the secret)."""
    return Webhook(secret)


def sign(webhook_id: str, timestamp: datetime, body: str, secrets: Iterable[str]) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    return " ".join(_signer(secret).sign(webhook_id, timestamp, body) for secret in secrets)


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


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _origin(url: str) -> str:
    """`scheme://authority` of a URL, without parsing the rest of it."""
    scheme, sep, rest = url.partition("://")
    authority = rest
    for end in "/?#":
        authority = authority.split(end, 1)[0]
    return f"{scheme}{sep}{authority}"


def _refusal(url: str, allow_loopback: bool) -> str | None:
    """Why this URL may not be called as it stands (scheme, credentials, port, an IP-literal
    host that is not allowed), or None; every address a host name resolves to is checked
    when a connection to it is opened (`_Transfer.open_socket`). All of that is in the URL's
    scheme and authority, so the answer is kept per origin: parsing and classifying every
    URL of a fan-out (most endpoints share a few receivers) cost more than signing them
    (bench/fanout)."""
    return _origin_refusal(_origin(url), allow_loopback)


@functools.lru_cache(maxsize=4096)
def _origin_refusal(origin: str, allow_loopback: bool) -> str | None:
    try:
        host = urlsplit(origin).hostname or ""
        if _ip_literal(host):  # the address first: it says most about what was refused
            reason = forbidden_reason(host.strip("[]"), allow_loopback=allow_loopback)
            if reason:
                return f"{host} is {reason}"
        check_url(origin, allow_loopback=allow_loopback, resolve=False)
    except UnsafeDestination as exc:
        return str(exc)
    except ValueError:  # e.g. an unclosed or misplaced "[" in the authority
        return "The URL is not valid."
    return None


@functools.lru_cache(maxsize=4096)
def _ascii_url(url: str) -> str:
    """The URL as libcurl takes it: ASCII, an internationalised host name in its IDNA form
    and any other non-ASCII character percent-encoded (as aiohttp did). Raises ValueError
    (UnicodeError) for a host name IDNA cannot encode."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode("ascii")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    safe = "/:@!$&'()*+,;=%~?"
    return urlunsplit(
        (parts.scheme, netloc, quote(parts.path, safe=safe), quote(parts.query, safe=safe), "")
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000" means UTC with no zone stated
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


# A kept connection idle for longer is not reused (closed when next looked at): the receiver
# may have closed it meanwhile.
IDLE_CONNECTION_SECONDS = 15
_CURL_TIMEOUT = pycurl.E_OPERATION_TIMEDOUT
_CURL_WRITE_ERROR = pycurl.E_WRITE_ERROR
_INTERNET = (socket.AF_INET, socket.AF_INET6)


def _trust_store() -> dict[int, str]:
    """The CA certificates Python's `ssl` trusts (the system's, or `SSL_CERT_FILE` and
    `SSL_CERT_DIR`), for libcurl: a pycurl wheel brings its own OpenSSL, whose built-in path
    may not exist on this system."""
    paths = ssl.get_default_verify_paths()
    options = {}
    if paths.cafile:
        options[pycurl.CAINFO] = paths.cafile
    if paths.capath:
        options[pycurl.CAPATH] = paths.capath
    if not options:
        log.warning(
            "no CA certificates found where Python's ssl looks (%s, %s): HTTPS webhooks "
            "will fail their certificate checks; set SSL_CERT_FILE",
            paths.openssl_cafile,
            paths.openssl_capath,
        )
    return options


class _Transfer:
    """One POST under way: its item, its clocks, and what the receiver has answered so far.
    `write`, `header` and `open_socket` are libcurl's callbacks for it."""

    __slots__ = (
        "allow_loopback",
        "capped",
        "chunks",
        "clock",
        "done",
        "item",
        "refused",
        "retry_after",
        "size",
        "slow",
        "started",
    )

    def __init__(self, item: "Outgoing", started: datetime, allow_loopback: bool) -> None:
        self.item = item
        self.started = started
        self.allow_loopback = allow_loopback
        self.clock = time.perf_counter()
        self.chunks: list[bytes] = []
        self.size = 0
        self.capped = False
        self.retry_after: str | None = None
        self.refused = ""
        self.slow = False  # in the slow lane: not counted against the sender's concurrency
        self.done = False

    def open_socket(self, purpose: int, address: Any) -> Any:
        """libcurl is about to connect to `address` (each one it tries, after resolving the
        name itself): a socket only for an address DIX may call. The check is on the
        address connected to, so no resolver answer (DNS rebinding) and no way of writing
        the host (encoded, dotted, numeric) can lead elsewhere."""
        family, socktype, protocol, sockaddr = address
        host = str(sockaddr[0]) if isinstance(sockaddr, tuple) else str(sockaddr)
        if family not in _INTERNET:
            self.refused = "not an internet address"
            return pycurl.SOCKET_BAD
        reason = forbidden_reason(host, allow_loopback=self.allow_loopback)
        if reason:
            self.refused = f"{host} is {reason}"
            return pycurl.SOCKET_BAD
        return socket.socket(family, socktype, protocol)  # libcurl keeps a duplicate

    def write(self, data: bytes) -> int | None:
        room = RESPONSE_BODY_CAP - self.size
        if len(data) <= room:
            self.chunks.append(data)
            self.size += len(data)
            return None
        # Enough of it: keep the cap's worth and stop reading (libcurl ends the transfer).
        self.chunks.append(data[:room])
        self.size = RESPONSE_BODY_CAP
        self.capped = True
        return 0

    def header(self, line: bytes) -> None:
        if line[:5] == b"HTTP/":  # a new response (after a 1xx): forget the last one's
            self.retry_after = None
        elif line[:12].lower() == b"retry-after:":
            self.retry_after = line[12:].strip().decode("latin-1")

    def outcome(self, status: int | None, error: str) -> "Outcome":
        body = b"".join(self.chunks).decode("utf-8", "replace")
        return Outcome(
            key=self.item.key,
            started_at=self.started,
            duration_ms=int((time.perf_counter() - self.clock) * 1000),
            status_code=status,
            # PostgreSQL text holds no NUL: one in a receiver's answer (or quoted in an
            # error) would fail the recording of the whole flush, and so every delivery.
            error=error[:500].replace("\x00", "\ufffd"),
            response_body=body.replace("\x00", "\ufffd"),
            retry_after=_retry_after(self.retry_after) if status is not None else None,
        )


def _unsent(item: "Outgoing", error: str) -> "Outcome":
    """The outcome of an item that was never sent."""
    return _Transfer(item, datetime.now(UTC), False).outcome(None, error)


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
        self.trust = _trust_store()
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
    on_outcome: Callable[["Outcome"], Any],
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
        on_outcome: Callable[["Outcome"], Any],
        sender: Sender,
    ) -> None:
        self.feed = items if isinstance(items, Feed) else None
        self.ready: deque[Outgoing] = deque() if isinstance(items, Feed) else deque(items)
        # Plain dicts: a Counter's or defaultdict's miss runs Python code, once per item.
        self.parked: dict[int, deque[Outgoing]] = {}
        self.active: dict[int, int] = {}
        self.running: dict[pycurl.Curl, _Transfer] = {}
        self.by_age: deque[_Transfer] = deque()  # running transfers, oldest first
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

    def unsent(self, item: "Outgoing", error: str) -> None:
        self.outcomes.append(_unsent(item, error))
        self.release(item.endpoint)

    def start(self, item: "Outgoing") -> None:
        cfg = self.cfg
        reason = _refusal(item.url, cfg.allow_loopback)
        if reason:
            self.unsent(item, f"refused: {reason}")
            return
        started = datetime.now(UTC)
        transfer = _Transfer(item, started, cfg.allow_loopback)
        handle = self.sender.handle()
        try:
            handle.setopt(pycurl.URL, _ascii_url(item.url))
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
        if errno == 0 or (errno == _CURL_WRITE_ERROR and transfer.capped):
            error = ""
        elif transfer.refused and status is None:
            error = f"refused: {transfer.refused}"
        elif errno == _CURL_TIMEOUT:
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
            self.on_outcome(_unsent(item, error))
        feed = self.feed
        while feed is not None:
            while feed.pending:
                self.on_outcome(_unsent(feed.pending.popleft(), error))
            if feed.closed and not feed.pending:
                break
            feed.arrived.clear()
            feed.hungry = True
            if not (feed.pending or feed.closed):
                feed.arrived.wait(0.05)
