"""Access requests: what a notice lets the member request and the request form, the lists
of requests sent and received, and a request's page with its history and the decider's
buttons. The same pieces as `/api/v1/access-requests/`: `requestable_via_notice`, the API's
input serializers and `AccessRequestFilter`, `readable_access_requests` and
`AccessRequestSerializer`, the services of `access`, and `access.policies` to show a button
only to whom it would serve."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from access import decisions, policies, routing, targets
from access import services as access
from access.inputs import (
    AccessRequestCreateSerializer,
    AccessRequestFilter,
    ApproveSerializer,
    MessageSerializer,
    OptionalReasonSerializer,
    ReasonSerializer,
    RouteSerializer,
)
from access.shapes import AccessRequestSerializer, readable_access_requests
from core.errors import ApplicationError, NotFound
from intel.models import AccessRequest, AccessRequestStatus, DeviceProfile, Member, TargetType
from intel.models.access import OPEN_STATES
from notices.models import Notice
from portal.forms import choices_of, field_errors, show_errors
from portal.guard import member, member_page, posted

SHOWN = 50


class RequestForm(forms.Form):
    purpose = forms.CharField(
        label=gettext_lazy("Purpose: why your desk needs it"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Legal basis"),
        max_length=500,
        help_text=gettext_lazy("The article of law or the instrument of cooperation."),
    )
    case_reference = forms.CharField(
        label=gettext_lazy("Case reference"), max_length=200, required=False
    )
    days = forms.CharField(
        label=gettext_lazy("Days of access"),
        required=False,
        help_text=gettext_lazy("1 to 365; empty for 90, or give an end date instead."),
        widget=forms.NumberInput,
    )
    expires_at = forms.CharField(
        label=gettext_lazy("Or until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ApproveForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("Scope"))
    days = forms.CharField(
        label=gettext_lazy("Days of access"),
        required=False,
        help_text=gettext_lazy("Empty: as the request asked."),
        widget=forms.NumberInput,
    )
    expires_at = forms.CharField(
        label=gettext_lazy("Or until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the requester"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = choices_of("grant_scope")  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason, as the requester will read it"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MessageForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 2})
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RouteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note for the owner"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _body(data: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The posted fields as the API's body: fields left empty are not sent."""
    return {name: data[name] for name in names if data.get(name, "") != ""}


