"""The notice composer: drafting and editing a draft through the API's own body
(`NoticeWriteSerializer`, `notice_input`) and services, so a page refuses exactly what the API
refuses, each refusal shown at its field; the profiles to pick come from the API's profile
search over the profiles the member may see; the audience preview is the API's
`audience/` read (`notices.follow_up`, audited as the API)."""

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework import serializers

from core.errors import ApplicationError, NotFound
from intel.filters import DeviceProfileFilter
from intel.models import TLP, DeviceProfile, Member, Organisation
from notices import follow_up, policies, services
from notices.api.serializers import NoticeWriteSerializer
from notices.api.views import notice_input
from notices.audience import Reason, audience_totals
from notices.models import AudienceScope, Notice, NoticeStatus, NoticeType
from portal.guard import member, member_page

# Profiles offered at once below the search box (those already picked are always offered).
OFFERED = 30
# Why an organisation is in the audience (`notices.audience.Reason`), in a few words.
REASONS = {
    Reason.ISSUER: gettext_lazy("issuer"),
    Reason.SCOPE: gettext_lazy("network or country"),
    Reason.NAMED: gettext_lazy("named"),
    Reason.SPONSORED: gettext_lazy("through its sponsoring desk"),
    Reason.GRANTED: gettext_lazy("access grant"),
}


class ProfileIdsField(forms.MultipleChoiceField):
    """Profile ids: any id may be sent (the offered ones are only a search's page); the
    API's serializer answers those the member may not see, as for a body."""

    def valid_value(self, value: str) -> bool:
        return value.isascii() and value.isdigit()


