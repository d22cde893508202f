"""Webhook subscriptions of the member's organisation: the list with each endpoint's health,
a new endpoint (its signing secret shown once), and an endpoint's page with its actions and
delivery log; deleted endpoints listed apart, read-only, with their logs (kept until the
retention job purges them). Every read is the API's selector (`visible_to`, and
`with_deleted_visible_to` as for `GET …/deliveries/`), every write the API's service
(`webhooks.services`, `webhooks.probe`), and input passes the API's serializers."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from intel.models import Member
from portal.guard import member, member_page, posted
from portal.views.subscription_forms import RecoverForm, SubscriptionForm, show_errors, show_refusal
from webhooks import policies, probe, services
from webhooks.api.serializers import SubscriptionSerializer
from webhooks.models import Delivery, DeliveryState, Subscription

NEW_SECRET = "portal.new_subscription_secret"  # noqa: S105 - a session key, not a secret
PAGE = 20


def _organisation_member(request: HttpRequest) -> Member:
    """The member, who must belong to an organisation: subscriptions are an organisation's."""
    reader = member(request)
    if reader.organisation_id is None:
        raise Http404
    return reader


def _listed(reader: Member, *, deleted: bool = False) -> QuerySet[Subscription]:
    """`GET /api/v1/subscriptions/`, with the time of each endpoint's last success; with
    `deleted`, the deleted endpoints whose log `GET …/deliveries/` still answers."""
    found = (
        Subscription.objects.with_deleted_visible_to(reader).filter(deleted_at__isnull=False)
        if deleted
        else Subscription.objects.visible_to(reader)
    )
    return found.select_related("organisation").annotate(
        last_success=Max(
            "deliveries__completed_at", filter=Q(deliveries__state=DeliveryState.SUCCEEDED)
        )
    )


def _visible(reader: Member, pk: int, *, deleted: bool = False) -> Subscription:
    """A live endpoint of the member's; with `deleted`, a deleted one's too (read-only)."""
    found = _listed(reader).filter(pk=pk).first()
    if found is None and deleted:
        found = _listed(reader, deleted=True).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _deleted(reader: Member) -> dict[str, Any]:
    """The deleted endpoints, listed apart, and how long their logs are kept."""
    return {
        "deleted": list(_listed(reader, deleted=True).order_by("-deleted_at", "-id")),
        "retention_days": settings.DIX_RETENTION_DELIVERIES_DAYS,
    }


@member_page
def subscription_list(request: HttpRequest) -> HttpResponse:
    reader = _organisation_member(request)
    may_manage = policies.may_manage_subscriptions(reader)
    if request.method == "POST" and not may_manage:
        # The API's refusal (`subscription_create` raises the same for auditors).
        messages.error(request, _("Auditors do not manage subscriptions."))
        context: dict[str, Any] = {
            "subscriptions": list(_listed(reader)),
            "may_manage": False,
            **_deleted(reader),
        }
        return render(request, "portal/subscriptions/list.html", context, status=403)
    form = SubscriptionForm(*posted(request)) if may_manage else None
    if form is not None and request.method == "POST" and form.is_valid():
        checked = SubscriptionSerializer(data=form.api_data())
        if not checked.is_valid():
            show_errors(form, checked.errors)
        else:
            try:
                issued = services.subscription_create(member=reader, fields=checked.validated_data)
            except ApplicationError as exc:
                show_refusal(form, exc)
            else:
                request.session[NEW_SECRET] = {
                    "pk": issued.subscription.pk,
                    "secret": issued.secret,
                    "rotated": False,
                }
                return redirect("portal:subscription", pk=issued.subscription.pk)
    context = {
        "subscriptions": list(_listed(reader)),
        "form": form,
        "may_manage": may_manage,
        **_deleted(reader),
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "portal/subscriptions/list.html", context, status=status)


def _new_secret(request: HttpRequest, pk: int) -> dict[str, Any] | None:
    shown: dict[str, Any] | None = request.session.pop(NEW_SECRET, None)
    if not shown or shown.get("pk") != pk:
        return None
    if shown.get("previous_expires"):
        shown["previous_expires"] = parse_datetime(shown["previous_expires"])
    return shown


@member_page
def subscription_page(request: HttpRequest, pk: int) -> HttpResponse:
    reader = _organisation_member(request)
    sub = _visible(reader, pk, deleted=True)
    return _page(request, reader, sub, RecoverForm())


