"""Standard Webhooks signing and the SSRF-safe HTTP sender. No ORM here.

The sender is libcurl's multi interface (pycurl): one thread drives many transfers over
reused connections, and the HTTP work runs in C with the GIL released. Measured on a 2-core
machine against bench/receiver.py, 10,000 POSTs over 100 connections: pycurl ~40,000/s and
0.2 s of CPU, aiohttp ~7,000/s and 1.4 s (the engine's previous client), pyreqwest ~11,000/s,
curl_cffi's asyncio session ~4,000/s (bench/README.md).

The sender resolves every host name itself, refuses non-global addresses and tells libcurl
to connect to the addresses it checked (`CURLOPT_RESOLVE`, set on every transfer: libcurl
never looks a name up itself; the URL's host is kept for SNI, certificate checks and the Host
header), so DNS rebinding cannot slip a private address in between. Proxies from the environment are ignored, redirects are not followed, and only
HTTP(S) is spoken.
"""

import concurrent.futures
import functools
import ipaddress
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
from urllib.parse import urlsplit

import pycurl
from standardwebhooks.webhooks import Webhook

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
    parts = urlsplit(url)
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
    concurrency: int
    per_host: int
    connect_timeout: float
    total_timeout: float
    allow_loopback: bool


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
    host that is not allowed), or None; a host name is checked when it is resolved
    (`_resolve`). All of that is in the URL's scheme and authority, so the answer is kept
    per origin: parsing and classifying every URL of a fan-out (most endpoints share a few
    receivers) cost more than signing them (bench/fanout)."""
    return _origin_refusal(_origin(url), allow_loopback)


@functools.lru_cache(maxsize=4096)
def _named_host(origin: str) -> tuple[str, int] | None:
    """The host name and port to resolve for an origin, or None when its host is an address."""
    parts = urlsplit(origin)
    host = parts.hostname or ""
    if _ip_literal(host):
        return None
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _resolve(host: str, port: int, allow_loopback: bool) -> str:
    """libcurl's `CURLOPT_RESOLVE` entry for `host`: its addresses DIX may call, in the
    resolver's order (libcurl tries them in turn). Blocking (runs on a resolver thread);
    raises `UnsafeDestination` when every address is forbidden, OSError when none resolves."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:
        raise OSError(f"{host!r} is not a valid host name") from exc
    allowed: list[str] = []
    reasons = []
    for info in infos:
        address = str(info[4][0])
        reason = forbidden_reason(address, allow_loopback=allow_loopback)
        if reason:
            reasons.append(reason)
        elif address not in allowed:
            allowed.append(address)
    if not allowed:
        raise UnsafeDestination(f"the host {host!r} resolves only to {reasons[0]}")
    listed = ",".join(f"[{a}]" if ":" in a else a for a in allowed)
    return f"{host}:{port}:{listed}"


@functools.lru_cache(maxsize=4096)
def _origin_refusal(origin: str, allow_loopback: bool) -> str | None:
    host = urlsplit(origin).hostname or ""
    if _ip_literal(host):  # the address first: it says most about what was refused
        reason = forbidden_reason(host.strip("[]"), allow_loopback=allow_loopback)
        if reason:
            return f"{host} is {reason}"
    try:
        check_url(origin, allow_loopback=allow_loopback, resolve=False)
    except UnsafeDestination as exc:
        return str(exc)
    return None


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


# A name's checked addresses are kept this long (the aiohttp sender's DNS cache did the same).
DNS_TTL = 10.0
# A kept connection idle for longer is not reused (closed when next looked at): the receiver
# may have closed it meanwhile.
IDLE_CONNECTION_SECONDS = 15
_CURL_TIMEOUT = pycurl.E_OPERATION_TIMEDOUT
_CURL_WRITE_ERROR = pycurl.E_WRITE_ERROR


def _trust_store() -> dict[int, str]:
    """The CA certificates Python's `ssl` trusts (the system's), for libcurl: a pycurl wheel
    brings its own OpenSSL, whose built-in path may not exist on this system."""
    paths = ssl.get_default_verify_paths()
    options = {}
    if paths.cafile:
        options[pycurl.CAINFO] = paths.cafile
    if paths.capath:
        options[pycurl.CAPATH] = paths.capath
    return options