class NoticeForm(forms.Form):
    """The API's notice body as form fields (`audience.scope` is `scope`, and so on)."""

    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=NoticeType.choices)
    title = forms.CharField(label=gettext_lazy("Title"), required=False)
    summary = forms.CharField(
        label=gettext_lazy("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("A few lines, shown in lists and e-mails."),
    )
    body = forms.CharField(
        label=gettext_lazy("Body (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("**bold**, *italic*, lists with -, links as [text](https://…)."),
    )
    action_requested = forms.CharField(
        label=gettext_lazy("Action requested"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    profile_ids = ProfileIdsField(
        label=gettext_lazy("Device profiles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Every label validates here; the service refuses one above the member's clearance, as
    # for the API. The widget offers only those within it.
    tlp = forms.ChoiceField(label=gettext_lazy("Label"), choices=TLP.choices)
    scope = forms.ChoiceField(
        label=gettext_lazy("Audience"), choices=AudienceScope.choices, widget=forms.RadioSelect
    )
    organisations = forms.MultipleChoiceField(
        label=gettext_lazy("Organisations (audience: named organisations)"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    countries = forms.CharField(
        label=gettext_lazy("Countries (audience: countries)"),
        required=False,
        help_text=gettext_lazy("ISO codes separated by commas or spaces, e.g. BE, NO."),
    )
    members = forms.CharField(
        label=gettext_lazy("Named members (TLP:RED)"),
        required=False,
        help_text=gettext_lazy("User names separated by commas or spaces."),
    )
    respond_by = forms.CharField(
        label=gettext_lazy("Respond by"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy(
            "UTC. Audience organisations that have not acknowledged by then are reminded once."
        ),
    )
    restricted_data_available = forms.BooleanField(
        label=gettext_lazy("Restricted data available on request"), required=False
    )

    def __init__(self, *args: Any, author: Member, offered: list[DeviceProfile], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["tlp"].widget.choices = [
            (value, label) for value, label in TLP.choices if value in TLP.at_most(author.clearance)
        ]
        picker = self.fields["profile_ids"]
        assert isinstance(picker, forms.MultipleChoiceField)
        picker.choices = [(str(p.pk), f"{p.name} ({p.tlp})") for p in offered]
        directory = self.fields["organisations"]
        assert isinstance(directory, forms.MultipleChoiceField)
        directory.choices = [
            (slug, f"{name} ({country})" if country else name)
            for slug, name, country in Organisation.objects.order_by("name").values_list(
                "slug", "name", "country"
            )
        ]

    def body_for_api(self) -> dict[str, Any]:
        """The cleaned fields as the API's JSON body."""
        data = self.cleaned_data
        return {
            "type": data["type"],
            "title": data["title"],
            "summary": data["summary"],
            "body": data["body"],
            "action_requested": data["action_requested"],
            "profile_ids": [int(pk) for pk in data["profile_ids"]],
            "tlp": data["tlp"],
            "restricted_data_available": data["restricted_data_available"],
            "respond_by": data["respond_by"] or None,
            "audience": {
                "scope": data["scope"],
                "organisations": data["organisations"],
                "countries": _words(data["countries"], upper=True),
                "members": _words(data["members"]),
            },
        }

    def add_api_errors(self, errors: Any, prefix: str = "") -> None:
        """A serializer's or a service's errors, each at its field (`audience.countries`:
        the `countries` field)."""
        if isinstance(errors, dict):
            for key, value in errors.items():
                self.add_api_errors(value, f"{prefix}{key}.")
            return
        name = prefix.rstrip(".").removeprefix("audience.").split(".")[0]
        messages_ = errors if isinstance(errors, list) else [errors]
        text = " ".join(str(m) for m in messages_ if not isinstance(m, (dict, list)))
        for nested in (m for m in messages_ if isinstance(m, (dict, list))):
            self.add_api_errors(nested, prefix)
        if text:
            self.add_error(name if name in self.fields else None, text)


def _words(text: str, *, upper: bool = False) -> list[str]:
    words = [w for w in re.split(r"[\s,;]+", text) if w]
    return [w.upper() for w in words] if upper else words


def _initial(notice: Notice, reader: Member) -> dict[str, Any]:
    visible = DeviceProfile.objects.visible_to(reader).filter(notices=notice)
    return {
        "type": notice.notice_type,
        "title": notice.title,
        "summary": notice.summary,
        "body": notice.body,
        "action_requested": notice.action_requested,
        "profile_ids": [str(pk) for pk in visible.values_list("pk", flat=True)],
        "tlp": notice.tlp,
        "scope": notice.audience_scope,
        "organisations": list(notice.audience_organisations.values_list("slug", flat=True)),
        "countries": ", ".join(notice.countries.values_list("country", flat=True)),
        "members": ", ".join(notice.recipient_members.values_list("username", flat=True)),
        "respond_by": notice.respond_by.strftime("%Y-%m-%dT%H:%M") if notice.respond_by else "",
        "restricted_data_available": notice.restricted_data_available,
    }


def offered_profiles(request: HttpRequest, picked: list[str]) -> list[DeviceProfile]:
    """The picked profiles the member sees, then the API's search (`q`) over the others."""
    reader = member(request)
    visible = DeviceProfile.objects.visible_to(reader)
    ids = [int(pk) for pk in picked if pk.isascii() and pk.isdigit()]
    chosen = list(visible.filter(pk__in=ids).order_by("name"))
    query = request.POST.get("q", request.GET.get("q", "")).strip()
    found = DeviceProfileFilter({"q": query} if query else {}, queryset=visible, request=request)
    others = found.qs.exclude(pk__in=ids).order_by("-pk")[:OFFERED] if found.is_valid() else []
    return chosen + list(others)


def _editable(request: HttpRequest, pk: int) -> Notice:
    """A draft (returned ones included) the member sees and may edit. A notice the member
    does not see, or one that is no longer a draft, has no editor (404); a draft the member
    sees but may not edit answers 403, as the API's edit does."""
    reader = member(request)
    notice: Notice | None = Notice.objects.visible_to(reader).filter(pk=pk).first()
    if notice is None or notice.status != NoticeStatus.DRAFT:
        raise Http404
    if not policies.may_edit_draft(reader, notice):
        raise PermissionDenied
    return notice


@member_page
def notice_new(request: HttpRequest) -> HttpResponse:
    reader = member(request)
    if not policies.may_draft(reader):
        raise PermissionDenied
    initial = {"type": NoticeType.ALERT, "tlp": TLP.GREEN, "scope": AudienceScope.NETWORK}
    return _compose(request, None, initial)


@member_page
def notice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _editable(request, pk)
    return _compose(request, notice, _initial(notice, member(request)))


def _compose(request: HttpRequest, notice: Notice | None, initial: dict[str, Any]) -> HttpResponse:
    reader = member(request)
    posting = request.method == "POST"
    picked = request.POST.getlist("profile_ids") if posting else initial.get("profile_ids", [])
    form = NoticeForm(
        request.POST if posting else None,
        initial=initial,
        author=reader,
        offered=offered_profiles(request, picked),
    )
    # "Search" and "Preview" re-show the form as typed; only "Save" writes.
    saving = posting and ("save" in request.POST or "save_submit" in request.POST)
    if saving and form.is_valid():
        saved = _save(request, form, notice)
        if saved is not None:
            if "save_submit" in request.POST:
                return _submitted(request, saved)
            messages.success(request, _("Draft saved."))
            if _htmx(request) and notice is not None:
                response = _render(request, form_for(request, saved), saved)
                response["HX-Trigger"] = "dix-notice-saved"
                return response
            return redirect("portal:notice_edit", pk=saved.pk)
    # htmx swaps only successful answers: the refused form comes back as 200 to it.
    status = 400 if saving and not _htmx(request) else 200
    return _render(request, form, notice, status=status)


def form_for(request: HttpRequest, notice: Notice) -> NoticeForm:
    """A fresh form of a saved draft."""
    initial = _initial(notice, member(request))
    return NoticeForm(
        initial=initial,
        author=member(request),
        offered=offered_profiles(request, initial["profile_ids"]),
    )


def _save(request: HttpRequest, form: NoticeForm, notice: Notice | None) -> Notice | None:
    """Validate the body as the API does, then call the API's service."""
    reader = member(request)
    body = NoticeWriteSerializer(
        data=form.body_for_api(), partial=notice is not None, context={"request": request}
    )
    if not body.is_valid():
        form.add_api_errors(body.errors)
        return None
    try:
        if notice is None:
            return services.notice_create_draft(
                author=reader, data=notice_input(body.validated_data)
            )
        return services.notice_edit_draft(
            notice_id=notice.pk, author=reader, data=notice_input(body.validated_data)
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        form.add_api_errors(exc.errors or {"": [exc.detail]})
        return None
    except serializers.ValidationError as exc:
        form.add_api_errors(exc.detail)
        return None


def _render(
    request: HttpRequest, form: NoticeForm, notice: Notice | None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "notice": notice,
        "q": request.POST.get("q", request.GET.get("q", "")),
        "preview": form["body"].value() or "",
    }
    if notice is not None:
        context["audience"] = audience_box(request, notice)
    return render(request, "portal/notices/compose.html", context, status=status)


def audience_box(request: HttpRequest, notice: Notice) -> dict[str, Any]:
    """The audience preview: the API's `audience/` answer (and its audit record), every
    organisation at once."""
    reached = follow_up.audience_preview(
        notice=notice, reader=member(request), audited=request.method != "HEAD"
    )
    rows = [
        {
            "organisation": r.organisation,
            "reasons": reason_labels(r.reasons),
            "members": [m.username for m in r.members],
        }
        for r in reached
    ]
    return {"rows": rows, "totals": audience_totals(reached)}


def reason_labels(reasons: Iterable[str]) -> list[str]:
    labels = {str(key): value for key, value in REASONS.items()}
    return [str(labels.get(reason, reason)) for reason in reasons]


def _htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (django-htmx's `request.htmx`)."""
    return bool(getattr(request, "htmx", False))


def _submitted(request: HttpRequest, notice: Notice) -> HttpResponse:
    try:
        services.notice_submit(notice_id=notice.pk, author=member(request))
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.detail)
        return redirect("portal:notice_edit", pk=notice.pk)
    messages.success(request, _("Submitted for review."))
    if _htmx(request):  # the whole page changes: htmx loads it as a plain link would
        return HttpResponse(headers={"HX-Redirect": reverse("portal:notice", args=[notice.pk])})
    return redirect("portal:notice", pk=notice.pk)


@member_page
def profile_choices(request: HttpRequest) -> HttpResponse:
    """The profile checkboxes for a search (htmx), keeping those already picked."""
    reader = member(request)
    if not policies.may_draft(reader):
        raise PermissionDenied
    picked = request.GET.getlist("profile_ids")
    form = NoticeForm(
        initial={"profile_ids": picked},
        author=reader,
        offered=offered_profiles(request, picked),
    )
    return render(request, "portal/notices/profile_choices.html", {"form": form})


@member_page
def audience_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The saved draft's audience box (htmx refreshes it after a save)."""
    reader = member(request)
    notice: Notice | None = Notice.objects.visible_to(reader).filter(pk=pk).first()
    if notice is None or not policies.may_see_receipts(reader, notice):
        raise Http404
    return render(
        request,
        "portal/notices/audience_box.html",
        {"notice": notice, "audience": audience_box(request, notice)},
    )


@member_page
@require_POST
def body_preview(request: HttpRequest) -> HttpResponse:
    """The body as the notice page will render it (htmx, while typing)."""
    return render(
        request, "portal/notices/body_preview.html", {"preview": request.POST.get("body", "")}
    )
