"""The audit trail for auditors: the API's filters over every event, newest first, the chain's
verification on demand and the command that verifies it. Anyone else meets the portal's 404,
as the API answers 404. Searches are recorded (`audit.searched`), as in the API."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ValidationError

from intel import audit
from intel.api.audit import AuditEventFilter
from intel.models import AuditEvent, Role
from portal.guard import member, member_page

PAGE = 50
FILTERS = ("actor", "organisation", "action", "object_type", "object_id", "after", "before")


@member_page
@require_http_methods(["GET", "POST"])
def trail(request: HttpRequest) -> HttpResponse:
    auditor = member(request)
    if auditor.role != Role.AUDITOR:
        raise Http404
    # The page's own filters, each with its field to show a refusal at.
    asked = {key: request.GET[key] for key in FILTERS if key in request.GET}
    found = AuditEventFilter(asked, queryset=AuditEvent.objects.all(), request=request)
    events: list[AuditEvent] = []
    older = None
    errors: dict[str, list[str]] = {}
    try:
        queryset = found.qs
        before = request.GET.get("before_id", "")
        if before.isascii() and before.isdigit():
            queryset = queryset.filter(pk__lt=int(before))
        events = list(queryset.order_by("-pk")[: PAGE + 1])
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        errors = {key: [str(m) for m in value] for key, value in detail.items()}
    if len(events) > PAGE:
        events = events[:PAGE]
        older = events[-1].pk
    searched = {key: request.GET[key] for key in FILTERS if request.GET.get(key)}
    audit.record(action="audit.searched", actor=auditor, detail=searched | {"via": "portal"})
    verification = None
    if request.method == "POST":
        checked, broken = audit.verify()
        verification = {"checked": checked, "broken": broken, "head": audit.head()}
    context = {
        "events": events,
        "older": older,
        "errors": errors,
        "values": {key: request.GET.get(key, "") for key in FILTERS},
        "verification": verification,
    }
    return render(request, "portal/audit.html", context, status=400 if errors else 200)
