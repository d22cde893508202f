"""Notices: the inbox and a notice's page, read through the API's own selectors, filters and
renderer (`visible_to`, `NoticeFilter`, `with_visible_profiles`, `render_for`); opening a
notice records it as read by the member's organisation and audits a restricted read, as the
API does; acknowledging calls the same service; the page offers what the review rules
(`notices.policies`) allow. An inbox page is kept between two changes of shared data
(`portal.kept`, as the API keeps its inbox pages); the desk's read marks are read fresh."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from core.errors import ApplicationError
from intel import audit
from intel.models import Member
from notices import policies, services
from notices.filters import NoticeFilter
from notices.models import (
    PUBLIC_STATES,
    UNPUBLISHED_STATES,
    AcknowledgementOutcome,
    Notice,
    NoticeReceipt,
    NoticeStatus,
    NoticeType,
)
from notices.rendering import render_for, with_visible_profiles
from portal.guard import member, member_page
from portal.kept import SECONDS, kept, page_key, part_key
from seizures import policies as seizure_policies

PAGE = 25
UNMARKED = {"read": False, "acknowledged": False}
INBOX_PAGE = "inbox:1:"  # the version changes with `InboxPage`'s fields (portal.kept)


class AcknowledgeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("What your desk did"),
        choices=[("", "—"), *AcknowledgementOutcome.choices],
        required=False,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment for the issuer (no personal data)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("What the drafter should change"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@dataclass
class InboxPage:
    """One page of the inbox as the member's filters select it: what only a bump of the
    shared-data counter changes (which notices, their fields, the desk's acknowledgements)."""

    rows: list[dict[str, Any]]
    older: int | None  # the cursor of the next page, if any


@member_page
def inbox(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    key = page_key(reader, INBOX_PAGE + request.get_full_path())
    # Checked first without the visibility rule, which is built only when the page is not kept.
    found = NoticeFilter(request.GET, queryset=Notice.objects.none(), request=request)
    rows: list[dict[str, Any]] = []
    older = None
    if found.is_valid():
        try:
            page = kept(key, lambda: _inbox_page(request))
        except ValidationError as exc:  # `since` is read only when it is applied
            detail = exc.detail if isinstance(exc.detail, dict) else {"since": exc.detail}
            for name, errors in detail.items():
                found.form.add_error(name, " ".join(str(error) for error in errors))
        else:
            marks = _marks(reader, [row["id"] for row in page.rows])
            rows = [row | marks.get(row["id"], UNMARKED) for row in page.rows]
            older = page.older
    context = {
        "filter": found,
        "notices": rows,
        "older": older,
        # The table as rendered: the same rows, language and marks give the same HTML.
        "table_key": part_key(
            key, "table", get_language(), [(r["id"], r["read"], r["acknowledged"]) for r in rows]
        ),
        "kept_seconds": SECONDS,
        "types": NoticeType.choices,
        "may_draft": policies.may_draft(reader),
    }
    return render(request, "portal/notices/inbox.html", context)


def _inbox_page(request: HttpRequest) -> InboxPage:
    found = NoticeFilter(
        request.GET, queryset=Notice.objects.visible_to(member(request)), request=request
    )
    queryset = found.qs
    before = request.GET.get("before", "")
    if before.isascii() and before.isdigit():
        queryset = queryset.filter(pk__lt=int(before))
    rows = list(
        queryset.order_by("-pk").values(
            "id", "reference", "title", "notice_type", "issuer_id", "issuer__name", "tlp", "status"
        )[: PAGE + 1]
    )
    older = rows[PAGE - 1]["id"] if len(rows) > PAGE else None
    return InboxPage(
        rows=[
            row
            | {
                "type_label": NoticeType(row["notice_type"]).label,
                "status_label": NoticeStatus(row["status"]).label,
            }
            for row in rows[:PAGE]
        ],
        older=older,
    )


def _marks(reader: Member, notice_ids: list[int]) -> dict[int, dict[str, bool]]:
    """Whether the desk has read and acknowledged each of these notices, in one query: read
    marks change without a bump of the counter, so they are never kept."""
    if reader.organisation_id is None or not notice_ids:
        return {}
    receipts = NoticeReceipt.objects.filter(
        organisation_id=reader.organisation_id, notice_id__in=notice_ids
    ).values_list("notice_id", "read_at", "acknowledged_at")
    return {
        pk: {"read": read is not None, "acknowledged": done is not None}
        for pk, read, done in receipts
    }


def _visible(request: HttpRequest, pk: int) -> Notice:
    notice = with_visible_profiles(Notice.objects.visible_to(member(request)), member(request))
    found: Notice | None = notice.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@member_page
def notice_page(request: HttpRequest, pk: int) -> HttpResponse:
    reader = member(request)
    notice = _visible(request, pk)
    data = render_for([notice], reader)[0]
    services.receipts_mark(notices=[notice], organisation=reader.organisation, read=True)
    audit.record_read(
        actor=reader,
        object_type="notice",
        object_id=notice.pk,
        object_tlp=notice.tlp,
        request=request,
        detail={"reference": notice.reference, "version": notice.version},
    )
    return _page(request, notice, data, AcknowledgeForm())


def notice_page_with(
    request: HttpRequest, pk: int, *, return_form: "ReturnForm", status: int
) -> HttpResponse:
    """The notice's page showing a refused return's form."""
    notice = _visible(request, pk)
    data = render_for([notice], member(request))[0]
    return _page(request, notice, data, AcknowledgeForm(), status, return_form=return_form)


def _page(
    request: HttpRequest,
    notice: Notice,
    data: dict[str, object],
    form: AcknowledgeForm,
    status: int = 200,
    return_form: ReturnForm | None = None,
) -> HttpResponse:
    reader = member(request)
    issuer = data["issuer"]
    is_issuer = isinstance(issuer, dict) and reader.organisation_id == issuer["id"]
    unpublished = notice.status in UNPUBLISHED_STATES
    draft = notice.status == NoticeStatus.DRAFT
    context = {
        "notice": data,
        "form": form,
        "may_acknowledge": not is_issuer and reader.organisation_id and not unpublished,
        # The review, by the API's rules: drafters edit and submit, reviewers publish or
        # return, the issuer follows receipts.
        "may_edit": draft and policies.may_edit_draft(reader, notice),
        "may_publish": unpublished and policies.may_publish(reader, notice),
        "may_return": notice.status == NoticeStatus.SUBMITTED
        and policies.may_review(reader, notice),
        "may_see_receipts": policies.may_see_receipts(reader, notice),
        # A published notice may be answered by a seizure report (the API's `notice`).
        "may_report_seizure": notice.status in PUBLIC_STATES
        and seizure_policies.may_report(reader),
        "return_form": return_form or ReturnForm(prefix="return"),
    }
    return render(request, "portal/notices/detail.html", context, status=status)


@member_page
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _visible(request, pk)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.notice_acknowledge(
                notice=notice,
                member=member(request),
                outcome=form.cleaned_data["outcome"] or None,
                comment=form.cleaned_data["comment"] or None,
            )
        except ApplicationError as exc:
            for field, errors in exc.errors.items():
                form.add_error(field if field in form.fields else None, " ".join(errors))
            if not exc.errors:
                form.add_error(None, str(exc.detail))
        else:
            messages.success(request, _("Acknowledged for your organisation."))
            return redirect("portal:notice", pk=pk)
    return _page(request, notice, render_for([notice], member(request))[0], form, status=400)