@member_page
def request_new(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    raw = request.GET.get("via_notice", "")
    if not (raw.isascii() and raw.isdigit()):
        raise Http404
    try:
        rows = targets.requestable_via_notice(member=reader, notice_id=int(raw))
    except NotFound as exc:
        raise Http404 from exc
    chosen = None
    kind, target = request.GET.get("target_type", ""), request.GET.get("target_id", "")
    for row in rows:
        if row.target_type == kind and str(row.target_id) == target:
            chosen = row
    if (kind or target) and chosen is None:
        raise Http404
    form = RequestForm(*posted(request))
    if request.method == "POST" and chosen is not None and form.is_valid():
        body = _body(
            request.POST, ("purpose", "legal_basis", "case_reference", "days", "expires_at")
        )
        body |= {
            "target_type": chosen.target_type,
            "target_id": chosen.target_id,
            "via_notice": int(raw),
        }
        try:
            writer = AccessRequestCreateSerializer(data=body)
            writer.is_valid(raise_exception=True)
            data = writer.validated_data
            created = access.access_request_create(
                requester=reader,
                target_type=data["target_type"],
                target_id=data["target_id"],
                via_notice_id=data.get("via_notice"),
                purpose=data["purpose"],
                legal_basis=data["legal_basis"],
                case_reference=data["case_reference"],
                days=data.get("days"),
                expires_at=data.get("expires_at"),
                http_request=request,
            )
        except NotFound as exc:
            raise Http404 from exc
        except (ApplicationError, ValidationError) as exc:
            show_errors(form, field_errors(exc))
        else:
            messages.success(request, _("Request sent to its owner."))
            return redirect("portal:access_request", pk=created.pk)
    context = {
        "rows": rows,
        "chosen": chosen,
        "form": form,
        "via_notice": int(raw),
        "may_request": policies.may_request(reader),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/access/new.html", context, status=status)


@member_page
def request_list(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    lists = {}
    for role in ("received", "sent"):
        found = AccessRequestFilter(
            {"role": role}, queryset=readable_access_requests(reader), request=request
        )
        rows = list(found.qs.order_by("-created_at", "-id")[:SHOWN]) if found.is_valid() else []
        lists[role] = AccessRequestSerializer(rows, many=True).data
    return render(
        request, "portal/access/list.html", {"received": lists["received"], "sent": lists["sent"]}
    )


def _visible(request: HttpRequest, pk: int) -> AccessRequest:
    found = readable_access_requests(member(request)).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _page(
    request: HttpRequest,
    access_request: AccessRequest,
    bound: dict[str, forms.Form],
    status: int = 200,
) -> HttpResponse:
    reader = member(request)
    target = targets.target_of(access_request)
    is_open = access_request.status in OPEN_STATES
    may = {
        "approve": is_open and policies.may_decide(reader, access_request, target),
        "deny": is_open
        and policies.decision_refusal(reader, access_request, target, widens=False) is None,
        "request_info": is_open and policies.may_ask_info(reader, access_request),
        "comment": policies.may_comment(reader, access_request),
        "route": is_open and policies.may_route(reader, access_request),
        "answer": access_request.status == AccessRequestStatus.INFO_REQUESTED
        and policies.may_act_for_requester(reader, access_request),
        "withdraw": is_open and policies.may_act_for_requester(reader, access_request),
    }
    forms_ = {name: bound.get(name) or FORMS[name](auto_id=f"id_{name}_%s") for name in FORMS}
    data = AccessRequestSerializer(access_request).data
    sees_target = target is not None and targets.sees(reader, target)
    context = {
        "ar": data,
        "may": may,
        "forms": forms_,
        "sees_target": sees_target,
        "is_profile": access_request.target_type == TargetType.PROFILE,
        "target_name": target_name(reader, access_request) if sees_target else "",
    }
    return render(request, "portal/access/detail.html", context, status=status)


@member_page
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _visible(request, pk), {})


FORMS: dict[str, type[forms.Form]] = {
    "approve": ApproveForm,
    "deny": ReasonForm,
    "request_info": MessageForm,
    "comment": MessageForm,
    "route": RouteForm,
    "answer": MessageForm,
    "withdraw": OptionalReasonForm,
}


def _run(name: str, pk: int, request: HttpRequest) -> None:
    """The API's action `name`: its serializer, then its service."""
    who = member(request)
    post = request.POST
    if name == "approve":
        writer: Any = ApproveSerializer(data=_body(post, ("scope", "days", "expires_at", "note")))
        writer.is_valid(raise_exception=True)
        d = writer.validated_data
        decisions.access_request_approve(
            access_request_id=pk,
            member=who,
            scope=d["scope"],
            days=d.get("days"),
            expires_at=d.get("expires_at"),
            note=d["note"],
            http_request=request,
        )
    elif name == "deny":
        writer = ReasonSerializer(data=_body(post, ("reason",)))
        writer.is_valid(raise_exception=True)
        decisions.access_request_deny(
            access_request_id=pk,
            member=who,
            reason=writer.validated_data["reason"],
            http_request=request,
        )
    elif name == "route":
        writer = RouteSerializer(data=_body(post, ("note",)))
        writer.is_valid(raise_exception=True)
        routing.access_request_route(
            access_request_id=pk,
            member=who,
            note=writer.validated_data["note"],
            http_request=request,
        )
    elif name == "withdraw":
        writer = OptionalReasonSerializer(data=_body(post, ("reason",)))
        writer.is_valid(raise_exception=True)
        access.access_request_withdraw(
            access_request_id=pk,
            member=who,
            reason=writer.validated_data["reason"],
            http_request=request,
        )
    else:
        writer = MessageSerializer(data=_body(post, ("message",)))
        writer.is_valid(raise_exception=True)
        service = {
            "request_info": decisions.access_request_request_info,
            "comment": routing.access_request_comment,
            "answer": access.access_request_answer,
        }[name]
        service(
            access_request_id=pk,
            member=who,
            message=writer.validated_data["message"],
            http_request=request,
        )


DONE = {
    "approve": gettext_lazy("Approved: the requester's organisation sees it until the grant ends."),
    "deny": gettext_lazy("Denied."),
    "request_info": gettext_lazy("Question sent to the requester."),
    "comment": gettext_lazy("Comment added."),
    "route": gettext_lazy("Routed to the owner."),
    "answer": gettext_lazy("Answer sent."),
    "withdraw": gettext_lazy("Request withdrawn."),
}


@member_page
@require_POST
def request_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in FORMS:
        raise Http404
    access_request = _visible(request, pk)
    form = FORMS[action](request.POST, auto_id=f"id_{action}_%s")
    status = 400
    if form.is_valid():
        try:
            _run(action, pk, request)
        except NotFound as exc:
            raise Http404 from exc
        except ApplicationError as exc:
            show_errors(form, field_errors(exc))
            status = exc.status
        except ValidationError as exc:
            show_errors(form, field_errors(exc))
        else:
            messages.success(request, DONE[action])
            return redirect("portal:access_request", pk=pk)
    return _page(request, _visible(request, access_request.pk), {action: form}, status=status)


def target_name(reader: Member, access_request: AccessRequest) -> str:
    """What the request is about, by name, when the member may see it ("" otherwise)."""
    if access_request.target_type == TargetType.PROFILE:
        found = DeviceProfile.objects.visible_to(reader).filter(pk=access_request.target_id)
        return str(found.values_list("name", flat=True).first() or "")
    if access_request.target_type == TargetType.NOTICE:
        notice = Notice.objects.visible_to(reader).filter(pk=access_request.target_id)
        return str(notice.values_list("title", flat=True).first() or "")
    return ""
