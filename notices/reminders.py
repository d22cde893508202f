"""Reminders: once a published notice's `respond_by` has passed, each audience organisation
that has not acknowledged it is reminded once (`notice.reminder` to its subscriptions)."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import events
from core.events import EventType
from intel import audit
from intel.models import Organisation
from notices.audience import notice_audience
from notices.models import Notice, NoticeReceipt, NoticeReminder, NoticeStatus

# Notices whose answer fell due longer ago than this are not looked at again: every run
# would otherwise work out the audience of every notice ever given a `respond_by`. A
# scheduler stopped for longer than this loses those reminders, not the notices' receipts.
REMINDER_WINDOW = timedelta(days=7)


def reminders_send(*, now: datetime | None = None) -> int:
    """Remind every audience organisation (the issuer aside) of every published notice past
    its `respond_by` that has neither acknowledged nor been reminded; returns how many were
    reminded. Safe to run concurrently and again: the reminder row is unique per notice and
    organisation, and only the run that writes it emits the event."""
    now = now or timezone.now()
    due = Notice.objects.filter(
        status=NoticeStatus.PUBLISHED, respond_by__lte=now, respond_by__gt=now - REMINDER_WINDOW
    ).order_by("respond_by", "pk")
    return sum(_remind_notice(notice, now=now) for notice in due)


def _remind_notice(notice: Notice, *, now: datetime) -> int:
    done = set(
        NoticeReceipt.objects.filter(notice=notice, acknowledged_at__isnull=False).values_list(
            "organisation_id", flat=True
        )
    ) | set(NoticeReminder.objects.filter(notice=notice).values_list("organisation_id", flat=True))
    reminded = 0
    for reached in notice_audience(notice, with_issuer=False):
        if reached.organisation.pk not in done:
            reminded += _remind(notice, reached.organisation, now=now)
    return reminded


def _remind(notice: Notice, organisation: Organisation, *, now: datetime) -> int:
    """One reminder with its event and audit row, in one transaction; 0 when another run
    (or an acknowledgement) came first."""
    try:
        with transaction.atomic():
            # Under the notice's lock: a concurrent run waits here, then finds the reminder.
            locked = Notice.objects.select_for_update().get(pk=notice.pk)
            if locked.status != NoticeStatus.PUBLISHED:
                return 0
            acknowledged = NoticeReceipt.objects.filter(
                notice=locked, organisation=organisation, acknowledged_at__isnull=False
            ).exists()
            if acknowledged:
                return 0
            reminder, created = NoticeReminder.objects.get_or_create(
                notice=locked, organisation=organisation, defaults={"reminded_at": now}
            )
            if not created:
                return 0
            reminder.deliveries = events.emit(
                EventType.NOTICE_REMINDER, notice=locked, organisation=organisation
            )
            reminder.save(update_fields=["deliveries"])
            audit.record(
                action="notice.reminded",
                actor=None,
                object_type="notice",
                object_id=locked.pk,
                object_tlp=locked.tlp,
                detail={
                    "reference": locked.reference,
                    "version": locked.version,
                    "organisation": organisation.pk,
                    "deliveries": reminder.deliveries,
                },
            )
    except IntegrityError:  # a concurrent run wrote the same reminder first
        return 0
    return 1
