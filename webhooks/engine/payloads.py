"""Payloads: each delivery's `data`, rendered once per (event, object, organisation, cap) of
a batch with the same shapes and querysets the API reads, and the signed item it becomes."""

import json
import logging
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from access.shapes import AccessRequestSerializer, readable_access_requests
from core import secrets_at_rest
from core.events import EventType
from intel.models import DeviceProfile
from intel.shapes.profiles import DeviceProfileSerializer
from intel.visibility import Viewer
from notices.rendering import webhook_viewer
from seizures.shapes import SeizureReportSerializer, readable_seizure_reports, rendering_context
from webhooks.engine.aside import Aside
from webhooks.engine.entitlement import NoticeEntitlement
from webhooks.engine.load import AnyDelivery, AnyEndpoint, Leased
from webhooks.engine.notice_payload import NoticePayloads
from webhooks.engine.reconnect import CONNECTION_ERRORS
from webhooks.sender import Outgoing
from webhooks.services import signing_secrets

log = logging.getLogger("dix.delivery")


class Renderer:
    """Entitlement, rendering and signing secrets, computed once per (event, object,
    organisation, cap) of a batch: a fan-out to thousands of endpoints of a few hundred
    organisations renders a few hundred payloads."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], dict[str, Any] | None] = {}
        self._secrets: dict[int, tuple[str, ...]] = {}
        self.entitlement = NoticeEntitlement()
        self.notices = NoticePayloads(self.entitlement)

    def secrets_for(self, sub: AnyEndpoint) -> tuple[str, ...]:
        if sub.pk not in self._secrets:
            self._secrets[sub.pk] = signing_secrets(sub)
        return self._secrets[sub.pk]

    def data_for(self, delivery: AnyDelivery) -> dict[str, Any] | None:
        """The payload's `data`, or None when the endpoint is no longer entitled to it."""
        sub = delivery.subscription
        if not sub.enabled:
            return None
        key = (
            delivery.subscription_id if delivery.event_type == EventType.TEST else None,
            delivery.event_type,
            delivery.notice_id,
            delivery.notice_version,
            delivery.notice_status,
            delivery.profile_id,
            delivery.access_request_id,
            delivery.seizure_report_id,
            sub.organisation_id,
            sub.label_cap,
        )
        if key not in self._cache:
            self._cache[key] = self._render(delivery, sub)
        return self._cache[key]

    def _render(self, delivery: AnyDelivery, sub: AnyEndpoint) -> dict[str, Any] | None:
        viewer = webhook_viewer(sub.organisation, sub.label_cap)
        if delivery.event_type == EventType.TEST:
            return {"subscription": sub.pk, "message": "Test event from DIX."}
        if delivery.access_request_id is not None:
            return access_request_data(delivery.access_request_id, viewer)
        if delivery.seizure_report_id is not None:
            return seizure_report_data(delivery.seizure_report_id, viewer)
        if delivery.profile_id is not None:
            return profile_data(delivery.profile_id, viewer)
        return self.notices.data(delivery, sub, viewer)


def profile_data(profile_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """The profile as the endpoint's organisation reads it through the API, or None when it
    may no longer see it."""
    profile = DeviceProfile.objects.for_reading(viewer).filter(pk=profile_id).first()
    if profile is None:
        return None
    return dict(DeviceProfileSerializer(profile, context={"reader": viewer}).data)


def access_request_data(access_request_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """An access request as its parties read it through the API, while the endpoint's
    organisation is still one of them (requester, on-behalf, owner)."""
    access_request = readable_access_requests(viewer).filter(pk=access_request_id).first()
    if access_request is None:
        return None
    return dict(AccessRequestSerializer(access_request).data)


def seizure_report_data(report_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """The report as the endpoint's organisation may read it (lines of profiles it may not
    see left out), or None when its label no longer lets it."""
    report = readable_seizure_reports(viewer).filter(pk=report_id).first()
    if report is None:
        return None
    context = rendering_context([report], viewer)
    return dict(SeizureReportSerializer(report, context=context).data)


def body(event_type: str, data: dict[str, Any] | None) -> str:
    """The JSON body a delivery is sent with: its type, the time of sending and its data."""
    return json.dumps(
        {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data},
        separators=(",", ":"),
        default=str,
    )


def prepare(
    delivery: Leased, renderer: Renderer, encoded: dict[int, str], aside: Aside
) -> Outgoing | None:
    """Render and sign one delivery into the item to send, or set it aside with the reason
    (None). `encoded` keeps each payload's JSON: one payload serves many endpoints. A lost
    database connection propagates: that is no fault of the payload."""
    try:
        data = renderer.data_for(delivery)
    except CONNECTION_ERRORS:
        raise
    except Exception:
        # One payload that cannot be built must not hold back the batch, nor be leased
        # again and again: it fails visibly, and can be resent once mended.
        log.exception("webhook payload could not be rendered", extra={"delivery": delivery.pk})
        aside.unrenderable.append(delivery)
        return None
    if data is None:
        aside.cancelled.append(delivery)
        return None
    try:
        secrets = renderer.secrets_for(delivery.subscription)
    except secrets_at_rest.InvalidToken:
        # The key that encrypted the secret is gone (DIX_ENCRYPTION_KEY changed): fail
        # this endpoint's deliveries visibly instead of blocking the batch forever.
        aside.unsignable.append(delivery)
        return None
    if id(data) not in encoded:
        encoded[id(data)] = json.dumps(data, separators=(",", ":"), default=str)
    # Byte for byte what `body` writes, with the data encoded once for all its endpoints.
    text = (
        f'{{"type":{json.dumps(delivery.event_type)},'
        f'"timestamp":{json.dumps(timezone.now().isoformat())},'
        f'"data":{encoded[id(data)]}}}'
    )
    return Outgoing(
        key=delivery.pk,
        endpoint=delivery.subscription_id,
        url=delivery.subscription.url,
        webhook_id=delivery.webhook_id,
        body=text,
        secrets=secrets,
    )


def payload_bodies(deliveries: Sequence[AnyDelivery]) -> list[str | None]:
    """The body each delivery would be sent with now, or None where its endpoint may no
    longer receive it. Each payload is rendered once per (event, object, organisation, cap),
    as for a leased batch; nothing is leased, sent or recorded."""
    renderer = Renderer()
    bodies: list[str | None] = []
    for delivery in deliveries:
        data = renderer.data_for(delivery)
        bodies.append(None if data is None else body(delivery.event_type, data))
    return bodies
