"""Bulk writes of a flush: outcome fields, attempt rows and notice receipts, in one
statement each on PostgreSQL, through the ORM elsewhere (SQLite)."""

from datetime import datetime
from typing import Any

from django.db import connection

from notices.models import NoticeReceipt
from webhooks.engine.load import Leased
from webhooks.models import Delivery, DeliveryAttempt

_OUTCOME_FIELDS = (
    "attempts",
    "last_status_code",
    "last_error",
    "leased_until",
    "state",
    "completed_at",
    "next_attempt_at",
)
_OUTCOME_CASTS = (
    "integer",
    "integer",
    "varchar",
    "timestamptz",
    "varchar",
    "timestamptz",
    "timestamptz",
)


def update_outcomes(changed: list[Leased]) -> None:
    """Write the outcome fields of `changed`. On PostgreSQL: one `UPDATE … FROM unnest(one
    array per column)`, a statement of fixed size whatever the number of rows: Django's
    `bulk_update` builds a `CASE WHEN id = … THEN …` per field and row, and a `VALUES` list
    a placeholder per field and row, both costlier to build and parse than the HTTP requests
    they record. Elsewhere (SQLite): `bulk_update`."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        rows = [
            Delivery(pk=d.pk, **{name: getattr(d, name) for name in _OUTCOME_FIELDS})
            for d in changed
        ]
        Delivery.objects.bulk_update(rows, list(_OUTCOME_FIELDS), batch_size=500)
        return
    quote = connection.ops.quote_name
    columns = _OUTCOME_FIELDS  # the fields' column names are their names
    arrays = ", ".join(f"%s::{cast}[]" for cast in ("bigint", *_OUTCOME_CASTS))
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    names = ", ".join(quote(c) for c in ("id", *columns))
    params = [[d.pk for d in changed]] + [
        [getattr(d, name) for d in changed] for name in _OUTCOME_FIELDS
    ]
    # Only quoted column names and casts are interpolated; values are parameters.
    sql = (
        f"UPDATE {quote(Delivery._meta.db_table)} AS d SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS v({names}) WHERE d.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_ATTEMPT_FIELDS = (
    "delivery_id",
    "number",
    "trigger",
    "started_at",
    "duration_ms",
    "status_code",
    "error",
    "response_body",
    "next_attempt_at",
)


def insert_attempts(rows: list[tuple[Any, ...]]) -> None:
    """Insert attempt rows (values in `_ATTEMPT_FIELDS` order). On PostgreSQL with one
    `COPY`, which spares preparing every field of every row through the ORM as `bulk_create`
    does. Elsewhere (SQLite): `bulk_create`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(**dict(zip(_ATTEMPT_FIELDS, row, strict=True))) for row in rows],
            batch_size=1000,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f) for f in _ATTEMPT_FIELDS)  # the columns are these names
    table = quote(DeliveryAttempt._meta.db_table)
    # Only quoted names are interpolated; the rows travel as COPY data.
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert_receipts(pairs: set[tuple[int, int]], now: datetime) -> None:
    """Record that each (notice, organisation) received the notice at `now`; pairs already
    recorded are left as they are."""
    if not pairs:
        return
    # Sorted: two workers inserting overlapping receipts in different orders would each
    # wait for the other's uncommitted row (a deadlock); in one order they queue.
    ordered = sorted(pairs)
    if connection.vendor != "postgresql":
        NoticeReceipt.objects.bulk_create(
            [NoticeReceipt(notice_id=n, organisation_id=o, received_at=now) for n, o in ordered],
            ignore_conflicts=True,
        )
        return
    # What bulk_create(ignore_conflicts=True) does, without preparing a model per row.
    table = connection.ops.quote_name(NoticeReceipt._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (notice_id, organisation_id, received_at) "  # noqa: S608
            "SELECT n, o, %s FROM unnest(%s::bigint[], %s::bigint[]) "
            "WITH ORDINALITY AS v(n, o, i) ORDER BY i ON CONFLICT DO NOTHING",
            [now, [n for n, _ in ordered], [o for _, o in ordered]],
        )
