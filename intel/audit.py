"""Recording audit events: one call per auditable action, from the services and views.

`record(...)` appends one `AuditEvent` to the hash chain inside the caller's transaction, so
an action and its event commit (or roll back) together. Appends are serialised: on
PostgreSQL by a transaction-scoped advisory lock, on SQLite by its IMMEDIATE transactions.

The lock is held until the caller's transaction ends, and every audited write in the system
waits for it: call `record` as the *last* statement of a transaction, after its row locks
and outbox rows. A transaction that takes the chain lock and then waits for a row lock held
by one that is itself waiting for the chain lock would deadlock (PostgreSQL breaks the
deadlock by failing one of them).

The client address and the justification come from the request being served (set by
`AuditContextMiddleware`), or from an explicit `request=`; the services need no request
argument. The justification is the optional `X-DIX-Justification` header (docs/audit.md).

What is recorded (docs/audit.md): every read of an AMBER, AMBER+STRICT or RED object's detail,
every write, publication, withdrawal, access decision, export, IMEI check, token issued or
revoked, and subscription change.
"""

import datetime as dt
import ipaddress
import math
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from intel.audit_details import checked_detail
from intel.models.audit import GENESIS, AuditEvent, canonical_address
from intel.models.tlp import TLP

if TYPE_CHECKING:
    from intel.models.network import Member

# Any constant that no other advisory lock of this database uses.
_CHAIN_LOCK = 0x_D1C_A0D17

RESTRICTED_LABELS = frozenset({TLP.AMBER, TLP.AMBER_STRICT, TLP.RED})
JUSTIFICATION_HEADER = "X-DIX-Justification"
JUSTIFICATION_MAX = 1000

_current_request: ContextVar[Any] = ContextVar("dix_audit_request", default=None)


class AuditContextMiddleware:
    """Makes the request being served known to `record`, for its client address and
    justification, whichever service or admin action ends up recording."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def client_address(request: HttpRequest | Any | None) -> str | None:
    """The client's address in canonical notation: the peer the WSGI server saw
    (`REMOTE_ADDR`), or, when that peer is one of `DIX_TRUSTED_PROXIES`, the address that
    proxy put in `X-Forwarded-For`. The header is read from the right, past every trusted
    proxy, so a client cannot choose its address by sending the header itself; from an
    untrusted peer it is ignored.

    A peer without an address is the proxy in front of a Unix socket: trusted only when
    `DIX_TRUSTED_PROXIES` names `unix`. None when no address is known."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    address = canonical_address(meta.get("REMOTE_ADDR"))
    trusted = settings.DIX_TRUSTED_PROXIES
    socket_trusted = address is None and settings.DIX_TRUSTED_UNIX_SOCKET
    if not socket_trusted and (address is None or not trusted):
        return address
    forwarded = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    while forwarded and (socket_trusted or _is_trusted(str(address), trusted)):
        socket_trusted = False
        hop = canonical_address(forwarded.pop())
        if hop is None:  # a hop the proxy could not name: the proxy is all that is known
            break
        address = hop
    return address


def _is_trusted(address: str, trusted: list[Any]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == network.version and ip in network for network in trusted)


def justification_of(request: HttpRequest | Any | None) -> str:
    """The `X-DIX-Justification` header. WSGI hands headers over as Latin-1; a client that
    sent UTF-8 gets its text back."""
    if request is None:
        return ""
    raw = getattr(request, "META", {}).get("HTTP_X_DIX_JUSTIFICATION", "")
    try:
        return str(raw.encode("latin-1").decode("utf-8"))
    except (UnicodeEncodeError, UnicodeDecodeError):
        return str(raw)


