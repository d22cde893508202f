"""Loading leased deliveries: the rows still leased, with their endpoints, as plain values."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.events import EventType
from intel.models import Organisation
from webhooks.models import Delivery, DeliveryState, Subscription, label_cap

NOTICE_EVENTS = (EventType.NOTICE_PUBLISHED, EventType.NOTICE_UPDATED, EventType.NOTICE_WITHDRAWN)


@dataclass(slots=True)
class Endpoint:
    """What the engine reads of a subscription, loaded as plain values: model instances of
    every delivery, endpoint, organisation and creator of a batch cost more to build than
    the batch's requests. The organisation is a model, one per organisation."""

    pk: int
    url: str
    enabled: bool
    organisation_id: int
    organisation: Organisation
    label_cap: str
    secret_encrypted: str
    previous_secret_encrypted: str
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None


@dataclass(slots=True)
class Leased:
    """One leased delivery: what it is about, and the outcome fields `Recorder` writes
    (the names of `Delivery`'s fields, so either may be recorded)."""

    pk: int
    subscription_id: int
    subscription: Endpoint
    event_type: str
    notice_id: int | None
    notice_version: int | None
    notice_status: str
    profile_id: int | None
    access_request_id: int | None
    seizure_report_id: int | None
    webhook_id: str
    attempts: int
    last_status_code: int | None
    last_error: str
    completed_at: datetime | None
    state: str = DeliveryState.SENDING
    leased_until: datetime | None = None
    next_attempt_at: datetime | None = None


# The renderer and the recorder take either: the engine's rows, or model instances.
AnyDelivery = Delivery | Leased
AnyEndpoint = Subscription | Endpoint

_LEASED_COLUMNS = (
    "id",
    "subscription_id",
    "event_type",
    "notice_id",
    "notice_version",
    "notice_status",
    "profile_id",
    "access_request_id",
    "seizure_report_id",
    "webhook_id",
    "attempts",
    "last_status_code",
    "last_error",
    "completed_at",
    "subscription__url",
    "subscription__enabled",
    "subscription__organisation_id",
    "subscription__max_tlp",
    "subscription__created_by__clearance",
    "subscription__secret_encrypted",
    "subscription__previous_secret_encrypted",
    "subscription__previous_secret_expires_at",
    "subscription__failing_since",
)


def load_leased(ids: Sequence[int]) -> list[Leased]:
    """The deliveries among `ids` still leased (state sending), with their endpoints, in
    two queries (the rows, then their organisations with their sponsors)."""
    rows = list(
        Delivery.objects.filter(id__in=ids, state=DeliveryState.SENDING)
        .order_by("id")
        .values_list(*_LEASED_COLUMNS)
    )
    organisations = Organisation.objects.select_related("sponsor").in_bulk(
        {row[16] for row in rows}
    )
    endpoints: dict[int, Endpoint] = {}
    leased = []
    for (pk, sub_id, event, notice, version, announced, profile, access_request, report, webhook_id, attempts,
         status, error, completed, url, enabled, org_id, max_tlp, clearance, secret,
         previous, previous_until, failing_since) in rows:  # fmt: skip
        if sub_id not in endpoints:
            endpoints[sub_id] = Endpoint(
                pk=sub_id,
                url=url,
                enabled=enabled,
                organisation_id=org_id,
                organisation=organisations[org_id],
                label_cap=label_cap(max_tlp, clearance),
                secret_encrypted=secret,
                previous_secret_encrypted=previous,
                previous_secret_expires_at=previous_until,
                failing_since=failing_since,
            )
        leased.append(
            Leased(
                pk=pk,
                subscription_id=sub_id,
                subscription=endpoints[sub_id],
                event_type=event,
                notice_id=notice,
                notice_version=version,
                notice_status=announced,
                profile_id=profile,
                access_request_id=access_request,
                seizure_report_id=report,
                webhook_id=webhook_id,
                attempts=attempts,
                last_status_code=status,
                last_error=error,
                completed_at=completed,
            )
        )
    return leased
