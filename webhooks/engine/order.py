"""Per endpoint and notice, events go out in the order they happened: which leased notice
deliveries are superseded by a newer one, and which must wait for an earlier one in flight."""

from collections.abc import Sequence

from notices.models import Notice, NoticeStatus
from webhooks.engine.load import NOTICE_EVENTS, Leased
from webhooks.models import Delivery, DeliveryState


def notice_order(deliveries: Sequence[Leased]) -> tuple[set[int], set[int]]:
    """Per endpoint and notice, events go out in the order they happened, and never an older
    one after a newer: of the leased notice deliveries, those superseded (the endpoint has
    a newer delivery of the notice, whatever became of it) and those that must wait (an
    earlier one of the notice to the endpoint is being sent). Events of a notice are
    written under its row lock, so their ids are in the order of the events."""
    candidates = [
        d for d in deliveries if d.notice_id is not None and d.event_type in NOTICE_EVENTS
    ]
    if not candidates:
        return set(), set()
    notice_ids = {d.notice_id for d in candidates}
    # A notice whose publication is all that has happened to it has no other event: most
    # fan-outs need no look at other deliveries.
    only_published = set(
        Notice.objects.filter(
            pk__in=notice_ids, version=1, status=NoticeStatus.PUBLISHED
        ).values_list("pk", flat=True)
    )
    candidates = [d for d in candidates if d.notice_id not in only_published]
    if not candidates:
        return set(), set()
    leased = {d.pk for d in deliveries}
    newest: dict[tuple[int, int], int] = {}
    in_flight: dict[tuple[int, int], int] = {}  # the earliest being sent elsewhere
    rows = Delivery.objects.filter(
        notice_id__in={d.notice_id for d in candidates},
        subscription_id__in={d.subscription_id for d in candidates},
        event_type__in=NOTICE_EVENTS,
    ).values_list("pk", "subscription_id", "notice_id", "state")
    for pk, sub_id, notice_id, state in rows:
        key = (sub_id, notice_id)
        newest[key] = max(pk, newest.get(key, 0))
        if state == DeliveryState.SENDING and pk not in leased:
            in_flight[key] = min(pk, in_flight.get(key, pk))
    superseded, waiting = set(), set()
    for d in candidates:
        key = (d.subscription_id, d.notice_id)  # type: ignore[assignment]
        if newest.get(key, d.pk) > d.pk:
            superseded.add(d.pk)
        elif in_flight.get(key, d.pk) < d.pk:
            waiting.add(d.pk)
    return superseded, waiting
