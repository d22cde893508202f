"""Reminders: once a published notice's `respond_by` has passed, each audience organisation
that has not acknowledged it is reminded once (`notice.reminder` to its subscriptions).

However long ago `respond_by` passed (a scheduler stopped for a month catches up): a notice is
due until a run has reminded, or found acknowledged, every organisation of its audience for
that `respond_by`, and then records it in `reminded_for`. So a run reads only the notices
still due (a partial index holds just those) and works out no audience twice; a new
`respond_by` makes the notice due again, and the unique reminder row keeps those already
reminded from a second reminder.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import events
from core.events import EventType
from intel import audit
from intel.models import Organisation
from notices.audience import notice_audience
from notices.models import Notice, NoticeReceipt, NoticeReminder, NoticeStatus


def reminders_send(*, now: datetime | None = None) -> int:
    """Remind every audience organisation (the issuer aside) of every published notice past
    its `respond_by` that has neither acknowledged nor been reminded; returns how many were
    reminded. Safe to run concurrently and again: the reminder row is unique per notice and
    organisation, and only the run that writes it emits the event."""
    now = now or timezone.now()
    # The predicate of the `notice_reminders_due` index, and `respond_by` up to now.
    due = (
        Notice.objects.filter(
            status=NoticeStatus.PUBLISHED, respond_by__isnull=False, respond_by__lte=now
        )
        .exclude(reminded_for=F("respond_by"))
        .order_by("respond_by", "pk")
    )
    return sum(_remind_notice(notice, now=now) for notice in due)


def _remind_notice(notice: Notice, *, now: datetime) -> int:
    """Remind the notice's silent organisations, then mark its `respond_by` done (unless it
    changed meanwhile: the new one is then due in its turn)."""
    done = set(
        NoticeReceipt.objects.filter(notice=notice, acknowledged_at__isnull=False).values_list(
            "organisation_id", flat=True
        )
    ) | set(NoticeReminder.objects.filter(notice=notice).values_list("organisation_id", flat=True))
    reminded = 0
    for reached in notice_audience(notice, with_issuer=False):
        if reached.organisation.pk not in done:
            reminded += _remind(notice, reached.organisation, now=now)
    # Every organisation of the audience is now acknowledged or reminded (by this run or a
    # concurrent one): an exception above leaves the notice due for the next run.
    Notice.objects.filter(pk=notice.pk, respond_by=notice.respond_by).update(
        reminded_for=notice.respond_by
    )
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