class _Transfer:
    """One POST under way: its item, its clocks, and what the receiver has answered so far.
    `write` and `header` are libcurl's callbacks for it."""

    __slots__ = ("capped", "chunks", "clock", "item", "retry_after", "size", "started")

    def __init__(self, item: "Outgoing", started: datetime) -> None:
        self.item = item
        self.started = started
        self.clock = time.perf_counter()
        self.chunks: list[bytes] = []
        self.size = 0
        self.capped = False
        self.retry_after: str | None = None

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
        return Outcome(
            key=self.item.key,
            started_at=self.started,
            duration_ms=int((time.perf_counter() - self.clock) * 1000),
            status_code=status,
            # PostgreSQL text holds no NUL: one in a receiver's answer (or quoted in an
            # error) would fail the recording of the whole flush, and so every delivery.
            error=error.replace("\x00", "\ufffd"),
            response_body=b"".join(self.chunks)
            .decode("utf-8", "replace")
            .replace("\x00", "\ufffd"),
            retry_after=_retry_after(self.retry_after) if status is not None else None,
        )


class Feed:
    """Items handed to a running `send_all` from another thread as they are prepared, so the
    first POSTs of a batch go out while the rest is still being rendered and signed."""

    def __init__(self) -> None:
        self.pending: deque[Outgoing] = deque()  # appends and pops are atomic across threads
        self.closed = False
        self.hungry = False  # the sender waits for items: wake it (else it will look anyway)
        self.arrived = threading.Event()

    def put(self, item: "Outgoing") -> None:
        self.pending.append(item)
        if self.hungry:
            self.hungry = False
            self.arrived.set()

    def close(self) -> None:
        """No more items: `send_all` returns once those handed over are done."""
        self.closed = True
        self.arrived.set()


class Sender:
    """A libcurl multi handle, its easy handles and its checked addresses, kept from one
    `send_all` to the next so a batch reuses the connections (and, over HTTPS, the TLS
    sessions) of the last. Used by one thread at a time."""

    def __init__(self, cfg: SenderSettings) -> None:
        self.cfg = cfg
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, cfg.concurrency)
        self.idle: list[pycurl.Curl] = []
        self.handles: list[pycurl.Curl] = []
        self.trust = _trust_store()
        # (host, port) → (checked until, the address or the reason it may not be called)
        self.addresses: dict[tuple[str, int], tuple[float, str | Exception]] = {}
        self.resolving: dict[tuple[str, int], concurrent.futures.Future[str]] = {}
        self.resolver = concurrent.futures.ThreadPoolExecutor(4, "dix-webhook-dns")

    def __enter__(self) -> "Sender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        self.multi.close()
        self.resolver.shutdown(wait=False, cancel_futures=True)

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

    def address(self, url: str, outcomes: list["Outcome"], item: "Outgoing") -> str | None:
        """The checked addresses of `item`'s host, as a `CURLOPT_RESOLVE` entry: "" when the
        URL's host is an address (checked by `_refusal`), None when the name is being
        resolved (the item waits in `waiting`) or may not be called (its refusal is put in
        `outcomes`)."""
        named = _named_host(_origin(url))
        if named is None:
            return ""
        known = self.addresses.get(named)
        if known is not None and known[0] > time.monotonic():
            if isinstance(known[1], Exception):
                outcomes.append(_failed(item, known[1]))
                return None
            return known[1]
        if named not in self.resolving:
            self.resolving[named] = self.resolver.submit(_resolve, *named, self.cfg.allow_loopback)
        return None

    def resolved(self) -> bool:
        """Move finished resolutions into `addresses`; True if any finished."""
        done = [key for key, future in self.resolving.items() if future.done()]
        for key in done:
            future = self.resolving.pop(key)
            try:
                found: str | Exception = future.result()
            except Exception as exc:
                found = exc
            self.addresses[key] = (time.monotonic() + DNS_TTL, found)
        return bool(done)


def _failed(item: "Outgoing", exc: Exception) -> "Outcome":
    if isinstance(exc, UnsafeDestination):
        error = f"refused: {exc}"
    else:
        error = f"{type(exc).__name__}: {exc}"[:500]
    return _Transfer(item, datetime.now(UTC)).outcome(None, error)


