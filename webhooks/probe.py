"""A signed `dix.test` event sent to an endpoint now, on a manager's request, and recorded in
its delivery log and the audit trail: what the API's and the portal's "send a test event" do."""

from dataclasses import dataclass

from core.errors import Conflict, Forbidden
from intel import audit
from intel.models import Member
from webhooks import engine
from webhooks.models import Subscription
from webhooks.policies import may_manage_subscriptions


@dataclass(frozen=True)
class ProbeResult:
    """What the endpoint answered to the test event."""

    delivery: int
    webhook_id: str
    status_code: int | None
    duration_ms: int
    error: str
    response_body: str
    succeeded: bool


def subscription_test(*, subscription: Subscription, member: Member) -> ProbeResult:
    """Send the test event synchronously; a disabled endpoint is refused (enable it first)."""
    if not may_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if not subscription.enabled:
        raise Conflict("The endpoint is disabled; enable it first.")
    delivery = engine.leased_test_delivery(subscription)
    outcome = engine.send_now(delivery)
    assert outcome is not None
    audit.record(
        action="subscription.tested",
        actor=member,
        object_type="subscription",
        object_id=subscription.pk,
        detail={
            "organisation": subscription.organisation_id,
            "delivery": delivery.pk,
            "status_code": outcome.status_code,
            "succeeded": outcome.succeeded,
        },
    )
    return ProbeResult(
        delivery=delivery.pk,
        webhook_id=delivery.webhook_id,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
        response_body=outcome.response_body,
        succeeded=outcome.succeeded,
    )
