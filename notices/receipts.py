"""What the issuer follows up: every organisation of a notice's audience with its receipt
(received, read, acknowledged with an outcome) and reminder, or their absence, and totals."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from intel.models import Organisation
from notices.audience import Reached, notice_audience
from notices.models import Notice, NoticeReceipt, NoticeReminder


@dataclass(frozen=True)
class FollowUp:
    """A notice's audience (the issuer aside) and everyone else who left a receipt (the
    secretariat reading it, say), with the totals over the audience."""

    audience: list[Reached]
    receipt_holders: set[int]
    totals: dict[str, int]

    @property
    def organisation_ids(self) -> set[int]:
        return {r.organisation.pk for r in self.audience} | self.receipt_holders

    @property
    def reasons(self) -> dict[int, tuple[str, ...]]:
        return {r.organisation.pk: r.reasons for r in self.audience}


def notice_follow_up(notice: Notice) -> FollowUp:
    """The audience as `notice_audience` has it now (receipts are per organisation, not per
    version: an update reaches the same audience, as its audience cannot change)."""
    audience = notice_audience(notice, with_issuer=False)
    ids = {r.organisation.pk for r in audience}
    receipts = list(
        NoticeReceipt.objects.filter(notice=notice).values_list(
            "organisation_id", "received_at", "read_at", "acknowledged_at"
        )
    )
    reminded = set(
        NoticeReminder.objects.filter(notice=notice).values_list("organisation_id", flat=True)
    )
    in_audience = [r for r in receipts if r[0] in ids]
    totals = {
        "audience": len(ids),
        "received": sum(1 for r in in_audience if r[1] is not None),
        "read": sum(1 for r in in_audience if r[2] is not None),
        "acknowledged": sum(1 for r in in_audience if r[3] is not None),
        "reminded": len(reminded & ids),
    }
    holders = {r[0] for r in receipts} - {notice.issuer_id}
    return FollowUp(audience=audience, receipt_holders=holders, totals=totals)


def organisations_by_id(ids: set[int]) -> QuerySet[Organisation]:
    """The organisations to page through (`core.pagination`, by id)."""
    return Organisation.objects.filter(pk__in=list(ids)).order_by("id")


def receipt_rows(
    notice: Notice, organisations: Sequence[Organisation], reasons: dict[int, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """One row per organisation of a page: its receipt and reminder, or nulls."""
    ids = [o.pk for o in organisations]
    receipts = {
        r.organisation_id: r
        for r in NoticeReceipt.objects.filter(
            notice=notice, organisation_id__in=ids
        ).select_related("acknowledged_by")
    }
    reminders: dict[int, datetime] = dict(
        NoticeReminder.objects.filter(notice=notice, organisation_id__in=ids).values_list(
            "organisation_id", "reminded_at"
        )
    )
    rows = []
    for org in organisations:
        receipt = receipts.get(org.pk)
        by = receipt.acknowledged_by if receipt is not None else None
        rows.append(
            {
                "organisation": org.slug,
                "organisation_id": org.pk,
                "organisation_name": org.name,
                "country": org.country,
                "reasons": list(reasons.get(org.pk, ())),
                "received_at": receipt.received_at if receipt else None,
                "read_at": receipt.read_at if receipt else None,
                "acknowledged_at": receipt.acknowledged_at if receipt else None,
                "acknowledged_by": by.username if by is not None else None,
                "outcome": (receipt.outcome or None) if receipt else None,
                "comment": receipt.comment if receipt else "",
                "reminded_at": reminders.get(org.pk),
            }
        )
    return rows
