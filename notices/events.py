"""Webhook events of the exchange's workflows: `access_request.created`,
`access_request.decided` and `seizure.reported`.

They travel through the same outbox as notices: one `Delivery` per subscription of each
organisation concerned, written in the caller's transaction, queued on commit, retried from
the database, entitlement checked again before every attempt (`notices.delivery`).

Who is told:
- `access_request.created`: the deciding organisation (the object's owner or issuer);
- `access_request.decided`: the requesting organisation and the one it asked on behalf of;
- `seizure.reported`: the organisations the report was sent to (the linked notice's issuer
  among them), as far as the report's label lets each endpoint see it.
"""

from collections.abc import Iterable
from typing import Any

from intel.models import AccessRequest
from notices.models import Delivery, EventType, SeizureReport, Subscription
from notices.services import queue_delivery_work


def fan_out_access_request(access_request: AccessRequest, event: str) -> int:
    """One delivery per subscription (to this event) of the organisations concerned."""
    if event == EventType.ACCESS_REQUEST_CREATED:
        org_ids = {access_request.owner_id}
    else:
        org_ids = {access_request.organisation_id}
        if access_request.on_behalf_of_id is not None:
            org_ids.add(access_request.on_behalf_of_id)
    return _write(_subscriptions(org_ids, event), event=event, access_request=access_request)


def fan_out_seizure_reported(report: SeizureReport) -> int:
    org_ids = set(report.recipient_organisations.values_list("pk", flat=True))
    org_ids.discard(report.organisation_id)
    return _write(
        _subscriptions(org_ids, EventType.SEIZURE_REPORTED),
        event=EventType.SEIZURE_REPORTED,
        seizure_report=report,
    )


def _subscriptions(org_ids: Iterable[int], event: str) -> list[Subscription]:
    return [
        s
        for s in Subscription.objects.filter(enabled=True, organisation_id__in=list(org_ids))
        if event in s.event_types
    ]


def _write(subs: list[Subscription], *, event: str, **target: Any) -> int:
    deliveries = [Delivery(subscription=s, event_type=event, **target) for s in subs]
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        queue_delivery_work(len(deliveries))
    return len(deliveries)
