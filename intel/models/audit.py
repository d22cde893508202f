"""The audit trail: append-only, hash-chained events.

Each event stores the SHA-256 of its own canonical content together with the previous event's
hash, so changing, deleting or reordering any row breaks the chain at that row
(`manage.py audit_verify`). Events are appended one at a time under a lock (a PostgreSQL
advisory lock held to the end of the transaction; SQLite's IMMEDIATE transactions serialise
writers), so the chain's order is the order of ids; `previous_hash` is unique, so two events
can never claim the same predecessor (a fork is refused by the database, not found later).
The application has no path to change or delete an event: the model and its queryset refuse
it, the model has only a "view" permission, and the admin shows events read-only.

The hash is computed over a canonical form that does not depend on how a database returns
the values (`canonical_content`): JSON numbers as exact decimals (PostgreSQL's jsonb returns
`1e20` as `100000000000000000000`), addresses in one notation (PostgreSQL's inet and Python
print IPv6 differently), times in UTC to the millisecond (what a JSON `dumpdata` keeps). A
chain written on SQLite verifies on PostgreSQL after a dump and load, and the other way round.
"""

import hashlib
import ipaddress
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone

GENESIS = "0" * 64
APPEND_ONLY = "Audit events are append-only."


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    """Refuses every bulk write: updates, deletes, and inserts that bypass the chain."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError(APPEND_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY)

    def bulk_create(self, *args: Any, **kwargs: Any) -> list["AuditEvent"]:
        raise PermissionError("Audit events are appended one at a time by intel.audit.record.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise PermissionError(APPEND_ONLY)

    def _raw_delete(self, *args: Any, **kwargs: Any) -> int:
        raise PermissionError(APPEND_ONLY)

    def _update(self, values: Any) -> int:
        """The UPDATE behind `Model.save_base`, which `loaddata` calls directly (bypassing
        `AuditEvent.save`): refused when it would touch an event. Touching none answers 0,
        so loading a dumped trail into an empty database still inserts its events."""
        if self.exists():
            raise PermissionError(APPEND_ONLY)
        return 0


class AuditEvent(models.Model):
    """Who did (or read) what, when, from where. Actor and organisation are kept as ids and
    names at the time, not foreign keys: deleting a member never touches the trail. An empty
    actor is the platform itself (a command-line operator, the scheduler, a worker)."""

    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="When it happened."
    )
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    organisation_id = models.BigIntegerField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The id of the actor's organisation; null for a platform superuser or the system.",
    )
    organisation_slug = models.CharField(max_length=80, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(
        max_length=40,
        blank=True,
        help_text="What kind of object the action concerns (`profile`, `notice`, `access_request`…); empty when none.",
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_tlp = models.CharField(max_length=20, blank=True)
    justification = models.TextField(blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    HASHED_FIELDS: ClassVar[tuple[str, ...]] = (
        "created_at",
        "actor_id",
        "actor_username",
        "organisation_id",
        "organisation_slug",
        "action",
        "object_type",
        "object_id",
        "object_tlp",
        "justification",
        "client_address",
        "detail",
        "previous_hash",
    )

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["object_type", "object_id"])]
        # No add, change or delete permission exists to be granted, to anyone.
        default_permissions = ("view",)
        # Django saves and deletes through the base manager: make it the refusing one.
        base_manager_name = "objects"

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise PermissionError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY)

    def canonical_content(self) -> str:
        """The hashed fields (the previous hash included) as canonical JSON."""
        content: dict[str, Any] = {name: getattr(self, name) for name in self.HASHED_FIELDS}
        content["created_at"] = canonical_time(self.created_at)
        content["client_address"] = canonical_address(self.client_address)
        return canonical_json(content)

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical_content().encode()).hexdigest()


def canonical_time(value: datetime) -> str:
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    # Milliseconds: what Django's JSON serializer keeps (`dumpdata`), and what `record`
    # stores, so no digit is stored that the hash does not cover.
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def canonical_address(value: str | None) -> str | None:
    """One notation per address: IPv4-mapped IPv6 as IPv4, IPv6 compressed and lower-case,
    no zone. None for anything that is not an address (a Unix socket's peer, say)."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(str(value).strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.compressed


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, and numbers as exact decimals without trailing
    zeros (`1`, `15e-8`, `1e20`): equal values give equal text whatever their notation."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _decimal_text(Decimal(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Audit content cannot hold NaN or infinity.")
        # repr is the shortest text that reads back as the same float: the text json stored.
        return _decimal_text(Decimal(repr(value)))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(((str(key), item) for key, item in value.items()), key=lambda kv: kv[0])
        return "{" + ",".join(f"{canonical_json(k)}:{canonical_json(v)}" for k, v in items) + "}"
    raise TypeError(f"Audit content cannot hold {type(value).__name__}.")


def _decimal_text(number: Decimal) -> str:
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    figures = list(digits)
    while len(figures) > 1 and figures[-1] == 0:
        figures.pop()
        exponent += 1
    if figures == [0]:
        return "0"
    text = ("-" if sign else "") + "".join(map(str, figures))
    return f"{text}e{exponent}" if exponent else text
