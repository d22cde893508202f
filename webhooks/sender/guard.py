"""Where a webhook may go: only HTTP(S) to addresses on the public internet (the SSRF guard).

`forbidden_reason` classifies an address; `check_url` refuses a URL as a subscription is
written; `refusal` is the check of every URL the sender is about to call, kept per origin
since all it looks at is the scheme and the authority. The addresses a host name resolves
to are checked where a connection is opened (`transfer.Transfer.open_socket`).
"""

import functools
import ipaddress
import socket
from urllib.parse import quote, urlsplit, urlunsplit

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


def refusal(url: str, allow_loopback: bool) -> str | None:
    """Why this URL may not be called as it stands (scheme, credentials, port, an IP-literal
    host that is not allowed), or None; every address a host name resolves to is checked
    when a connection to it is opened (`Transfer.open_socket`). All of that is in the URL's
    scheme and authority, so the answer is kept per origin: most endpoints of a fan-out
    share a few receivers."""
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
def ascii_url(url: str) -> str:
    """The URL as libcurl takes it: ASCII, an internationalised host name in its IDNA form
    and any other non-ASCII character percent-encoded. Raises ValueError
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
