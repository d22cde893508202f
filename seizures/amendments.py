"""Amending and withdrawing a seizure report: a new version that keeps the old, or a
withdrawal with its reason; never a deletion.

The report row always holds the latest version, so every figure (seizure statistics, a
profile's seizure figures, STIX sightings) counts the latest version and leaves withdrawn
reports out (`SeizureReport.objects.in_force()`). Each version, the first included, is kept
as a `SeizureReportVersion` snapshot.
"""

import dataclasses
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import events
from core.errors import Conflict, FieldInvalid, Forbidden
from core.events import EventType
from intel import audit
from intel.models import DeviceProfile, Member
from seizures import policies
from seizures.models import SeizureLine, SeizureReport, SeizureStatus
from seizures.services import (
    SeizureInput,
    SeizureLineInput,
    check_free_text,
    check_report,
    recipients_for,
)
from seizures.versions import record_version


def _require_author_organisation(member: Member, report: SeizureReport) -> None:
    if not policies.may_change(member, report):
        raise Forbidden(
            "Only members of the reporting organisation who may report (not auditors) amend "
            "or withdraw its reports."
        )
    if report.status == SeizureStatus.WITHDRAWN:
        raise Conflict("This report is withdrawn: it can no longer be amended or withdrawn.")


def current_input(report: SeizureReport) -> SeizureInput:
    """The report as it stands, as the input a new version starts from."""
    return SeizureInput(
        seized_on=report.seized_on,
        facility_type=report.facility_type,
        country=report.country,
        facilities_searched=report.facilities_searched,
        notice=report.notice,
        operation=report.operation,
        detection_method=report.detection_method,
        concealment_method=report.concealment_method,
        tacs_observed=list(report.tacs_observed),
        cash_amount=report.cash_amount,
        cash_currency=report.cash_currency,
        negative_result=report.negative_result,
        notes=report.notes,
        tlp=report.tlp,
        recipient_organisations=list(report.recipient_organisations.all()),
        lines=[
            SeizureLineInput(quantity=line.quantity, profile=line.profile, item_type=line.item_type)
            for line in report.lines.select_related("profile")
        ],
    )


def seizure_report_amend(
    *,
    member: Member,
    report: SeizureReport,
    changes: dict[str, Any],
    reason: str,
    request: Any = None,
) -> SeizureReport:
    """Write a new version of the report: the fields in `changes` replace the current ones
    (`lines`, when given, replaces the lines the member may see; lines of profiles hidden from
    them stay), recipients are only added (a report sent stays sent), and the previous
    version is kept. Checked as a new report is, the reason included. The organisations the
    report was sent to hear of it (`seizure.amended`), in the same transaction."""
    _require_author_organisation(member, report)
    if not reason.strip():
        raise FieldInvalid("reason", "Say why the report is amended.")
    check_free_text("reason", reason)
    unknown = set(changes) - {f.name for f in dataclasses.fields(SeizureInput)}
    assert not unknown, unknown
    current = current_input(report)
    visible = set(
        DeviceProfile.objects.visible_to(member)
        .filter(pk__in=[line.profile.pk for line in current.lines if line.profile is not None])
        .values_list("id", flat=True)
    )
    hidden = [line for line in current.lines if line.profile and line.profile.pk not in visible]
    shown = [line for line in current.lines if line not in hidden]
    if "recipient_organisations" in changes:
        added = {o.pk: o for o in current.recipient_organisations}
        added.update({o.pk: o for o in changes["recipient_organisations"]})
        changes = changes | {"recipient_organisations": list(added.values())}
    # Turning a seizure into a negative result drops the lines the member sees.
    lines = [] if changes.get("negative_result") and "lines" not in changes else shown
    new = dataclasses.replace(current, **({"lines": lines} | changes))
    check_report(member, new)
    if hidden and new.negative_result:
        raise FieldInvalid(
            "negative_result",
            "The report has lines of profiles you may not see: it cannot become a negative result.",
        )
    assert member.organisation is not None
    recipients = recipients_for(member.organisation, new)
    with transaction.atomic():
        locked = SeizureReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == SeizureStatus.WITHDRAWN or locked.version != report.version:
            raise Conflict("The report changed meanwhile: read it again and amend that.")
        for name in (
            "country",
            "seized_on",
            "facility_type",
            "facilities_searched",
            "notice",
            "operation",
            "detection_method",
            "concealment_method",
            "cash_amount",
            "cash_currency",
            "negative_result",
            "notes",
            "tlp",
        ):
            setattr(locked, name, getattr(new, name))
        locked.tacs_observed = sorted(set(new.tacs_observed))
        locked.version += 1
        locked.save()
        locked.recipient_organisations.set(recipients)
        SeizureLine.objects.filter(report=locked).delete()
        SeizureLine.objects.bulk_create(
            [
                SeizureLine(
                    report=locked,
                    profile=line.profile,
                    item_type=line.item_type,
                    quantity=line.quantity,
                )
                for line in [*new.lines, *hidden]
            ]
        )
        record_version(locked, author=member, reason=reason)
        deliveries = events.emit(EventType.SEIZURE_AMENDED, seizure_report=locked)
        audit.record(
            action="seizure.amended",
            actor=member,
            object_type="seizure_report",
            object_id=locked.pk,
            object_tlp=locked.tlp,
            request=request,
            detail={
                "version": locked.version,
                "fields": sorted(changes),
                "deliveries": deliveries,
            },
        )
    return locked


def seizure_report_withdraw(
    *, member: Member, report: SeizureReport, reason: str, request: Any = None
) -> SeizureReport:
    """Withdraw the report with a reason: it stays readable, marked withdrawn, and no figure
    counts it any more. The organisations it was sent to hear of it (`seizure.withdrawn`)."""
    _require_author_organisation(member, report)
    if not reason.strip():
        raise FieldInvalid("reason", "Say why the report is withdrawn.")
    check_free_text("reason", reason)
    with transaction.atomic():
        locked = SeizureReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == SeizureStatus.WITHDRAWN:
            raise Conflict("This report is already withdrawn.")
        locked.status = SeizureStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawal_reason = reason
        locked.save(update_fields=["status", "withdrawn_at", "withdrawal_reason"])
        deliveries = events.emit(EventType.SEIZURE_WITHDRAWN, seizure_report=locked)
        audit.record(
            action="seizure.withdrawn",
            actor=member,
            object_type="seizure_report",
            object_id=locked.pk,
            object_tlp=locked.tlp,
            request=request,
            detail={"version": locked.version, "deliveries": deliveries},
        )
    return locked
