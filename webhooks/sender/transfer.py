"""One POST under way with libcurl: its callbacks (the socket guard, the capped body, the
Retry-After header) and the outcome it ends in."""

import logging
import socket
import ssl
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pycurl

from webhooks.sender.guard import forbidden_reason
from webhooks.sender.items import Outcome, Outgoing

log = logging.getLogger("dix.webhooks")

RESPONSE_BODY_CAP = 4096


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's wait in seconds (delay-seconds or an HTTP date), or None."""
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
CURL_TIMEOUT = pycurl.E_OPERATION_TIMEDOUT
CURL_WRITE_ERROR = pycurl.E_WRITE_ERROR
_INTERNET = (socket.AF_INET, socket.AF_INET6)


def trust_store() -> dict[int, str]:
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


class Transfer:
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

    def __init__(self, item: Outgoing, started: datetime, allow_loopback: bool) -> None:
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

    def outcome(self, status: int | None, error: str) -> Outcome:
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
            retry_after=retry_after_seconds(self.retry_after) if status is not None else None,
        )


def never_sent(item: Outgoing, error: str) -> Outcome:
    """The outcome of an item that was never sent."""
    return Transfer(item, datetime.now(UTC), False).outcome(None, error)
