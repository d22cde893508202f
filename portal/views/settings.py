"""The member's settings page: language, API tokens (a new secret shown once), the second
factor and its recovery codes."""

from datetime import timedelta

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from intel import accounts
from intel.models import ApiToken
from portal import second_factor
from portal.guard import member, member_page

NEW_SECRET = "portal.new_token"  # noqa: S105 - a session key, not a secret


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name (what the token is for)"),
        max_length=100,
        help_text=_("For example: national case system, TAXII feed."),
    )
    days = forms.IntegerField(
        label=_("Valid for (days, empty for no expiry)"),
        min_value=1,
        max_value=3650,
        required=False,
    )


def _tokens(request: HttpRequest) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(member=member(request), revoked_at__isnull=True).order_by(
            "-created_at"
        )
    )


@member_page
def settings_page(request: HttpRequest) -> HttpResponse:
    form = TokenForm()
    context = {
        "form": form,
        "tokens": _tokens(request),
        "new_secret": request.session.pop(NEW_SECRET, None),
        "needs_second_factor": second_factor.needs_second_factor(member(request)),
        "has_authenticator": second_factor.confirmed_authenticator(member(request)) is not None,
        "now": timezone.now(),
    }
    return render(request, "portal/settings.html", context)


@member_page
@require_POST
def token_issue(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["days"]
        try:
            issued = accounts.token_issue(
                member=member(request),
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                actor=member(request),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.detail))
        else:
            request.session[NEW_SECRET] = {"name": issued.token.name, "secret": issued.secret}
            return redirect("portal:settings")
    context = {"form": form, "tokens": _tokens(request), "now": timezone.now()}
    return render(request, "portal/settings.html", context, status=400)


@member_page
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, member=member(request)).first()
    if token is None:
        raise Http404
    accounts.token_revoke(token=token, actor=member(request))
    return redirect("portal:settings")


@member_page
@require_POST
def recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    if second_factor.confirmed_authenticator(member(request)) is None:
        return redirect("portal:enrol")
    request.session["portal.recovery_codes"] = second_factor.new_recovery_codes(member(request))
    return redirect("portal:recovery_codes")