def send_all(
    items: "list[Outgoing] | Feed",
    cfg: SenderSettings,
    on_outcome: Callable[["Outcome"], Any],
    sender: Sender | None = None,
) -> None:
    """POST every item concurrently over reused connections, in this thread; `on_outcome` is
    called as each one finishes, so a hanging receiver holds back nobody's result but its
    own. `items` is a list, or a `Feed` that another thread fills and then closes.

    At most `concurrency` transfers run at once and at most `per_host` per endpoint; an item
    whose endpoint is busy waits, parked, and starts when one of that endpoint's transfers
    ends, so deliveries queued behind a slow endpoint never take the slots other endpoints
    need, and the request timeout starts only when the request really starts. An item whose
    host name is being resolved waits likewise (resolving runs on other threads).

    `sender`: one kept by the caller (connections are then reused from one call to the
    next), else one for this call alone."""
    if sender is None:
        with Sender(cfg) as own:
            send_all(items, cfg, on_outcome, own)
        return

    feed = items if isinstance(items, Feed) else None
    ready: deque[Outgoing] = deque() if isinstance(items, Feed) else deque(items)
    # Plain dicts: a Counter's or defaultdict's miss runs Python code, once per item here.
    parked: dict[int, deque[Outgoing]] = {}
    waiting: dict[tuple[str, int], list[Outgoing]] = {}
    active: dict[int, int] = {}
    running: dict[pycurl.Curl, _Transfer] = {}
    multi = sender.multi
    per_host = cfg.per_host
    concurrency = cfg.concurrency
    outcomes: list[Outcome] = []

    def finish(handle: pycurl.Curl, errno: int, message: str) -> None:
        transfer = running.pop(handle)
        multi.remove_handle(handle)
        sender.idle.append(handle)
        status = handle.getinfo(pycurl.RESPONSE_CODE) or None
        if errno == 0 or (errno == _CURL_WRITE_ERROR and transfer.capped):
            error = ""
        elif errno == _CURL_TIMEOUT:
            error = "timeout"
        else:
            error = f"curl error {errno}: {message}"[:500]
        outcomes.append(transfer.outcome(status, error))
        endpoint = transfer.item.endpoint
        active[endpoint] -= 1
        queued = parked.get(endpoint)
        if queued:
            ready.appendleft(queued.popleft())
            if not queued:
                del parked[endpoint]

    while True:
        if feed is not None:
            pending = feed.pending
            while pending:
                ready.append(pending.popleft())
        if sender.resolving and sender.resolved():
            for items_of_host in waiting.values():
                ready.extendleft(reversed(items_of_host))
            waiting.clear()
        while ready and len(running) < concurrency:
            item = ready.popleft()
            endpoint = item.endpoint
            count = active.get(endpoint, 0)
            if count >= per_host:
                parked.setdefault(endpoint, deque()).append(item)
                continue
            reason = _refusal(item.url, cfg.allow_loopback)
            if reason:
                outcomes.append(_failed(item, UnsafeDestination(reason)))
                continue
            address = sender.address(item.url, outcomes, item)
            if address is None:
                named = _named_host(_origin(item.url))
                if named in sender.resolving:
                    waiting.setdefault(named, []).append(item)
                continue
            started = datetime.now(UTC)
            transfer = _Transfer(item, started)
            handle = sender.handle()
            try:
                handle.setopt(pycurl.URL, item.url)
                # A name is looked up in these entries only, never by libcurl itself: it
                # connects to the addresses that were checked.
                handle.setopt(pycurl.RESOLVE, [address] if address else [])
                handle.setopt(pycurl.POSTFIELDS, item.body.encode())
                handle.setopt(
                    pycurl.HTTPHEADER,
                    [
                        "Content-Type: application/json",
                        "Expect:",  # no `100-continue` round trip before the body
                        f"webhook-id: {item.webhook_id}",
                        f"webhook-timestamp: {int(started.timestamp())}",
                        "webhook-signature: "
                        + sign(item.webhook_id, started, item.body, item.secrets),
                    ],
                )
                handle.setopt(pycurl.WRITEFUNCTION, transfer.write)
                handle.setopt(pycurl.HEADERFUNCTION, transfer.header)
                multi.add_handle(handle)
            except Exception as exc:  # an item libcurl will not take fails alone
                sender.idle.append(handle)
                outcomes.append(transfer.outcome(None, f"unexpected {type(exc).__name__}: {exc}"))
                continue
            active[endpoint] = count + 1
            running[handle] = transfer

        if running:
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            while True:
                queued_messages, succeeded, failed = multi.info_read()
                for handle in succeeded:
                    finish(handle, 0, "")
                for handle, errno, message in failed:
                    finish(handle, errno, message)
                if not queued_messages:
                    break
        if outcomes:
            for outcome in outcomes:
                on_outcome(outcome)
            outcomes.clear()
            continue  # slots were freed: start what is ready before waiting
        if running:
            # Wait for the sockets; look at the feed (and the resolvers) every 2 ms while
            # they may bring work. (libcurl's fd_set holds descriptors below FD_SETSIZE,
            # 1,024: a transfer on a higher one still progresses, at this wait's pace.)
            open_feed = feed is not None and not feed.closed
            multi.select(0.002 if (open_feed or sender.resolving) else 0.01)
            continue
        if ready:
            continue
        if sender.resolving:
            concurrent.futures.wait(
                sender.resolving.values(), timeout=0.05, return_when="FIRST_COMPLETED"
            )
            continue
        if feed is None or (feed.closed and not feed.pending):
            return
        feed.arrived.clear()
        feed.hungry = True  # then look again: an item put meanwhile is seen
        if not (feed.pending or feed.closed):
            feed.arrived.wait(0.05)
