"""Leases: taking due deliveries for this worker, renewing what it still holds, and the
test delivery created already leased."""

import contextlib
import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.events import EventType
from webhooks.engine.reconnect import CONNECTION_ERRORS
from webhooks.models import Delivery, DeliveryState, Subscription

log = logging.getLogger("dix.delivery")


def lease_due(limit: int) -> list[int]:
    """Take up to `limit` due deliveries for this worker: state → sending, with a lease."""
    now = timezone.now()
    until = now + timedelta(seconds=settings.DIX_WEBHOOK_LEASE_SECONDS)
    with transaction.atomic():
        due = (
            Delivery.objects.due(now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if connection.vendor != "postgresql":
            ids = list(due)
            if ids:
                Delivery.objects.filter(id__in=ids).update(
                    state=DeliveryState.SENDING, leased_until=until
                )
            return ids
        # One statement: the rows taken (locked, skipping those another worker holds) and
        # leased, their ids returned, instead of a SELECT and then an UPDATE of a batch of
        # ids compiled by the ORM.
        sql, params = due.query.sql_with_params()
        table = connection.ops.quote_name(Delivery._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH taken AS ({sql}) "  # noqa: S608 - the ORM's own SQL and a quoted name
                f"UPDATE {table} AS d SET state = %s, leased_until = %s "
                "FROM taken WHERE d.id = taken.id RETURNING d.id",
                [*params, DeliveryState.SENDING.value, until],
            )
            ids = [row[0] for row in cursor.fetchall()]
    ids.sort()
    return ids


def renew_leases(ids: Iterable[int]) -> None:
    """Renew the leases of deliveries this worker still holds, so nobody else takes them; a
    killed worker stops renewing and its rows fall due again. A lost connection is dropped
    and the renewal tried again at the next turn."""
    until = timezone.now() + timedelta(seconds=settings.DIX_WEBHOOK_LEASE_SECONDS)
    try:
        Delivery.objects.filter(id__in=list(ids), state=DeliveryState.SENDING).update(
            leased_until=until
        )
    except CONNECTION_ERRORS:
        log.warning("leases could not be renewed; trying again")
        with contextlib.suppress(Exception):
            connection.close()


def leased_test_delivery(subscription: Subscription) -> Delivery:
    """A `dix.test` delivery created already leased, so no worker takes it first. Nobody
    renews this lease: it outlasts the longest request."""
    seconds = settings.DIX_WEBHOOK_LEASE_SECONDS + settings.DIX_WEBHOOK_TIMEOUT
    return Delivery.objects.create(
        subscription=subscription,
        event_type=EventType.TEST,
        state=DeliveryState.SENDING,
        next_attempt_at=None,
        leased_until=timezone.now() + timedelta(seconds=seconds),
    )
