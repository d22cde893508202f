"""The member's home: what waits for them (notices not yet read or acknowledged by their
organisation, drafts to review, access requests to decide, recent seizure reports of their
organisation's profiles, its failing webhook endpoints) and where to go next.

Each list is the API's, by the API's selectors and policies. What only a bump of the
shared-data counter can change (which notices the member receives and which the desk
acknowledged, drafts to review, the profiles the member sees) is kept between two bumps
(`portal.kept`, keyed like the API's inbox pages), and so is the waiting table as rendered
(with the read marks it shows in its key); read marks, access requests and endpoint health
change without a bump and are read fresh, the read marks in one query; the recent seizure
reports are kept until a report is filed or amended."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from access import policies as access_policies
from intel.models import AccessRequest, DeviceProfile, Member
from intel.models.access import OPEN_STATES as OPEN_REQUESTS
from notices import policies as notice_policies
from notices.models import PUBLIC_STATES, Notice, NoticeReceipt, NoticeStatus
from portal.guard import member, member_page
from portal.kept import SECONDS, kept, page_key, part_key
from portal.views.access_requests import target_name
from seizures.models import SeizureLine, SeizureReport, SeizureReportVersion
from webhooks import policies as webhook_policies
from webhooks.models import Subscription

SHOWN = 10
RECENT_SEIZURES = 5
SUMMARY_PAGE = "home:1"  # the version changes with `Summary`'s fields (portal.kept)
# How long a kept list of recent reports may stay unused in the cache.
SEIZURES_SECONDS = 60
# Notices a desk still has to handle: published, and not withdrawn.
OPEN_STATES = [state for state in PUBLIC_STATES if state != NoticeStatus.WITHDRAWN]


@dataclass
class Summary:
    """The part of the home that only a bump of the shared-data counter changes."""

    open_ids: list[int]  # notices of other desks the member receives, published, not withdrawn
    waiting: list[dict[str, Any]]  # the newest of those the desk has not acknowledged
    waiting_count: int
    profile_count: int
    to_review: list[dict[str, Any]]
    # The organisation's profiles that the member may not see (a TLP:RED one naming others,
    # one above the member's clearance): their seizure lines are not the member's to see.
    hidden_own_profiles: list[int]


@member_page
def home(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    key = page_key(reader, SUMMARY_PAGE)
    summary = kept(key, lambda: _read_summary(reader))
    read = _read(reader, summary.open_ids)
    waiting = [row | {"read": row["id"] in read} for row in summary.waiting]
    context = {
        "waiting": waiting,
        # The table as rendered: the same rows, language and read marks give the same HTML.
        "waiting_key": part_key(
            key, "waiting", get_language(), [row["id"] for row in waiting if row["read"]]
        ),
        "kept_seconds": SECONDS,
        "waiting_count": summary.waiting_count,
        "unread_count": len(summary.open_ids) - len(read),
        "profile_count": summary.profile_count,
        "to_review": summary.to_review,
        "to_decide": _to_decide(reader),
        "seizures": _recent_seizures(reader, key, summary.hidden_own_profiles),
        "failing": _failing_endpoints(reader),
    }
    return render(request, "portal/home.html", context)


def _read_summary(reader: Member) -> Summary:
    # What the desk has to handle: notices of others (`acknowledged=false` leaves out the
    # desk's own, which it follows on their receipts).
    open_notices = (
        Notice.objects.visible_to(reader)
        .filter(status__in=OPEN_STATES)
        .exclude(issuer_id=reader.organisation_id or 0)
    )
    acknowledged = NoticeReceipt.objects.filter(
        notice=OuterRef("pk"),
        organisation_id=reader.organisation_id or 0,
        acknowledged_at__isnull=False,
    )
    rows = list(
        open_notices.annotate(acknowledged=Exists(acknowledged))
        .order_by("-published_at", "-id")
        .values_list("id", "acknowledged")
    )
    waiting_ids = [pk for pk, done in rows if not done]
    hidden: list[int] = []
    if reader.organisation_id is not None:
        own = DeviceProfile.objects.filter(owner_id=reader.organisation_id)
        visible = DeviceProfile.objects.visible_to(reader).filter(owner_id=reader.organisation_id)
        hidden = list(own.exclude(id__in=visible.values("id")).values_list("id", flat=True))
    shown = Notice.objects.filter(pk__in=waiting_ids[:SHOWN]).order_by("-published_at", "-id")
    return Summary(
        open_ids=[pk for pk, _ in rows],
        waiting=[
            dict(row) for row in shown.values("id", "reference", "title", "tlp", "published_at")
        ],
        waiting_count=len(waiting_ids),
        profile_count=DeviceProfile.objects.visible_to(reader)
        .filter(retired_at__isnull=True)
        .count(),
        # The API's "to review" list, by the same rule.
        to_review=[
            dict(row)
            for row in Notice.objects.visible_to(reader)
            .filter(notice_policies.reviewable_by(reader), status=NoticeStatus.SUBMITTED)
            .order_by("-changed_at")
            .values("id", "title", "tlp")[:SHOWN]
        ],
        hidden_own_profiles=hidden,
    )


def _read(reader: Member, notice_ids: list[int]) -> set[int]:
    """Which of these notices the desk has opened: read marks change without a bump. One
    query over the desk's read marks of notices still out (a list of ids as long as the
    inbox would cost more to send than the marks cost to read)."""
    if reader.organisation_id is None or not notice_ids:
        return set()
    marks = NoticeReceipt.objects.filter(
        organisation_id=reader.organisation_id,
        read_at__isnull=False,
        notice__status__in=OPEN_STATES,
    ).values_list("notice_id", flat=True)
    return set(marks).intersection(notice_ids)


def _to_decide(reader: Member) -> list[AccessRequest]:
    """The API's `role=received` list, by the same rule, each with what it asks for by name
    (`target_name`, for what the member may see)."""
    found = list(
        AccessRequest.objects.visible_to(reader)
        .filter(access_policies.awaiting_decision(reader), status__in=OPEN_REQUESTS)
        .order_by("-created_at")[:SHOWN]
    )
    for access_request in found:
        access_request.target_name = target_name(reader, access_request)  # type: ignore[attr-defined]
    return found


def _recent_seizures(
    reader: Member, key: str, hidden_own_profiles: list[int]
) -> list[dict[str, Any]]:
    """The newest reports that the member may read and that count (not withdrawn), with a
    line of a profile of the member's organisation that the member sees: the API's
    `GET /api/v1/seizures/?profile=<id>` for each of those profiles, newest first.

    Kept as long as no report is filed, amended or withdrawn (filing and amending write a
    version: what decides whether a report is the member's to read, its label and
    recipients, and its lines, only change so; a withdrawal stamps `withdrawn_at`, for good)
    and the shared-data counter stands."""
    if reader.organisation_id is None:
        return []
    latest = SeizureReportVersion.objects.order_by("-id").values_list("id", flat=True).first()
    withdrawn = SeizureReport.objects.filter(withdrawn_at__isnull=False).count()
    return kept(
        part_key(key, "seizures", latest, withdrawn),
        lambda: _read_recent_seizures(reader, hidden_own_profiles),
        SEIZURES_SECONDS,
    )


def _read_recent_seizures(reader: Member, hidden_own_profiles: list[int]) -> list[dict[str, Any]]:
    lines = SeizureLine.objects.filter(profile__owner_id=reader.organisation_id).exclude(
        profile_id__in=hidden_own_profiles
    )
    reports = list(
        SeizureReport.objects.visible_to(reader)
        .in_force()
        .filter(id__in=lines.values("report_id"))
        .order_by("-created_at", "-id")
        .values("id", "seized_on", "country", "organisation__name")[:RECENT_SEIZURES]
    )
    mentioned: dict[int, list[str]] = {}
    if reports:
        named = (
            lines.filter(report_id__in=[r["id"] for r in reports])
            .order_by("profile__name")
            .values_list("report_id", "profile__name")
            .distinct()
        )
        for report_id, name in named:
            mentioned.setdefault(report_id, []).append(name)
    return [report | {"profiles": mentioned.get(report["id"], [])} for report in reports]


def _failing_endpoints(reader: Member) -> list[dict[str, Any]]:
    """The organisation's endpoints whose deliveries fail (`failing_since`: no success since
    the first failure), for the members who manage them: `GET /api/v1/subscriptions/`."""
    if not webhook_policies.may_manage_subscriptions(reader):
        return []
    failing = (
        Subscription.objects.visible_to(reader)
        .filter(failing_since__isnull=False)
        .order_by("failing_since", "id")
        .values("id", "description", "url", "enabled", "failing_since")
    )
    return [dict(row) for row in failing]