def record(
    *,
    action: str,
    actor: "Member | None",
    object_type: str = "",
    object_id: Any = "",
    object_tlp: str = "",
    justification: str = "",
    request: HttpRequest | Any | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain (in the caller's transaction, if any: call it last).

    Text is stored as the database can hold it (no NUL, cut to the column's length) and
    `detail` as plain JSON (decimals, times and ids become strings), so that what is hashed
    is exactly what is stored and read back. `detail` holds only the keys its action allows
    (intel/audit_details.py)."""
    event = _append(
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_tlp=object_tlp,
        justification=justification,
        request=request,
        detail=detail,
        unless_since=None,
    )
    assert event is not None
    return event


def record_once(
    *,
    since: dt.datetime,
    action: str,
    actor: "Member",
    object_type: str,
    object_id: Any,
    object_tlp: str = "",
    request: HttpRequest | Any | None = None,
) -> AuditEvent | None:
    """Append the event unless the same actor already has one of this action on this object
    at or after `since` (None then). Checked under the chain lock, so two concurrent requests
    cannot both append it."""
    if _recorded_since(since, action, actor, object_type, object_id):
        return None  # the usual case for a repeated probe: no wait for the chain lock
    return _append(
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_tlp=object_tlp,
        justification="",
        request=request,
        detail=None,
        unless_since=since,
    )


def _append(
    *,
    action: str,
    actor: "Member | None",
    object_type: str,
    object_id: Any,
    object_tlp: str,
    justification: str,
    request: HttpRequest | Any | None,
    detail: dict[str, Any] | None,
    unless_since: dt.datetime | None,
) -> AuditEvent | None:
    request = request if request is not None else _current_request.get()
    org = getattr(actor, "organisation", None) if actor is not None else None
    detail = checked_detail(action, detail or {})
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        if unless_since is not None and _recorded_since(
            unless_since, action, actor, object_type, object_id
        ):
            return None
        previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=_now(),
            actor_id=getattr(actor, "pk", None),
            actor_username=_text(getattr(actor, "username", ""), "actor_username"),
            organisation_id=getattr(org, "pk", None),
            organisation_slug=_text(getattr(org, "slug", ""), "organisation_slug"),
            action=_text(action, "action"),
            object_type=_text(object_type, "object_type"),
            object_id=_text(object_id, "object_id"),
            object_tlp=_text(object_tlp, "object_tlp"),
            justification=_text(justification or justification_of(request), JUSTIFICATION_MAX),
            client_address=client_address(request),
            detail=_plain_json(detail),
            previous_hash=previous or GENESIS,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def _recorded_since(
    since: dt.datetime, action: str, actor: "Member | None", object_type: str, object_id: Any
) -> bool:
    return AuditEvent.objects.filter(
        object_type=_text(object_type, "object_type"),
        object_id=_text(object_id, "object_id"),
        action=action,
        actor_id=getattr(actor, "pk", None),
        created_at__gte=since,
    ).exists()


def record_read(
    *,
    actor: "Member",
    object_type: str,
    object_id: Any,
    object_tlp: str,
    action: str = "",
    request: HttpRequest | Any | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record a detail read (`<object_type>.read` unless `action` says otherwise) when the
    object is AMBER, AMBER+STRICT or RED; lower labels are not recorded."""
    if object_tlp not in RESTRICTED_LABELS:
        return None
    return record(
        action=action or f"{object_type}.read",
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_tlp=object_tlp,
        request=request,
        detail=detail,
    )


def _now() -> dt.datetime:
    """Taken under the lock, so times follow the chain; whole milliseconds, the precision
    the hash covers and a JSON dump keeps."""
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _text(value: Any, limit: str | int) -> str:
    """Text a database column takes: no NUL (PostgreSQL refuses it), no lone surrogates
    (not UTF-8), at most the column's length (PostgreSQL refuses longer, SQLite keeps it)."""
    text = ("" if value is None else str(value)).replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    if isinstance(limit, str):
        column = AuditEvent._meta.get_field(limit)
        assert isinstance(column, models.CharField)
        assert column.max_length is not None
        limit = column.max_length
    return text[:limit]


def _plain_json(value: Any) -> Any:
    """`value` as JSON both databases store and return unchanged."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _text(value, 100_000)
    if isinstance(value, dict):
        return {_text(key, 200): _plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item) for item in value]
    if isinstance(value, set | frozenset):
        return [_plain_json(item) for item in sorted(value, key=str)]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return _text(value, 100_000)


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str


def verify(chunk: int = 2000) -> tuple[int, BrokenLink | None]:
    """Walk the chain in id order: (events checked, the first broken link or None).

    A changed row fails its own hash. A deleted row (or one rewritten with a recomputed hash)
    shows at the next event, whose `previous_hash` no longer names the event before it."""
    expected_previous = GENESIS
    previous_id: int | None = None
    checked = 0
    for event in _in_order(chunk):
        if event.previous_hash != expected_previous:
            if previous_id is None:
                reason = (
                    "it is the first event but does not start the chain: earlier events are missing"
                )
            else:
                reason = (
                    f"its previous_hash does not name event {previous_id} before it: an event "
                    f"between them was deleted, or event {previous_id} was rewritten"
                )
            return checked, BrokenLink(event.pk, reason)
        try:
            intact = event.compute_hash() == event.hash
        except (TypeError, ValueError):  # a value no recorded event can hold
            intact = False
        if not intact:
            return checked, BrokenLink(event.pk, "its content does not match its hash")
        expected_previous = event.hash
        previous_id = event.pk
        checked += 1
    return checked, None


def head() -> AuditEvent | None:
    """The last event of the chain: its hash, kept outside DIX, lets a later verification
    prove that nothing after it was removed (`audit_verify --anchor`)."""
    return AuditEvent.objects.order_by("-id").first()


def _in_order(chunk: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:chunk])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk
