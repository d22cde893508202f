"""Retention: delete what has outlived its configured period. The audit trail is never touched.

Run daily by the scheduler (the task `intel.retention.run`) and by hand with `manage.py retention`
(`--dry-run` to see what would go). Each rule deletes in batches, one transaction per batch,
so a large backlog never holds long locks; rows deleted with them (a delivery's attempts, an
access request's messages) are counted under their own model. One audit event
`retention.run` records the counts of every run that deletes.

| rule | period |
|---|---|
| delivery attempts, and finished deliveries (succeeded, failed, cancelled) | `DIX_RETENTION_DELIVERIES_DAYS` |
| finished e-mails (sent, failed, dropped) | `DIX_RETENTION_DELIVERIES_DAYS` |
| deleted subscriptions, once their delivery log is gone | `DIX_RETENTION_DELIVERIES_DAYS` |
| revoked or expired API tokens | `DIX_RETENTION_TOKENS_DAYS` |
| ended grants, and closed access requests without a live grant | `DIX_RETENTION_ACCESS_DAYS` |
| expired login sessions | none: at once |

A period of 0 keeps those rows for ever. The newest delivery of a live (published or
superseded) notice to each endpoint is kept whatever its age: it is how a later withdrawal
finds the notice's earlier recipients; a deleted endpoint, which no withdrawal reaches, keeps
none past the period.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from intel import audit
from intel.models import AccessRequest, AccessRequestStatus, ApiToken, AuditEvent, Grant
from mail.models import EmailMessage, EmailStatus
from notices.models import UNPUBLISHED_STATES, NoticeStatus
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription

log = logging.getLogger("dix.retention")

BATCH = 2000
FINISHED = (
    DeliveryState.SUCCEEDED,
    DeliveryState.FAILED,
    DeliveryState.CANCELLED,
    DeliveryState.SUPERSEDED,
)
CLOSED = (AccessRequestStatus.APPROVED, AccessRequestStatus.DENIED, AccessRequestStatus.WITHDRAWN)


@dataclass(frozen=True)
class Rule:
    """Rows of one model past a cutoff. `setting`: the period in days (None: no period,
    the rows are dead at once, e.g. expired sessions)."""

    name: str
    setting: str | None
    rows: Callable[[datetime], "models.QuerySet[Any]"]


def _old_attempts(cutoff: datetime) -> "models.QuerySet[Any]":
    return DeliveryAttempt.objects.filter(started_at__lt=cutoff, delivery__state__in=FINISHED)


def _old_deliveries(cutoff: datetime) -> "models.QuerySet[Any]":
    newer = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        notice_id=OuterRef("notice_id"),
        id__gt=OuterRef("id"),
    )
    return (
        Delivery.objects.filter(state__in=FINISHED, created_at__lt=cutoff)
        .filter(Q(completed_at__isnull=True) | Q(completed_at__lt=cutoff))
        .filter(
            Q(notice__isnull=True)
            | Q(notice__status__in=(NoticeStatus.WITHDRAWN, *UNPUBLISHED_STATES))
            | Q(subscription__deleted_at__isnull=False)
            | Exists(newer)
        )
    )


def _old_emails(cutoff: datetime) -> "models.QuerySet[Any]":
    return EmailMessage.objects.filter(created_at__lt=cutoff).exclude(status=EmailStatus.PENDING)


def _deleted_subscriptions(cutoff: datetime) -> "models.QuerySet[Any]":
    """Deleted before the cutoff, with no delivery left to show (the log went first)."""
    log_left = Delivery.objects.filter(subscription_id=OuterRef("pk"))
    return Subscription.objects.filter(deleted_at__lt=cutoff).exclude(Exists(log_left))


def _old_tokens(cutoff: datetime) -> "models.QuerySet[Any]":
    return ApiToken.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff))


def _ended_grants(cutoff: datetime) -> "models.QuerySet[Any]":
    return Grant.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(revoked_at__isnull=True, expires_at__lt=cutoff)
    )


def _closed_access_requests(cutoff: datetime) -> "models.QuerySet[Any]":
    # Runs after the grants rule: an access request whose grant is still there is still live.
    return AccessRequest.objects.filter(
        status__in=CLOSED, updated_at__lt=cutoff, grant__isnull=True
    )


def _expired_sessions(cutoff: datetime) -> "models.QuerySet[Any]":
    return Session.objects.filter(expire_date__lt=cutoff)


# The labels reports and `retention.run` audit events give the outbox's models: the audit
# trail's own names for them, so that its counts stay comparable across its whole history.
LABELS = {
    "webhooks.Delivery": "notices.Delivery",
    "webhooks.DeliveryAttempt": "notices.DeliveryAttempt",
    "webhooks.Subscription": "notices.Subscription",
}

# In this order: attempts before their deliveries before deleted endpoints, grants before
# their access requests.
RULES = (
    Rule("notices.DeliveryAttempt", "DIX_RETENTION_DELIVERIES_DAYS", _old_attempts),
    Rule("notices.Delivery", "DIX_RETENTION_DELIVERIES_DAYS", _old_deliveries),
    Rule("mail.EmailMessage", "DIX_RETENTION_DELIVERIES_DAYS", _old_emails),
    Rule("notices.Subscription", "DIX_RETENTION_DELIVERIES_DAYS", _deleted_subscriptions),
    Rule("intel.ApiToken", "DIX_RETENTION_TOKENS_DAYS", _old_tokens),
    Rule("intel.Grant", "DIX_RETENTION_ACCESS_DAYS", _ended_grants),
    Rule("intel.AccessRequest", "DIX_RETENTION_ACCESS_DAYS", _closed_access_requests),
    Rule("sessions.Session", None, _expired_sessions),
)


@dataclass
class RetentionReport:
    """Rows deleted (or, in a dry run, that would be) per model label, and each rule's cutoff."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class _DryRun(Exception):
    pass


