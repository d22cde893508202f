"""The member's home: what waits for them (notices not yet read or acknowledged by their
organisation, drafts to review, access requests to decide) and where to go next."""

from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access import policies as access_policies
from intel.models import AccessRequest, DeviceProfile
from intel.models.access import OPEN_STATES
from notices import policies as notice_policies
from notices.models import PUBLIC_STATES, Notice, NoticeReceipt, NoticeStatus
from portal.guard import member, member_page

SHOWN = 10


@member_page
def home(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    notices = Notice.objects.visible_to(reader).filter(status__in=PUBLIC_STATES)
    mine = NoticeReceipt.objects.filter(notice=OuterRef("pk"), organisation=reader.organisation)
    open_notices = notices.exclude(status=NoticeStatus.WITHDRAWN).annotate(
        read=Exists(mine.filter(read_at__isnull=False)),
        acknowledged=Exists(mine.filter(acknowledged_at__isnull=False)),
    )
    waiting = open_notices.filter(acknowledged=False).order_by("-published_at")
    counts = open_notices.aggregate(
        waiting=Count("pk", filter=Q(acknowledged=False)), unread=Count("pk", filter=Q(read=False))
    )
    context = {
        "waiting": list(waiting[:SHOWN]),
        "waiting_count": counts["waiting"],
        "unread_count": counts["unread"],
        "profile_count": DeviceProfile.objects.visible_to(reader)
        .filter(retired_at__isnull=True)
        .count(),
        # The API's "to review" list and `role=received` list, by the same rules.
        "to_review": list(
            Notice.objects.visible_to(reader)
            .filter(notice_policies.reviewable_by(reader), status=NoticeStatus.SUBMITTED)
            .order_by("-changed_at")[:SHOWN]
        ),
        "to_decide": list(
            AccessRequest.objects.visible_to(reader)
            .filter(access_policies.awaiting_decision(reader), status__in=OPEN_STATES)
            .order_by("-created_at")[:SHOWN]
        ),
    }
    return render(request, "portal/home.html", context)
