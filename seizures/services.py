"""Seizure and hit reports: what a search found, or that it found nothing, reported back to the
network — to the issuer of the notice that asked for it above all.

A report is filed here (`seizure_report_create`), amended or withdrawn in
`seizures.amendments`, never deleted; reads start from
`SeizureReport.objects.visible_to(member)`. `profile_seizure_stats` sums, for one profile,
the reports a member may see.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from core import events
from core.errors import FieldInvalid, Forbidden
from core.events import EventType
from core.personal_data import refuse_personal_data
from core.validators import validate_currency
from intel import audit
from intel.models import TLP, DeviceProfile, Member, Organisation
from notices.models import PUBLIC_STATES, Notice
from seizures import policies
from seizures.models import SeizureLine, SeizureReport
from seizures.versions import record_version

# The date is checked against the calendar of the place where the day starts first (UTC+14):
# a desk east of Greenwich reports "today" while it is still yesterday in UTC.
EARLIEST_TIMEZONE = timedelta(hours=14)

FREE_TEXT_FIELDS = ("operation", "concealment_method", "notes")


@dataclass(frozen=True)
class SeizureLineInput:
    """One line: a profile or an unprofiled item type (exactly one of the two), and a count."""

    quantity: int
    profile: DeviceProfile | None = None
    item_type: str = ""


@dataclass
class SeizureInput:
    """A report as filed. `country` defaults to the reporting organisation's."""

    seized_on: date
    facility_type: str
    country: str = ""
    facilities_searched: int | None = None
    notice: Notice | None = None
    operation: str = ""
    detection_method: str = ""
    concealment_method: str = ""
    tacs_observed: Sequence[str] = ()
    cash_amount: Decimal | None = None
    cash_currency: str = ""
    negative_result: bool = False
    notes: str = ""
    tlp: str = TLP.GREEN
    recipient_organisations: Sequence[Organisation] = ()
    lines: Sequence[SeizureLineInput] = field(default_factory=list)


def latest_allowed_date(now: datetime | None = None) -> date:
    """Today where the day starts first: no report may be dated after it."""
    return ((now or timezone.now()) + EARLIEST_TIMEZONE).date()


def seizure_report_create(
    *, reporter: Member, data: SeizureInput, request: Any = None
) -> SeizureReport:
    """File a report for the reporter's organisation, send it to its recipient organisations
    (the linked notice's issuer always among them) and tell their subscriptions
    (`seizure.reported`), all in one transaction with its audit event.

    Every check runs before anything is written: a refused report leaves no trace."""
    if not policies.may_report(reporter):
        raise Forbidden("Members of an organisation report seizures; auditors do not.")
    assert reporter.organisation is not None
    check_report(reporter, data)
    country = data.country or reporter.organisation.country
    recipients = recipients_for(reporter.organisation, data)
    with transaction.atomic():
        report = SeizureReport(
            organisation=reporter.organisation,
            reported_by=reporter,
            country=country,
            seized_on=data.seized_on,
            facility_type=data.facility_type,
            facilities_searched=data.facilities_searched,
            notice=data.notice,
            operation=data.operation,
            detection_method=data.detection_method,
            concealment_method=data.concealment_method,
            tacs_observed=sorted(set(data.tacs_observed)),
            cash_amount=data.cash_amount,
            cash_currency=data.cash_currency,
            negative_result=data.negative_result,
            notes=data.notes,
            tlp=data.tlp,
        )
        try:
            report.full_clean(exclude=["organisation", "reported_by", "notice"])
        except ValidationError as exc:
            name, messages = next(iter(exc.message_dict.items()))
            raise FieldInvalid(name, " ".join(messages)) from exc
        report.save()
        report.recipient_organisations.set(recipients)
        SeizureLine.objects.bulk_create(
            [
                SeizureLine(
                    report=report,
                    profile=line.profile,
                    item_type=line.item_type,
                    quantity=line.quantity,
                )
                for line in data.lines
            ]
        )
        record_version(report, author=reporter)
        # The outbox rows before the audit event: the chain's lock is taken last.
        deliveries = events.emit(EventType.SEIZURE_REPORTED, seizure_report=report)
        audit.record(
            action="seizure.reported",
            actor=reporter,
            object_type="seizure_report",
            object_id=report.pk,
            object_tlp=report.tlp,
            request=request,
            detail={
                "country": report.country,
                "seized_on": report.seized_on.isoformat(),
                "negative_result": report.negative_result,
                "notice": report.notice_id,
                "lines": len(data.lines),
                "recipient_organisations": sorted(o.pk for o in recipients),
                "deliveries": deliveries,
            },
        )
    return report


def recipients_for(organisation: Organisation, data: SeizureInput) -> list[Organisation]:
    """The organisations a report goes to: those named and the linked notice's issuer, never
    the reporting organisation itself (it sees its reports anyway)."""
    recipients = {o.pk: o for o in data.recipient_organisations}
    if data.notice is not None:
        recipients.setdefault(data.notice.issuer_id, data.notice.issuer)
    recipients.pop(organisation.pk, None)
    return list(recipients.values())