def _page(
    request: HttpRequest, reader: Member, sub: Subscription, recover: RecoverForm, status: int = 200
) -> HttpResponse:
    # The API's delivery log (`deliveries/`): this endpoint's deliveries with their attempts.
    rows = (
        Delivery.objects.filter(subscription=sub)
        .select_related("notice")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )
    state = request.GET.get("state", "")
    if state in DeliveryState.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    context = {
        "subscription": sub,
        "new_secret": _new_secret(request, sub.pk),
        # A deleted endpoint is read-only: its actions answer 404, as the API's do.
        "may_manage": policies.may_manage_subscriptions(reader) and sub.deleted_at is None,
        "retention_days": settings.DIX_RETENTION_DELIVERIES_DAYS,
        "deliveries": page,
        "states": DeliveryState.choices,
        "state": state,
        "recover_form": recover,
        "resendable": (DeliveryState.FAILED, DeliveryState.CANCELLED, DeliveryState.SUCCEEDED),
    }
    return render(request, "portal/subscriptions/detail.html", context, status=status)


def _acted(request: HttpRequest, pk: int) -> tuple[Member, Subscription]:
    reader = _organisation_member(request)
    return reader, _visible(reader, pk)


def _refused(request: HttpRequest, exc: ApplicationError, pk: int) -> HttpResponse:
    messages.error(request, str(exc.detail))
    return redirect("portal:subscription", pk=pk)


@member_page
@require_POST
def rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    reader, sub = _acted(request, pk)
    try:
        issued = services.subscription_rotate_secret(subscription=sub, member=reader)
    except ApplicationError as exc:
        return _refused(request, exc, pk)
    request.session[NEW_SECRET] = {
        "pk": pk,
        "secret": issued.secret,
        "rotated": True,
        "previous_expires": issued.subscription.previous_secret_expires_at.isoformat()
        if issued.subscription.previous_secret_expires_at
        else None,
    }
    return redirect("portal:subscription", pk=pk)


@member_page
@require_POST
def send_test(request: HttpRequest, pk: int) -> HttpResponse:
    reader, sub = _acted(request, pk)
    try:
        result = probe.subscription_test(subscription=sub, member=reader)
    except ApplicationError as exc:
        return _refused(request, exc, pk)
    if result.succeeded:
        messages.success(
            request,
            _("Test event sent: the endpoint answered %(status)s in %(ms)s ms.")
            % {"status": result.status_code, "ms": result.duration_ms},
        )
    else:
        messages.error(
            request,
            _("Test event sent, but it failed: %(reason)s")
            % {"reason": result.error or result.status_code},
        )
    return redirect("portal:subscription", pk=pk)


@member_page
@require_POST
def set_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    reader, sub = _acted(request, pk)
    enabled = request.POST.get("enabled") == "true"
    try:
        services.subscription_update(subscription=sub, member=reader, fields={"enabled": enabled})
    except ApplicationError as exc:
        return _refused(request, exc, pk)
    messages.success(
        request, _("The endpoint is enabled.") if enabled else _("The endpoint is disabled.")
    )
    return redirect("portal:subscription", pk=pk)


@member_page
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page; its form deletes (the API's `DELETE`)."""
    reader, sub = _acted(request, pk)
    if request.method != "POST":
        if not policies.may_manage_subscriptions(reader):
            raise PermissionDenied  # the confirmation of a deletion the member may not make
        return render(request, "portal/subscriptions/delete.html", {"subscription": sub})
    try:
        services.subscription_delete(subscription=sub, member=reader)
    except ApplicationError as exc:
        return _refused(request, exc, pk)
    messages.success(request, _("The endpoint is deleted: it receives nothing more."))
    return redirect("portal:subscriptions")


@member_page
@require_POST
def resend(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    reader, sub = _acted(request, pk)
    row = Delivery.objects.filter(subscription=sub, pk=delivery_id).select_related("subscription")
    delivery = row.first()
    if delivery is None:
        raise Http404
    try:
        services.delivery_resend(delivery=delivery, member=reader)
    except ApplicationError as exc:
        return _refused(request, exc, pk)
    messages.success(request, _("The delivery is queued again."))
    return redirect("portal:subscription", pk=pk)


@member_page
@require_POST
def recover(request: HttpRequest, pk: int) -> HttpResponse:
    reader, sub = _acted(request, pk)
    form = RecoverForm(request.POST)
    if form.is_valid():
        try:
            count = services.deliveries_recover(
                subscription=sub, member=reader, since=form.cleaned_data["since"]
            )
        except ApplicationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s delivery queued again.", "%(count)s deliveries queued again.", count
                )
                % {"count": count},
            )
            return redirect("portal:subscription", pk=pk)
    return _page(request, reader, sub, form, status=400)
