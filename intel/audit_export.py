"""The audit trail as CSV: one row per event, oldest first, with every hashed field written as
the exact text the hash covers, so the chain can be checked outside DIX (docs/audit.md,
"Verifying an export").

Columns: `id`, then `AuditEvent.HASHED_FIELDS` in their order (`previous_hash` last of them),
then `hash`. An id or `client_address` that is null is an empty cell; `created_at` is the
canonical UTC time to the millisecond; `detail` is its canonical JSON (sorted keys, numbers
as exact decimals: `1e2` for 100). The canonical content an event's hash covers is the JSON
object of the hashed fields with sorted keys, each value as canonical JSON: strings quoted,
ids as canonical numbers, `detail` as written in its cell.
"""

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from intel.models.audit import AuditEvent, canonical_address, canonical_json, canonical_time

COLUMNS = ("id", *AuditEvent.HASHED_FIELDS, "hash")
CHUNK = 2000


def csv_rows(events: QuerySet[AuditEvent], *, up_to: int) -> Iterator[bytes]:
    """The header, then each event of `events` with an id up to `up_to`, oldest first, read
    in chunks by id (no transaction held open while a slow client reads)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    last_id = 0
    while True:
        batch = list(events.filter(id__gt=last_id, id__lte=up_to).order_by("id")[:CHUNK])
        if not batch:
            return
        for event in batch:
            writer.writerow(_cells(event))
        yield _drain(buffer)
        last_id = batch[-1].pk


def _cells(event: AuditEvent) -> list[str]:
    return [
        str(event.pk),
        canonical_time(event.created_at),
        "" if event.actor_id is None else str(event.actor_id),
        event.actor_username,
        "" if event.organisation_id is None else str(event.organisation_id),
        event.organisation_slug,
        event.action,
        event.object_type,
        event.object_id,
        event.object_tlp,
        event.justification,
        canonical_address(event.client_address) or "",
        canonical_json(event.detail),
        event.previous_hash,
        event.hash,
    ]


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


assert COLUMNS[1:-1] == (
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
), "the cells of `_cells` follow AuditEvent.HASHED_FIELDS"