def run(*, dry_run: bool = False, now: datetime | None = None) -> RetentionReport:
    """Apply every rule. A dry run deletes inside a transaction that is rolled back, so its
    counts are exact, cascades included, and nothing changes."""
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    if dry_run:
        try:
            with transaction.atomic():
                _apply(report, now)
                raise _DryRun
        except _DryRun:
            pass
    else:
        _apply(report, now)
        audit.record(
            action="retention.run",
            actor=None,
            detail={"counts": report.counts, "cutoffs": report.cutoffs},
        )
    for label, count in report.counts.items():
        log.info("retention: %s %s %s", "would delete" if dry_run else "deleted", count, label)
    log.info("retention done", extra={"dry_run": dry_run, "counts": report.counts})
    return report


def _apply(report: RetentionReport, now: datetime) -> None:
    counts: Counter[str] = Counter()
    for rule in RULES:
        if rule.setting is None:
            cutoff = now
        else:
            days = int(getattr(settings, rule.setting))
            if days <= 0:  # kept for ever
                continue
            cutoff = now - timedelta(days=days)
        report.cutoffs[rule.name] = cutoff.isoformat()
        counts[rule.name] += 0
        counts.update(_delete_in_batches(rule.rows(cutoff)))
    # Defence in depth: the rules never name the audit trail, and nothing cascades into it.
    counts.pop(AuditEvent._meta.label, None)
    report.counts = {label: count for label, count in sorted(counts.items())}


def _delete_in_batches(rows: "models.QuerySet[Any]") -> Counter[str]:
    deleted: Counter[str] = Counter()
    model = rows.model
    assert model is not AuditEvent
    while True:
        ids = list(rows.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            _, per_model = model._default_manager.filter(pk__in=ids).delete()
        deleted.update({LABELS.get(label, label): count for label, count in per_model.items()})


@shared_task(name="intel.retention.run", ignore_result=True)
def run_retention() -> dict[str, int]:
    """Beat, daily: apply the retention periods."""
    return run().counts
