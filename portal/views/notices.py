"""Notices: the inbox and a notice's page, read through the API's own selectors and renderer
(`visible_to`, `with_visible_profiles`, `render_for`); opening a notice records it as read by
the member's organisation and audits a restricted read, as the API does; acknowledging calls
the same service; the page offers what the review rules (`notices.policies`) allow."""

from django import forms
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from intel import audit
from notices import policies, services
from notices.filters import NoticeFilter
from notices.models import (
    UNPUBLISHED_STATES,
    AcknowledgementOutcome,
    Notice,
    NoticeReceipt,
    NoticeStatus,
    NoticeType,
)
from notices.rendering import render_for, with_visible_profiles
from portal.forms import filtered
from portal.guard import member, member_page

PAGE = 25


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


@member_page
def inbox(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    found = NoticeFilter(request.GET, queryset=Notice.objects.visible_to(reader), request=request)
    rows: list[Notice] = []
    older = None
    matching = filtered(found)
    if matching is not None:
        mine = NoticeReceipt.objects.filter(notice=OuterRef("pk"), organisation=reader.organisation)
        queryset = matching.select_related("issuer").annotate(
            read=Exists(mine.filter(read_at__isnull=False)),
            acknowledged=Exists(mine.filter(acknowledged_at__isnull=False)),
        )
        before = request.GET.get("before", "")
        if before.isascii() and before.isdigit():
            queryset = queryset.filter(pk__lt=int(before))
        rows = list(queryset.order_by("-pk")[: PAGE + 1])
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            older = rows[-1].pk
    context = {
        "filter": found,
        "notices": rows,
        "older": older,
        "types": NoticeType.choices,
        "may_draft": policies.may_draft(reader),
    }
    return render(request, "portal/notices/inbox.html", context)


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
