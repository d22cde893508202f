"""Seizure reports: the report form, the organisation's reports, a report's page with its
versions, its amendment and its withdrawal. Each reads and writes through the API's own
pieces: `SeizureReportWriteSerializer` and `seizure_report_create` to file,
`SeizureReportAmendSerializer` and `seizure_report_amend` to amend,
`SeizureReportWithdrawSerializer` and `seizure_report_withdraw` to withdraw, `policies` to
offer only what the API would allow, `readable_seizure_reports` with `SeizureReportFilter` to
list, `SeizureReportSerializer` and `render_versions` to show (docs/seizures.md)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from core.errors import ApplicationError
from intel import audit
from intel.models import DeviceProfile, Member
from portal.guard import member, member_page, posted
from portal.views.seizure_forms import (
    AmendForm,
    LineFormSet,
    ReportForm,
    WithdrawForm,
    as_json,
    body_of,
    changes_between,
    initial_of,
    profile_choices,
    show_refusal,
)
from seizures import amendments, policies
from seizures import services as seizures
from seizures.api import (
    SeizureReportAmendSerializer,
    SeizureReportFilter,
    SeizureReportWithdrawSerializer,
    SeizureReportWriteSerializer,
)
from seizures.models import SeizureReport, SeizureStatus
from seizures.shapes import (
    SeizureReportSerializer,
    readable_seizure_reports,
    render_versions,
    rendering_context,
)

PAGE = 50


def _lines(
    request: HttpRequest, reader: Member, initial: list[dict[str, Any]] | None = None
) -> Any:
    keep = {line["profile"] for line in initial or [] if line["profile"]}
    (data,) = posted(request)
    return LineFormSet(
        data,
        prefix="lines",
        initial=initial,
        form_kwargs={"profiles": profile_choices(reader, keep)},
    )


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


def _readable(reader: Member, pk: int) -> SeizureReport:
    report = readable_seizure_reports(reader).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def _rendered(report: SeizureReport, reader: Member) -> dict[str, Any]:
    """The report as the member's `GET /api/v1/seizures/{id}/` answers it."""
    return SeizureReportSerializer(report, context=rendering_context([report], reader)).data


def _changeable(reader: Member, pk: int) -> SeizureReport:
    """A report the member may amend or withdraw (the API's `policies.may_change`, not
    withdrawn). One they may not read, or a withdrawn one (which has no editor): 404; one they
    read but may not change: 403, as the API's write answers."""
    report = _readable(reader, pk)
    if report.status == SeizureStatus.WITHDRAWN:
        raise Http404
    if not policies.may_change(reader, report):
        raise PermissionDenied
    return report


@member_page
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reader = member(request)
    report = _readable(reader, pk)
    # `GET …/versions/`: each version as the member may read it, newest first; the page
    # reads the report and its versions, recorded as the API records them.
    versions = render_versions(report.versions.select_related("author"), reader)
    audit.record_read(
        actor=reader,
        object_type="seizure_report",
        object_id=report.pk,
        object_tlp=report.tlp,
        request=request,
        detail={"versions": True} if len(versions) > 1 else None,
    )
    data = _rendered(report, reader)
    shown = {line["profile"] for line in data["lines"] if line["profile"]}
    shown |= {line["profile"] for v in versions for line in v["report"]["lines"] if line["profile"]}
    visible = DeviceProfile.objects.visible_to(reader).filter(pk__in=shown)
    context = {
        "report": data,
        "names": dict(visible.values_list("id", "name")),
        "versions": versions[::-1],
        "may_change": policies.may_change(reader, report)
        and report.status != SeizureStatus.WITHDRAWN,
    }
    return render(request, "portal/seizures/detail.html", context)


@member_page
def report_new(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    if not policies.may_report(reader):
        raise PermissionDenied
    asked = request.GET.get("notice", "")
    initial = {"notice": int(asked)} if asked.isascii() and asked.isdigit() else {}
    form = ReportForm(*posted(request), reporter=reader, initial=initial)
    lines = _lines(request, reader)
    line_errors: list[str] = []
    if request.method == "POST" and form.is_valid() & lines.is_valid():
        body = form.body(lines)
        filled = [f for f in lines.forms if f.body() is not None]
        try:
            writer = SeizureReportWriteSerializer(data=as_json(body), context={"request": request})
            writer.is_valid(raise_exception=True)
            report = seizures.seizure_report_create(
                reporter=reader, data=writer.to_input(), request=request
            )
        except (ApplicationError, ValidationError) as exc:
            show_refusal(form, exc, filled, line_errors)
        else:
            messages.success(request, _("Report filed."))
            return redirect("portal:seizure", pk=report.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "lines": lines, "line_errors": line_errors}
    return render(request, "portal/seizures/new.html", context, status=status)


@member_page
def report_amend(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's form prefilled as the member reads it; saving sends what changed, with
    the reason, as `PATCH /api/v1/seizures/{id}/` does: a new version, the old one kept."""
    reader = member(request)
    report = _changeable(reader, pk)
    if request.method == "GET":  # the form shows the whole report: a read, as the API's
        audit.record_read(
            actor=reader,
            object_type="seizure_report",
            object_id=report.pk,
            object_tlp=report.tlp,
            request=request,
        )
    current = _rendered(report, reader)
    initial, initial_lines = initial_of(current)
    form = AmendForm(*posted(request), reporter=reader, initial=initial)
    lines = _lines(request, reader, initial_lines)
    line_errors: list[str] = []
    if request.method == "POST":
        # The version the form was opened at: the service refuses it if another was written
        # since ("changed meanwhile"), as it does for two concurrent API calls.
        opened = request.POST.get("version", "")
        if opened.isascii() and opened.isdigit():
            report.version = int(opened)
    if request.method == "POST" and form.is_valid() & lines.is_valid():
        changes = changes_between(body_of(current), form.body(lines))
        filled = [f for f in lines.forms if f.body() is not None]
        try:
            writer = SeizureReportAmendSerializer(
                data=as_json(changes) | {"reason": form.cleaned_data["reason"]},
                partial=True,
                context={"request": request},
            )
            writer.is_valid(raise_exception=True)
            amendments.seizure_report_amend(
                member=reader,
                report=report,
                changes=writer.to_changes(),
                reason=writer.validated_data["reason"],
                request=request,
            )
        except (ApplicationError, ValidationError) as exc:
            show_refusal(form, exc, filled, line_errors)
        else:
            messages.success(request, _("Report amended: a new version is kept."))
            return redirect("portal:seizure", pk=report.pk)
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "lines": lines,
        "line_errors": line_errors,
        "report": current,
        "next_version": current["version"] + 1,
    }
    return render(request, "portal/seizures/amend.html", context, status=status)


@member_page
def report_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page with the reason; its form withdraws as
    `POST /api/v1/seizures/{id}/withdraw/` does."""
    reader = member(request)
    report = _changeable(reader, pk)
    form = WithdrawForm(*posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            checked = SeizureReportWithdrawSerializer(data=form.cleaned_data)
            checked.is_valid(raise_exception=True)
            amendments.seizure_report_withdraw(
                member=reader,
                report=report,
                reason=checked.validated_data["reason"],
                request=request,
            )
        except (ApplicationError, ValidationError) as exc:
            show_refusal(form, exc, [], [])
        else:
            messages.success(request, _("Report withdrawn: no figure counts it any more."))
            return redirect("portal:seizure", pk=report.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "report": _rendered(report, reader)}
    return render(request, "portal/seizures/withdraw.html", context, status=status)
