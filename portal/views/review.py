"""A draft's way to publication on its page: submit for review, and the reviewer's publish and
return (with a comment), through the API's services (`notice_submit`, `notice_publish`,
`notice_return`) and rules (`notices.policies`); and the issuer's receipts, from the API's
`receipts/` read (`notices.follow_up`, audited as the API)."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError, NotFound
from notices import policies, services
from notices.follow_up import receipts_read
from notices.models import Notice
from notices.receipts import organisations_by_id, receipt_rows
from portal import labels
from portal.guard import member, member_page
from portal.views.compose import reason_labels
from portal.views.notices import ReturnForm, notice_page_with


def _visible(request: HttpRequest, pk: int) -> Notice:
    notice: Notice | None = Notice.objects.visible_to(member(request)).filter(pk=pk).first()
    if notice is None:
        raise Http404
    return notice


def _done(request: HttpRequest, pk: int, message: str, call: Any, **kwargs: Any) -> HttpResponse:
    """Call the service; a refusal is shown on the notice's page, a hidden notice is 404."""
    try:
        call(notice_id=pk, author=member(request), **kwargs)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, message)
    return redirect("portal:notice", pk=pk)


@member_page
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _visible(request, pk)
    return _done(request, notice.pk, _("Submitted for review."), services.notice_submit)


@member_page
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _visible(request, pk)
    return _done(request, notice.pk, _("Published."), services.notice_publish)


@member_page
@require_POST
def return_to_drafter(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _visible(request, pk)
    form = ReturnForm(request.POST, prefix="return")
    if form.is_valid():
        return _done(
            request,
            notice.pk,
            _("Returned to the drafter."),
            services.notice_return,
            comment=form.cleaned_data["comment"],
        )
    return notice_page_with(request, notice.pk, return_form=form, status=400)


@member_page
def receipts(request: HttpRequest, pk: int) -> HttpResponse:
    """Every organisation of the audience with its receipt, as `GET …/receipts/` pages it."""
    notice = _visible(request, pk)
    if not policies.may_see_receipts(member(request), notice):
        raise Http404
    follow_up = receipts_read(
        notice=notice, reader=member(request), audited=request.method != "HEAD"
    )
    organisations = list(organisations_by_id(follow_up.organisation_ids))
    rows = receipt_rows(notice, organisations, follow_up.reasons)
    for row in rows:
        row["reason_labels"] = reason_labels(row["reasons"])
        row["outcome_label"] = labels.label("acknowledgement_outcome", row["outcome"])
    context = {"notice": notice, "rows": rows, "totals": follow_up.totals}
    return render(request, "portal/notices/receipts.html", context)
