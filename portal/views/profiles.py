"""Device profiles: the searchable list and a profile's page, read through the API's own
selectors and shape (`for_reading`, `DeviceProfileSerializer`), so a page shows exactly what
the same member's API call returns."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from intel import audit, policies
from intel.filters import DeviceProfileFilter
from intel.models import DeviceProfile
from intel.shapes.profiles import DeviceProfileSerializer
from portal.charts import bar_chart
from portal.forms import filtered
from portal.guard import member, member_page
from portal.views.profile_files import upload_form
from seizures.services import profile_seizure_stats
from seizures.shapes import render_stats

PAGE = 25


@member_page
def profile_list(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    # The list shows names, classes, owners and labels: the visible profiles, without the
    # children the profile page loads.
    found = DeviceProfileFilter(
        request.GET, queryset=DeviceProfile.objects.visible_to(reader), request=request
    )
    rows: list[DeviceProfile] = []
    older: int | None = None
    matching = filtered(found)
    if matching is not None:
        queryset = matching.select_related("owner").order_by("-pk")
        before = request.GET.get("before", "")
        if before.isascii() and before.isdigit():
            queryset = queryset.filter(pk__lt=int(before))
        rows = list(queryset[: PAGE + 1])
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            older = rows[-1].pk
    context = {
        "filter": found,
        "profiles": rows,
        "older": older,
        "q": request.GET.get("q", ""),
        "may_file": policies.may_file_profiles(reader),
    }
    return render(request, "portal/profiles/list.html", context)


@member_page
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reader = member(request)
    profile = DeviceProfile.objects.for_reading(reader).filter(pk=pk).first()
    if profile is None:
        raise Http404
    data: dict[str, Any] = dict(DeviceProfileSerializer(profile, context={"reader": reader}).data)
    audit.record_read(
        actor=reader,
        object_type="profile",
        object_id=profile.pk,
        object_tlp=data["tlp"],
        request=request,
        detail={"version": data.get("version")},
    )
    may_change = policies.may_change_profile(reader, profile) and profile.retired_at is None
    context = {
        "profile": data,
        "may_change": may_change,
        "upload": upload_form(reader, profile) if may_change else None,
        "profile_id": profile.pk,
        "photos": [a for a in data["attachments"] if a["content_type"].startswith("image/")],
        "seizures": _seizure_figures(profile, reader),
    }
    return render(request, "portal/profiles/detail.html", context)


def _seizure_figures(profile: DeviceProfile, reader: Any) -> dict[str, Any]:
    """The API's `GET /api/v1/profiles/{id}/seizures/stats/` for the member, and its devices
    seized by month as a chart."""
    figures = render_stats(profile_seizure_stats(profile=profile, member=reader))
    by_month: dict[str, int] = {}
    for row in figures["by_country_month"]:
        by_month[row["month"]] = by_month.get(row["month"], 0) + row["quantity"]
    figures["chart"] = (
        bar_chart(
            _("Devices of this model seized by month"),
            sorted(by_month.items()),
            chart_id="profile-seizures",
        )
        if by_month
        else None
    )
    return figures
