"""Every write to subscriptions and deliveries: atomic, keyword-only, typed."""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import secrets_at_rest
from core.errors import Conflict, FieldInvalid, Forbidden
from intel import audit
from intel.models import TLP, Member
from webhooks.models import Delivery, DeliveryState, Subscription, new_signing_secret
from webhooks.outbox import queue_delivery_work
from webhooks.policies import may_manage_subscriptions


def _check_label(author: Member, tlp: str, field: str = "tlp") -> None:
    if TLP.above(tlp, author.clearance):
        raise FieldInvalid(field, f"{tlp} is above your clearance ({author.clearance}).")


def _audit_subscription(
    action: str, sub: Subscription, actor: Member | None, **detail: Any
) -> None:
    audit.record(
        action=action,
        actor=actor,
        object_type="subscription",
        object_id=sub.pk,
        detail={"organisation": sub.organisation_id, **detail},
    )


@dataclass(frozen=True)
class IssuedSecret:
    subscription: Subscription
    secret: str


def subscription_create(*, member: Member, fields: Mapping[str, Any]) -> IssuedSecret:
    """Register a webhook endpoint for the member's organisation; its secret is shown once."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    assert member.organisation is not None
    fields = dict(fields)
    if "max_tlp" in fields:
        _check_label(member, fields["max_tlp"], "max_tlp")
    else:
        fields["max_tlp"] = min((TLP.AMBER_STRICT, member.clearance), key=TLP.rank)
    secret = new_signing_secret()
    with transaction.atomic():
        sub = Subscription.objects.create(
            organisation=member.organisation,
            created_by=member,
            secret_encrypted=secrets_at_rest.encrypt(secret),
            **fields,
        )
        _audit_subscription(
            "subscription.created",
            sub,
            member,
            host=urlsplit(sub.url).hostname or "",
            event_types=sub.event_types,
            max_tlp=sub.max_tlp,
        )
    return IssuedSecret(subscription=sub, secret=secret)


def subscription_update(
    *, subscription: Subscription, member: Member, fields: Mapping[str, Any]
) -> Subscription:
    """Change an endpoint. Re-enabling clears the disabled reason and failure clock; a
    disabled endpoint's pending deliveries were cancelled and are not revived (recover them)."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if "max_tlp" in fields:
        _check_label(member, fields["max_tlp"], "max_tlp")
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        for name, value in fields.items():
            setattr(sub, name, value)
        if fields.get("enabled") is True:
            sub.disabled_reason = ""
            sub.disabled_at = None
            sub.failing_since = None
        elif fields.get("enabled") is False:
            sub.disabled_reason = fields.get("disabled_reason") or "disabled by its organisation"
            sub.disabled_at = timezone.now()
            _cancel_pending(sub, "endpoint disabled")
        sub.save()
        _audit_subscription(
            "subscription.updated",
            sub,
            member,
            fields=sorted(fields),
            enabled=sub.enabled,
            host=urlsplit(sub.url).hostname or "",
        )
    return sub


def subscription_delete(*, subscription: Subscription, member: Member) -> None:
    """Delete an endpoint for its organisation: it leaves every list and receives nothing
    more (what is pending is cancelled), but the row and its delivery log stay until the
    retention job purges the log (`DIX_RETENTION_DELIVERIES_DAYS`), so that what was sent
    where stays answerable for the audit period."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if sub.deleted_at is not None:
            return
        now = timezone.now()
        # Disabled as well as deleted: every fan-out and the delivery engine skip a
        # disabled endpoint already.
        sub.enabled = False
        sub.disabled_reason = "deleted by its organisation"
        sub.disabled_at = sub.disabled_at or now
        sub.deleted_at = now
        sub.save(update_fields=["enabled", "disabled_reason", "disabled_at", "deleted_at"])
        _cancel_pending(sub, "endpoint deleted")
        _audit_subscription(
            "subscription.deleted", sub, member, host=urlsplit(sub.url).hostname or ""
        )


def subscription_rotate_secret(*, subscription: Subscription, member: Member) -> IssuedSecret:
    """A new secret; the old one stays valid (deliveries signed with both) for the overlap."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    secret = new_signing_secret()
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        sub.previous_secret_encrypted = sub.secret_encrypted
        sub.previous_secret_expires_at = timezone.now() + timedelta(
            hours=settings.DIX_WEBHOOK_ROTATION_OVERLAP_HOURS
        )
        sub.secret_encrypted = secrets_at_rest.encrypt(secret)
        sub.save(
            update_fields=[
                "secret_encrypted",
                "previous_secret_encrypted",
                "previous_secret_expires_at",
            ]
        )
        _audit_subscription(
            "subscription.secret_rotated",
            sub,
            member,
            previous_secret_expires_at=sub.previous_secret_expires_at,
        )
    return IssuedSecret(subscription=sub, secret=secret)


