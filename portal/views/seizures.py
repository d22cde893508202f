"""Seizure reports: the report form, the organisation's reports, a report's page and the
statistics. Each reads and writes through the API's own pieces: `SeizureReportWriteSerializer`
and `seizure_report_create` to file, `readable_seizure_reports` with `SeizureReportFilter` to
list, `SeizureReportSerializer` to show, `seizure_stats` to count (docs/seizures.md)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ValidationError

from core.errors import ApplicationError
from intel import audit
from intel.models import TLP, DeviceProfile
from portal.forms import choices_of, field_errors, show_errors
from portal.guard import member, member_page, posted
from seizures import policies
from seizures import services as seizures
from seizures.api import SeizureReportFilter, SeizureReportWriteSerializer
from seizures.shapes import SeizureReportSerializer, readable_seizure_reports, rendering_context

PAGE = 50
LINES = 3


class ReportForm(forms.Form):
    seized_on = forms.DateField(
        label=gettext_lazy("Date of the search"), widget=forms.DateInput(attrs={"type": "date"})
    )
    country = forms.CharField(
        label=gettext_lazy("Country (ISO code)"),
        max_length=2,
        required=False,
        help_text=gettext_lazy("Two letters, e.g. FR; empty for your organisation's country."),
    )
    facility_type = forms.ChoiceField(label=gettext_lazy("Facility type"))
    facilities_searched = forms.IntegerField(
        label=gettext_lazy("Facilities searched"), min_value=1, required=False
    )
    detection_method = forms.ChoiceField(label=gettext_lazy("Detection method"), required=False)
    operation = forms.CharField(label=gettext_lazy("Operation"), max_length=200, required=False)
    negative_result = forms.BooleanField(
        label=gettext_lazy("Searched, nothing found (no lines)"), required=False
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes (no personal data)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Phone numbers, e-mail addresses, IMSIs and full IMEIs are refused."
        ),
    )
    tlp = forms.ChoiceField(label=gettext_lazy("Label"), initial=TLP.GREEN)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility_type"].choices = choices_of("facility_type")  # type: ignore[attr-defined]
        self.fields["detection_method"].choices = choices_of("detection_method", blank="—")  # type: ignore[attr-defined]
        self.fields["tlp"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in TLP.choices if value != TLP.RED
        ]


class LineForm(forms.Form):
    profile = forms.TypedChoiceField(
        label=gettext_lazy("Device profile"), coerce=int, empty_value=None, required=False
    )
    item_type = forms.CharField(
        label=gettext_lazy("Or an item type without a profile"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("For example: other_mobile_phone."),
    )
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, required=False)

    def __init__(self, *args: Any, profiles: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = [("", "—"), *profiles]  # type: ignore[attr-defined]

    def body(self) -> dict[str, Any] | None:
        """The line as the API takes it; None for a line left empty."""
        data = self.cleaned_data if self.is_valid() else {}
        if not any(data.get(name) for name in ("profile", "item_type", "quantity")):
            return None
        line: dict[str, Any] = {"quantity": data.get("quantity")}
        if data.get("profile") is not None:
            line["profile"] = data["profile"]
        if data.get("item_type"):
            line["item_type"] = data["item_type"]
        return line


LineFormSet = forms.formset_factory(LineForm, extra=LINES, max_num=100)


def _profiles(request: HttpRequest) -> list[tuple[Any, str]]:
    visible = DeviceProfile.objects.visible_to(member(request)).filter(retired_at__isnull=True)
    return list(visible.order_by("name", "pk").values_list("id", "name"))


@member_page
def report_list(request: HttpRequest) -> HttpResponse:
    """The organisation's reports by default (the API's `organisation=<slug>`), or every
    report the member may read."""
    reader = member(request)
    query = request.GET.copy()
    mine = reader.organisation.slug if reader.organisation else ""
    if "organisation" not in query and mine:
        query["organisation"] = mine
    found = SeizureReportFilter(query, queryset=readable_seizure_reports(reader), request=request)
    rows: list[dict[str, Any]] = []
    if found.is_valid():
        reports = list(found.qs.order_by("-seized_on", "-id")[:PAGE])
        context = rendering_context(reports, reader)
        rows = SeizureReportSerializer(reports, many=True, context=context).data  # type: ignore[assignment]
    return render(
        request,
        "portal/seizures/list.html",
        {
            "reports": rows,
            "filter": found,
            "everything": query.get("organisation", "") == "",
            "may_report": policies.may_report(reader),
        },
    )


@member_page
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reader = member(request)
    report = readable_seizure_reports(reader).filter(pk=pk).first()
    if report is None:
        raise Http404
    audit.record_read(
        actor=reader,
        object_type="seizure_report",
        object_id=report.pk,
        object_tlp=report.tlp,
        request=request,
    )
    data = SeizureReportSerializer(report, context=rendering_context([report], reader)).data
    shown = [line["profile"] for line in data["lines"] if line["profile"]]
    visible = DeviceProfile.objects.visible_to(reader).filter(pk__in=shown)
    names = dict(visible.values_list("id", "name"))
    return render(request, "portal/seizures/detail.html", {"report": data, "names": names})


@member_page
def report_new(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    if not policies.may_report(reader):
        raise PermissionDenied
    profiles = _profiles(request)
    (data,) = posted(request)
    form = ReportForm(data)
    lines = LineFormSet(data, prefix="lines", form_kwargs={"profiles": profiles})
    line_errors: list[str] = []
    if request.method == "POST":
        valid = form.is_valid() & lines.is_valid()
        if valid:
            report = _file(request, form, lines, line_errors)
            if report is not None:
                messages.success(request, _("Report filed."))
                return redirect("portal:seizure", pk=report.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "lines": lines, "line_errors": line_errors}
    return render(request, "portal/seizures/new.html", context, status=status)


def _file(request: HttpRequest, form: ReportForm, lines: Any, line_errors: list[str]) -> Any:
    """File the report as `POST /api/v1/seizures/` does; refusals go to their fields."""
    data = form.cleaned_data
    body: dict[str, Any] = {
        "seized_on": data["seized_on"].isoformat(),
        "facility_type": data["facility_type"],
        "detection_method": data["detection_method"],
        "operation": data["operation"],
        "negative_result": data["negative_result"],
        "notes": data["notes"],
        "tlp": data["tlp"],
        "lines": [line for line in (f.body() for f in lines.forms) if line is not None],
    }
    if data["country"]:
        body["country"] = data["country"].upper()
    if data["facilities_searched"] is not None:
        body["facilities_searched"] = data["facilities_searched"]
    # Line n of the body is the n-th filled form of the formset.
    filled = [f for f in lines.forms if f.body() is not None]
    try:
        writer = SeizureReportWriteSerializer(data=body, context={"request": request})
        writer.is_valid(raise_exception=True)
        return seizures.seizure_report_create(
            reporter=member(request), data=writer.to_input(), request=request
        )
    except (ApplicationError, ValidationError) as exc:
        rest = show_errors(form, field_errors(exc), nested=("lines",))
        for path, found in rest.items():
            parts = path.split(".")
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(filled):
                line = filled[int(parts[1])]
                name = parts[2] if len(parts) > 2 and parts[2] in line.fields else None
                line.add_error(name, " ".join(found))
            else:
                line_errors.extend(found)
        return None
