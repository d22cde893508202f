"""Retention deletes what is old, keeps what is recent, keeps everything with a period of zero,
never touches the audit trail, and runs daily."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from intel import accounts, audit
from intel.models import (
    AccessRequest,
    ApiToken,
    AuditEvent,
    Grant,
)
from notices.models import Notice
from operations import retention
from tests.helpers.audit import (
    World,
    chain_of,
)
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState

# --- retention ----------------------------------------------------------------------------------


def _age(model: Any, pk: Any, **moments: Any) -> None:
    model.objects.filter(pk=pk).update(**moments)


def test_retention_deletes_old_rows_keeps_recent_ones_and_never_the_trail(world: World) -> None:
    net = world.net
    now = timezone.now()
    old, recent = now - timedelta(days=400 * 2), now - timedelta(days=10)
    sub = world.subscription()

    def delivery(state: str, created: Any, **fields: Any) -> Delivery:
        row = Delivery.objects.create(
            subscription=sub, event_type="dix.test", state=state, **fields
        )
        _age(Delivery, row.pk, created_at=created, completed_at=created)
        DeliveryAttempt.objects.create(delivery=row, number=1, started_at=created, duration_ms=5)
        return row

    old_done = delivery(DeliveryState.SUCCEEDED, old)
    old_failed = delivery(DeliveryState.FAILED, old)
    old_pending = delivery(DeliveryState.PENDING, old)
    recent_done = delivery(DeliveryState.SUCCEEDED, recent)
    live_notice = Notice.objects.get(pk=world.published())
    older_of_live = delivery(DeliveryState.SUCCEEDED, old, notice=live_notice, notice_version=1)
    # The newest delivery of a live notice to this endpoint: how a withdrawal finds it.
    last_of_live = delivery(DeliveryState.SUCCEEDED, old, notice=live_notice, notice_version=2)

    revoked_old = accounts.token_issue(member=net.bob, name="old").token
    _age(ApiToken, revoked_old.pk, revoked_at=old)
    expired_old = accounts.token_issue(member=net.bob, name="expired").token
    _age(ApiToken, expired_old.pk, expires_at=old)
    revoked_recent = accounts.token_issue(member=net.bob, name="recent").token
    _age(ApiToken, revoked_recent.pk, revoked_at=recent)
    active = accounts.token_issue(member=net.bob, name="active").token

    def request(status: str, updated: Any) -> AccessRequest:
        return AccessRequest.objects.create(
            requester=net.bob,
            organisation=net.be_desk,
            owner=net.fr_desk,
            target_type="profile",
            target_id=1,
            purpose="Case",
            legal_basis="Art. 3",
            requested_days=30,
            status=status,
            updated_at=updated,
        )

    def grant(req: AccessRequest | None, expires: Any) -> Grant:
        return Grant.objects.create(
            request=req,
            organisation=net.be_desk,
            target_type="profile",
            target_id=1,
            expires_at=expires,
        )

    denied_old = request("denied", old)
    approved_old = request("approved", old)
    grant_ended_old = grant(approved_old, old)
    approved_live = request("approved", old)
    grant_live = grant(approved_live, now + timedelta(days=30))
    pending_old = request("pending", old)
    denied_recent = request("denied", recent)

    expired_session = SessionStore()
    expired_session.create()
    Session.objects.filter(pk=expired_session.session_key).update(expire_date=now - timedelta(1))
    live_session = SessionStore()
    live_session.create()

    # Events older than every retention period: retention never looks at the trail.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit.timezone, "now", lambda: old)
        chain_of(2)
    assert AuditEvent.objects.filter(created_at__lt=now - timedelta(days=730)).count() == 2
    trail_before = list(AuditEvent.objects.values_list("id", "hash"))
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)
    assert "Would delete 4 notices.DeliveryAttempt" in out.getvalue()
    assert Delivery.objects.filter(pk=old_done.pk).exists()  # a dry run changes nothing
    assert list(AuditEvent.objects.values_list("id", "hash")) == trail_before

    report = retention.run()

    assert report.counts == {
        "intel.AccessRequest": 2,
        "intel.ApiToken": 2,
        "intel.Grant": 1,
        "mail.EmailMessage": 0,
        "notices.Delivery": 3,
        "notices.DeliveryAttempt": 4,
        "notices.Subscription": 0,
        "sessions.Session": 1,
    }
    remaining = set(Delivery.objects.values_list("id", flat=True))
    assert {old_done.pk, old_failed.pk, older_of_live.pk} & remaining == set()
    assert {old_pending.pk, recent_done.pk, last_of_live.pk} <= remaining
    assert set(ApiToken.objects.filter(member=net.bob).values_list("id", flat=True)) >= {
        revoked_recent.pk,
        active.pk,
    }
    assert not ApiToken.objects.filter(pk__in=[revoked_old.pk, expired_old.pk]).exists()
    assert set(Grant.objects.values_list("id", flat=True)) == {grant_live.pk}
    assert grant_ended_old.pk not in set(Grant.objects.values_list("id", flat=True))
    assert set(AccessRequest.objects.values_list("id", flat=True)) == {
        approved_live.pk,
        pending_old.pk,
        denied_recent.pk,
    }
    assert not AccessRequest.objects.filter(pk=denied_old.pk).exists()
    assert Session.objects.filter(pk=live_session.session_key).exists()

    trail = list(AuditEvent.objects.values_list("id", "hash"))
    assert trail[: len(trail_before)] == trail_before
    (run,) = AuditEvent.objects.filter(id__gt=trail_before[-1][0])
    assert (run.action, run.actor_id, run.detail["counts"]) == (
        "retention.run",
        None,
        report.counts,
    )
    assert audit.verify()[1] is None


def test_retention_keeps_for_ever_with_a_period_of_zero(world: World) -> None:
    revoked = accounts.token_issue(member=world.net.bob, name="old").token
    _age(ApiToken, revoked.pk, revoked_at=timezone.now() - timedelta(days=5000))
    out = io.StringIO()
    with override_settings(DIX_RETENTION_TOKENS_DAYS=0):
        call_command("retention", stdout=out)
    assert ApiToken.objects.filter(pk=revoked.pk).exists()
    assert "Kept all intel.ApiToken" in out.getvalue()


def test_retention_is_scheduled_daily() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "intel.retention.run" == retention.run_retention.name
    assert entry["schedule"] == 24 * 3600
    assert "operations.retention" in settings.CELERY_IMPORTS