def check_report(reporter: Member, data: SeizureInput) -> None:
    assert reporter.organisation is not None
    if not (data.country or reporter.organisation.country):
        raise FieldInvalid("country", "Your organisation has no country: name the country.")
    if data.seized_on > latest_allowed_date():
        raise FieldInvalid("seized_on", "The date of the seizure cannot be in the future.")
    if data.tlp == TLP.RED:
        raise FieldInvalid(
            "tlp",
            "A report goes to organisations, not to named people: the most restricted label "
            "is TLP:AMBER+STRICT.",
        )
    if TLP.above(data.tlp, reporter.clearance):
        raise FieldInvalid("tlp", f"{data.tlp} is above your clearance ({reporter.clearance}).")
    if data.notice is not None:
        if not Notice.objects.visible_to(reporter).filter(pk=data.notice.pk).exists():
            # The serializer offers only visible notices; this guards other callers.
            raise FieldInvalid("notice", f'Invalid pk "{data.notice.pk}" - object does not exist.')
        if data.notice.status not in PUBLIC_STATES:
            raise FieldInvalid("notice", "A report answers a published notice, not a draft.")
    _check_lines(reporter, data)
    if (data.cash_amount is None) != (not data.cash_currency):
        missing = "cash_currency" if data.cash_amount is not None else "cash_amount"
        raise FieldInvalid(missing, "Give the cash seized as an amount and a currency, or neither.")
    if data.cash_currency:
        try:
            validate_currency(data.cash_currency)
        except ValidationError as exc:
            raise FieldInvalid("cash_currency", " ".join(exc.messages)) from exc
    if data.cash_amount is not None and data.negative_result:
        raise FieldInvalid(
            "cash_amount", "A negative result found nothing: report cash seized without it."
        )
    for name in FREE_TEXT_FIELDS:
        check_free_text(name, getattr(data, name))
    for index, line in enumerate(data.lines):
        check_free_text(f"lines.{index}.item_type", line.item_type)


def _check_lines(reporter: Member, data: SeizureInput) -> None:
    if data.negative_result and data.lines:
        raise FieldInvalid(
            "lines", "A negative result (searched, nothing found) has no lines: leave them out."
        )
    if not data.negative_result and not data.lines:
        raise FieldInvalid(
            "lines",
            "Give at least one line of what was seized, or set negative_result for a search "
            "that found nothing.",
        )
    profile_ids = {line.profile.pk for line in data.lines if line.profile is not None}
    visible = set(
        DeviceProfile.objects.visible_to(reporter)
        .filter(pk__in=profile_ids)
        .values_list("id", flat=True)
    )
    seen: set[object] = set()
    for index, line in enumerate(data.lines):
        if (line.profile is None) == (not line.item_type):
            raise FieldInvalid(
                f"lines.{index}",
                "Give either a profile or an item_type (for devices without a profile), not "
                "both and not neither.",
            )
        if line.profile is not None and line.profile.pk not in visible:
            raise FieldInvalid(
                f"lines.{index}.profile", f'Invalid pk "{line.profile.pk}" - object does not exist.'
            )
        key = line.profile.pk if line.profile is not None else line.item_type.strip().lower()
        if key in seen:
            raise FieldInvalid(
                f"lines.{index}", "This profile or item type is already counted in another line."
            )
        seen.add(key)
        if line.quantity < 1:
            raise FieldInvalid(f"lines.{index}.quantity", "At least 1.")


def check_free_text(name: str, text: str) -> None:
    refuse_personal_data(name, text, holds="Reports hold device data")


# --- Statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeizureFigures:
    reports: int
    negative_reports: int
    quantity: int


@dataclass(frozen=True)
class SeizureStats:
    """One profile's seizure figures over the reports a member may see."""

    profile_id: int
    totals: SeizureFigures
    by_country_month: list[tuple[str, str, SeizureFigures]]


def profile_seizure_stats(*, profile: DeviceProfile, member: Member) -> SeizureStats:
    """The reports in force that the member may see and that concern the profile, counted by
    country and month of seizure: reports, negative reports, and the quantity of this
    profile seized.

    A seizure concerns the profile when one of its lines is about it; a line about another
    profile does not count, even in a report answering a notice about this one. A negative
    result has no lines: it concerns the profile when it answers a notice about it (one the
    member may see), since that search looked for this profile.

    The caller has checked that the member may see the profile."""
    notices = Notice.objects.visible_to(member).filter(profiles=profile).values("id")
    concerned = (
        SeizureReport.objects.in_force()
        .visible_to(member)
        .filter(
            Q(id__in=SeizureLine.objects.filter(profile=profile).values("report_id"))
            | Q(negative_result=True, notice_id__in=notices)
        )
    )
    figures = {
        "reports": Count("id", distinct=True),
        "negative_reports": Count("id", filter=Q(negative_result=True), distinct=True),
        "quantity": Coalesce(Sum("lines__quantity", filter=Q(lines__profile=profile)), 0),
    }
    rows = (
        concerned.order_by()
        .annotate(month=TruncMonth("seized_on"))
        .values("country", "month")
        .annotate(**figures)
        .order_by("month", "country")
    )
    totals = concerned.order_by().aggregate(**figures)
    return SeizureStats(
        profile_id=profile.pk,
        totals=_figures(totals),
        by_country_month=[(row["country"], f"{row['month']:%Y-%m}", _figures(row)) for row in rows],
    )


def _figures(row: dict[str, Any]) -> SeizureFigures:
    return SeizureFigures(
        reports=row["reports"] or 0,
        negative_reports=row["negative_reports"] or 0,
        quantity=row["quantity"] or 0,
    )
