"""Signing in (password, then the second factor), enrolling an authenticator, recovery codes,
signing out, and a first password from an invitation link.

A session is created (Django's `login`) only once every factor has passed: between the password
and the code, the session holds only the id of the member being signed in, which no other page
and no API call accepts.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from intel import audit
from intel.models import Member
from operations import demo
from portal import invitations, second_factor
from portal.guard import posted

PENDING = "portal.pending_member"
NEXT = "portal.next"
CODES = "portal.recovery_codes"


class SignInForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.member: Member | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        # `LimitedModelBackend`: counted, limited and audited like every password check.
        user = authenticate(self.request, username=data["username"], password=data["password"])
        if not isinstance(user, Member) or not user.is_active:
            raise forms.ValidationError(_("The user name or the password is wrong."))
        self.member = user
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app, or a recovery code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class ConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code your app shows now"),
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or request.session.get(NEXT)
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(target)
    return fallback


def _pending(request: HttpRequest) -> Member | None:
    pk = request.session.get(PENDING)
    return Member.objects.filter(pk=pk, is_active=True).first() if pk else None


def _finish(request: HttpRequest, member: Member, device: Any | None) -> HttpResponseRedirect:
    target = _next(request)
    login(request, member, backend="intel.auth_limits.LimitedModelBackend")
    if device is not None:
        otp_login(request, device)
    request.session.pop(PENDING, None)
    request.session.pop(NEXT, None)
    return redirect(target)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next(request))
    form = SignInForm(request, *posted(request))
    if request.method == "POST" and form.is_valid():
        assert form.member is not None
        request.session.cycle_key()
        request.session[NEXT] = _next(request)
        if not second_factor.needs_second_factor(form.member):
            return _finish(request, form.member, None)
        request.session[PENDING] = form.member.pk
        if second_factor.confirmed_authenticator(form.member) is None:
            return redirect("portal:enrol")
        return redirect("portal:verify")
    context = {
        "form": form,
        "next": _next(request, ""),
        "demo_personas": demo.personas() if settings.DIX_DEMO else [],
    }
    return render(request, "portal/account/sign_in.html", context)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    member = _pending(request)
    if member is None:
        return redirect("portal:sign_in")
    form = CodeForm(*posted(request))
    if request.method == "POST" and form.is_valid():
        device = second_factor.verify(member, form.cleaned_data["code"])
        if device is not None:
            return _finish(request, member, device)
        audit.record(
            action="authentication.failed",
            actor=None,
            object_type="member",
            object_id=member.pk,
            request=request,
            detail={"member": member.username, "credential": "second_factor"},
        )
        form.add_error("code", _("This code is wrong or has been used. Try the next one."))
    return render(request, "portal/account/verify.html", {"form": form, "member": member})


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: during sign-in (first time), or from the settings page to
    replace the current one."""
    pending = _pending(request)
    if pending is not None and second_factor.confirmed_authenticator(pending) is not None:
        # Half signed in: only the authenticator already enrolled finishes the sign-in;
        # a new one is enrolled once signed in, from the settings page.
        return redirect("portal:verify")
    member = pending or (request.user if isinstance(request.user, Member) else None)
    if member is None:
        return redirect("portal:sign_in")
    device = second_factor.pending_authenticator(member)
    form = ConfirmForm(*posted(request))
    if request.method == "POST" and form.is_valid():
        codes = second_factor.confirm(device, form.cleaned_data["code"])
        if codes is not None:
            audit.record(
                action="member.second_factor_enrolled",
                actor=member,
                object_type="member",
                object_id=member.pk,
                request=request,
            )
            if _pending(request) is not None:
                _finish(request, member, device)
            else:
                otp_login(request, device)
            request.session[CODES] = codes
            return redirect("portal:recovery_codes")
        form.add_error("code", _("This code does not match. Check the time on your phone."))
    context = {
        "form": form,
        "qr": second_factor.qr_svg(device),
        "secret": second_factor.secret_of(device),
    }
    return render(request, "portal/account/enrol.html", context)


def recovery_codes(request: HttpRequest) -> HttpResponse:
    """The codes just made, shown once."""
    if not request.user.is_authenticated:
        return redirect("portal:sign_in")
    codes = request.session.pop(CODES, None)
    if codes is None:
        return redirect("portal:settings")
    return render(request, "portal/account/recovery_codes.html", {"codes": codes})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:sign_in")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    member = invitations.member_of_invitation(uid, token)
    if member is None:
        return render(request, "portal/account/invitation_invalid.html", status=404)
    form = SetPasswordForm(member, *posted(request))
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record(
            action="member.password_set",
            actor=member,
            object_type="member",
            object_id=member.pk,
            request=request,
        )
        return HttpResponseRedirect(reverse("portal:sign_in") + "?welcome=1")
    return render(request, "portal/account/invitation.html", {"form": form, "member": member})
