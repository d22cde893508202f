"""Standard Webhooks signing and the SSRF-safe HTTP sender. No ORM here.

The sender resolves every host itself, refuses non-global addresses and connects to the
address it checked (aiohttp connects to what the resolver returns, keeping the host name for
SNI and the Host header), so DNS rebinding cannot slip a private address in between.
"""

import asyncio
import functools
import ipaddress
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
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


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that drops forbidden addresses; the connector then connects only to
    what is left. An IP-literal URL never reaches a resolver: `send_all` checks those."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_loopback = allow_loopback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [
            r
            for r in results
            if forbidden_reason(r["host"], allow_loopback=self._allow_loopback) is None
        ]
        if not allowed:
            raise OSError(f"{host} resolves only to addresses DIX may not call")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


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


def _refusal(url: str, allow_loopback: bool) -> str | None:
    """Why this URL may not be called as it stands (scheme, credentials, port, an IP-literal
    host that is not allowed), or None; a host name is checked when it is resolved
    (`GuardedResolver`). All of that is in the URL's scheme and authority, so the answer is
    kept per origin: parsing and classifying every URL of a fan-out (most endpoints share
    a few receivers) cost more than signing them (bench/fanout)."""
    scheme, sep, rest = url.partition("://")
    authority = rest
    for end in "/?#":
        authority = authority.split(end, 1)[0]
    return _origin_refusal(f"{scheme}{sep}{authority}", allow_loopback)


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


async def _send_one(session: aiohttp.ClientSession, item: Outgoing, cfg: SenderSettings) -> Outcome:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    status: int | None = None
    error = ""
    body = ""
    retry_after = None
    try:
        reason = _refusal(item.url, cfg.allow_loopback)
        if reason:
            raise UnsafeDestination(reason)
        headers = {
            "content-type": "application/json",
            "user-agent": "DIX-Webhooks/1.0",
            "webhook-id": item.webhook_id,
            "webhook-timestamp": str(int(started.timestamp())),
            "webhook-signature": sign(item.webhook_id, started, item.body, item.secrets),
        }
        async with session.post(
            item.url, data=item.body.encode(), headers=headers, allow_redirects=False
        ) as response:
            status = response.status
            raw = await response.content.read(RESPONSE_BODY_CAP)
            body = raw.decode("utf-8", "replace")
            retry_after = _retry_after(response.headers.get("Retry-After"))
    except UnsafeDestination as exc:
        error = f"refused: {exc}"
    except TimeoutError:
        error = "timeout"
    except aiohttp.ClientError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    except Exception as exc:
        # Whatever a receiver sends back, it fails its own delivery, never the batch.
        error = f"unexpected {type(exc).__name__}: {exc}"[:500]
    return Outcome(
        key=item.key,
        started_at=started,
        duration_ms=int((time.perf_counter() - clock) * 1000),
        status_code=status,
        # PostgreSQL text holds no NUL: one in a receiver's answer (or quoted in an error)
        # would fail the recording of the whole flush, and so every delivery in it.
        error=error.replace("\x00", "\ufffd"),
        response_body=body.replace("\x00", "\ufffd"),
        retry_after=retry_after,
    )


class Feed:
    """Items handed to a running `send_all` from another thread as they are prepared, so the
    first POSTs of a batch go out while the rest is still being rendered and signed."""

    def __init__(self) -> None:
        self.pending: deque[Outgoing] = deque()  # appends and pops are atomic across threads
        self.closed = False
        self.hungry = False  # a lane waits for items: wake the loop (else it will look anyway)
        self._wake: Callable[[], object] = lambda: None

    def put(self, item: Outgoing) -> None:
        self.pending.append(item)
        if self.hungry:
            self.hungry = False
            self._wake()

    def close(self) -> None:
        """No more items: `send_all` returns once those handed over are done."""
        self.closed = True
        self._wake()

    def attach(self, loop: asyncio.AbstractEventLoop, arrived: asyncio.Event) -> None:
        self._wake = lambda: loop.call_soon_threadsafe(arrived.set)


def new_session(cfg: SenderSettings) -> aiohttp.ClientSession:
    """An HTTP session that connects only to addresses the guard allows (see the module
    docstring), with the sender's connection limit and timeouts."""
    connector = aiohttp.TCPConnector(
        limit=cfg.concurrency,
        limit_per_host=0,
        resolver=GuardedResolver(allow_loopback=cfg.allow_loopback),
        ttl_dns_cache=10,
    )
    timeout = aiohttp.ClientTimeout(total=cfg.total_timeout, sock_connect=cfg.connect_timeout)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)


async def send_all(
    items: list[Outgoing] | Feed,
    cfg: SenderSettings,
    on_outcome: Callable[[Outcome], Any],
    session: aiohttp.ClientSession | None = None,
) -> None:
    """POST every item concurrently over reused connections; `on_outcome` is called as each
    one finishes, so a hanging receiver holds back nobody's result but its own. `items` is a
    list, or a `Feed` that another thread fills and then closes.

    `concurrency` lanes each take the next item whose endpoint has a free slot; an item whose
    endpoint already has `per_host` requests running waits, parked, without holding a lane,
    and the lane that finishes one of them hands it back: deliveries queued behind a slow
    endpoint wait without taking the lanes other endpoints need, and the request timeout
    starts only when the request really starts. (One task per item waiting on two semaphores
    cost ~25 µs more per request: bench/fanout.)

    `session`: one made by `new_session(cfg)` and kept by the caller (connections are then
    reused from one call to the next), else one for this call alone."""
    if session is None:
        async with new_session(cfg) as own:
            await send_all(items, cfg, on_outcome, own)
        return

    feed = items if isinstance(items, Feed) else None
    ready: deque[Outgoing] = deque() if isinstance(items, Feed) else deque(items)
    # Plain dicts: a Counter's or defaultdict's miss runs Python code, once per item here.
    parked: dict[int, deque[Outgoing]] = {}
    active: dict[int, int] = {}
    arrived = asyncio.Event()
    if feed is not None:
        feed.attach(asyncio.get_running_loop(), arrived)

    async def lane() -> None:
        while True:
            while feed is not None and feed.pending:
                ready.append(feed.pending.popleft())
            if not ready:
                if feed is None or (feed.closed and not feed.pending):
                    return
                arrived.clear()
                feed.hungry = True  # then look again: an item put meanwhile is seen
                if not (feed.pending or feed.closed):
                    await arrived.wait()
                continue
            item = ready.popleft()
            endpoint = item.endpoint
            running = active.get(endpoint, 0)
            if running >= cfg.per_host:
                parked.setdefault(endpoint, deque()).append(item)
                continue
            active[endpoint] = running + 1
            try:
                outcome = await _send_one(session, item, cfg)
            finally:
                active[endpoint] -= 1
                waiting = parked.get(endpoint)
                if waiting:
                    ready.appendleft(waiting.popleft())
                    if not waiting:
                        del parked[endpoint]
            on_outcome(outcome)

    lanes = cfg.concurrency if feed is not None else min(cfg.concurrency, len(ready))
    await asyncio.gather(*(lane() for _ in range(max(1, lanes))), return_exceptions=True)