class _Secrets(Protocol):
    """What signing reads of an endpoint: a `Subscription`, or the engine's `Endpoint`."""

    secret_encrypted: str
    previous_secret_encrypted: str
    previous_secret_expires_at: datetime | None


def signing_secrets(sub: _Secrets, now: datetime | None = None) -> tuple[str, ...]:
    now = now or timezone.now()
    secrets = [secrets_at_rest.decrypt(sub.secret_encrypted)]
    if (
        sub.previous_secret_encrypted
        and sub.previous_secret_expires_at
        and sub.previous_secret_expires_at > now
    ):
        # An old secret that cannot be read any more is simply not used.
        with contextlib.suppress(secrets_at_rest.InvalidToken):
            secrets.append(secrets_at_rest.decrypt(sub.previous_secret_encrypted))
    return tuple(secrets)


def subscription_disable(*, subscription: Subscription, reason: str) -> None:
    """Disable an endpoint (410 Gone, or failing for days) and cancel what is pending."""
    with transaction.atomic():
        updated = Subscription.objects.filter(pk=subscription.pk, enabled=True).update(
            enabled=False, disabled_reason=reason[:500], disabled_at=timezone.now()
        )
        if updated:
            _cancel_pending(subscription, reason)
            # Nobody did it: the delivery engine (410 Gone, or failing for days).
            _audit_subscription("subscription.disabled", subscription, None, reason=reason[:500])


def _cancel_pending(sub: Subscription, reason: str) -> None:
    Delivery.objects.filter(
        subscription=sub, state__in=(DeliveryState.PENDING, DeliveryState.SENDING)
    ).update(
        state=DeliveryState.CANCELLED,
        last_error=f"cancelled: {reason}"[:500],
        completed_at=timezone.now(),
        next_attempt_at=None,
        leased_until=None,
    )


def delivery_resend(*, delivery: Delivery, member: Member) -> Delivery:
    """Queue one delivery again now (same `webhook-id`: receivers can dedupe)."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if not delivery.subscription.enabled:
        raise Conflict("The endpoint is disabled; enable it first.")
    if delivery.state in (DeliveryState.PENDING, DeliveryState.SENDING):
        raise Conflict("The delivery is already queued.")
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PENDING, next_attempt_at=timezone.now(), completed_at=None
        )
        queue_delivery_work(1)
        audit.record(
            action="delivery.resent",
            actor=member,
            object_type="delivery",
            object_id=delivery.pk,
            detail={
                "subscription": delivery.subscription_id,
                "webhook_id": delivery.webhook_id,
                "event_type": delivery.event_type,
            },
        )
    delivery.refresh_from_db()
    return delivery


def deliveries_recover(*, subscription: Subscription, member: Member, since: datetime) -> int:
    """Queue again every failed or cancelled delivery of this endpoint created since `since`."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if not subscription.enabled:
        raise Conflict("The endpoint is disabled; enable it first.")
    with transaction.atomic():
        count = Delivery.objects.filter(
            subscription=subscription,
            created_at__gte=since,
            state__in=(DeliveryState.FAILED, DeliveryState.CANCELLED),
        ).update(state=DeliveryState.PENDING, next_attempt_at=timezone.now(), completed_at=None)
        if count:
            queue_delivery_work(count)
        _audit_subscription(
            "subscription.deliveries_recovered", subscription, member, since=since, requeued=count
        )
    return count
