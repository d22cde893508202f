"""Attaching a photo or document to a profile from its page: the API's upload serializer and
service (`POST /api/v1/profiles/{id}/attachments/`), so the type is sniffed and images are
stored without their metadata exactly as there."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.errors import ApplicationError, NotFound
from intel import services
from intel.models import TLP, DeviceProfile, Member
from intel.shapes.profile_children import AttachmentUploadSerializer
from portal.guard import member_page
from portal.profile_forms import choices


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Photo (JPEG, PNG, WebP) or PDF"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("What it is"), required=False)
    title = forms.CharField(
        label=gettext_lazy("Title (the photo's text alternative)"), required=False
    )
    tlp = forms.ChoiceField(label=gettext_lazy("Label"), required=False)

    def __init__(
        self, *args: object, author: Member, profile: DeviceProfile, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kind"].choices = choices("attachment_kind", blank=False)  # type: ignore[attr-defined]
        # From the profile's label up to the author's clearance: nothing else is accepted.
        allowed = [v for v in TLP.at_most(author.clearance) if not TLP.above(profile.tlp, v)]
        self.fields["tlp"].choices = [(v, v) for v in allowed]  # type: ignore[attr-defined]
        self.initial.setdefault("tlp", profile.tlp)


def upload_form(author: Member, profile: DeviceProfile) -> AttachmentForm:
    return AttachmentForm(author=author, profile=profile)


@member_page
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    author = request.user
    assert isinstance(author, Member)
    profile = DeviceProfile.objects.visible_to(author).filter(pk=pk).first()
    if profile is None:
        raise Http404
    form = AttachmentForm(request.POST, request.FILES, author=author, profile=profile)
    if form.is_valid():
        body = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        checked = AttachmentUploadSerializer(data=body)
        if not checked.is_valid():
            for field, errors in checked.errors.items():
                form.add_error(field if field in form.fields else None, " ".join(map(str, errors)))
        else:
            data = checked.validated_data
            try:
                services.attachment_add(
                    profile_id=pk,
                    author=author,
                    kind=data["kind"],
                    title=data["title"],
                    tlp=data.get("tlp"),
                    upload=data["file"],
                    request_summary=data["request_summary"],
                )
            except NotFound:
                raise Http404 from None
            except ApplicationError as exc:
                for field, errors in (exc.errors or {"": [exc.detail]}).items():
                    form.add_error(field if field in form.fields else None, " ".join(errors))
            else:
                messages.success(request, _("Attached."))
                if request.htmx:  # type: ignore[attr-defined]
                    return HttpResponseClientRedirect(f"/profiles/{pk}/")
                return redirect("portal:profile", pk=pk)
    context = {"upload": form, "profile_id": pk}
    if request.htmx:  # type: ignore[attr-defined]
        # htmx swaps only successful answers: the form comes back with its errors.
        return render(request, "portal/profiles/upload.html", context)
    return render(request, "portal/profiles/upload_page.html", context, status=400)
