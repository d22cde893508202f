"""Deliveries of a batch that are not sent, by reason (cancelled, superseded, waiting,
unsignable, unrenderable), and how each is written back."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from webhooks.engine.load import Leased
from webhooks.models import Delivery, DeliveryState

log = logging.getLogger("dix.delivery")

# A delivery that must wait for an earlier event of its notice to the same endpoint, still
# in flight, is due again after this.
ORDER_WAIT_SECONDS = 1.0

CANCELLED_ERROR = "cancelled: no longer entitled or endpoint disabled"
SUPERSEDED_ERROR = "superseded: a newer event of this notice goes to this endpoint instead"


def fail_unsignable(deliveries: list[Leased]) -> None:
    """Fail deliveries whose endpoint's secret cannot be decrypted, and say which."""
    if deliveries:
        log.error(
            "webhook secrets unreadable: rotate the secrets of these subscriptions",
            extra={"subscriptions": sorted({d.subscription_id for d in deliveries})},
        )
    finish(
        deliveries,
        DeliveryState.FAILED,
        "signing secret unreadable (DIX_ENCRYPTION_KEY changed?): rotate the secret",
    )


def finish(deliveries: list[Leased], state: str, error: str) -> None:
    """Close deliveries that are not sent (no attempt): failed, cancelled or superseded."""
    if not deliveries:
        return
    Delivery.objects.filter(id__in=[d.pk for d in deliveries]).update(
        state=state,
        last_error=error,
        completed_at=timezone.now(),
        next_attempt_at=None,
        leased_until=None,
    )


@dataclass
class Aside:
    """A batch's deliveries that are not sent, by reason."""

    cancelled: list[Leased] = field(default_factory=list)
    superseded: list[Leased] = field(default_factory=list)
    waiting: list[Leased] = field(default_factory=list)
    unsignable: list[Leased] = field(default_factory=list)
    unrenderable: list[Leased] = field(default_factory=list)

    def write(self) -> None:
        """Close what is not sent (no attempt is made), and make what waits due again soon."""
        finish(self.cancelled, DeliveryState.CANCELLED, CANCELLED_ERROR)
        finish(self.superseded, DeliveryState.SUPERSEDED, SUPERSEDED_ERROR)
        fail_unsignable(self.unsignable)
        finish(
            self.unrenderable,
            DeliveryState.FAILED,
            "the payload could not be rendered (see the worker log)",
        )
        if self.waiting:
            Delivery.objects.filter(id__in=[d.pk for d in self.waiting]).update(
                state=DeliveryState.PENDING,
                leased_until=None,
                next_attempt_at=timezone.now() + timedelta(seconds=ORDER_WAIT_SECONDS),
            )
