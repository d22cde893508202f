"""The profile editor (`/profiles/new/`, `/profiles/<pk>/edit/`): the form's values become the
API's JSON body, checked by the API's `DeviceProfileWriteSerializer` and written by the same
services as `POST`/`PATCH /api/v1/profiles/`; an edit carries the version it was opened at,
which the service checks as it checks `If-Match`."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail

from core.errors import ApplicationError, NotFound, PreconditionFailed
from intel import audit, policies, services
from intel.models import DeviceProfile, ProfileRevision
from intel.revisions import seen_version
from intel.shapes.profiles import DeviceProfileWriteSerializer, profile_input
from portal.guard import member, member_page, posted
from portal.profile_forms import (
    SECTION_TITLES,
    SECTIONS,
    ProfileForm,
    formset_class,
    initial_of,
    sections,
)


class _Request:
    """What the write serializer reads of a request: who writes (for the parents they see)."""

    def __init__(self, request: HttpRequest) -> None:
        self.user = request.user


def _formsets(data: Any, initial: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        section: formset_class(section)(data, prefix=section, initial=initial.get(section))
        for section in SECTIONS
    }


def _children_initial(profile: DeviceProfile) -> dict[str, list[dict[str, Any]]]:
    initial: dict[str, list[dict[str, Any]]] = {
        "identifiers": [
            {"kind": i.kind, "note": i.note}
            | (
                {"range_start": i.tac_start, "range_end": i.tac_end}
                if i.kind == "tac_range"
                else {"value": i.value}
            )
            for i in profile.identifiers.all()
        ],
        "detection_signatures": list(
            dict(row)
            for row in profile.detection_signatures.values(
                "method", "expected_outcome", "evidence", "reliability_note"
            )
        ),
        "concealment_methods": list(
            dict(row)
            for row in profile.concealment_methods.values("stage", "vector", "description")
        ),
        "suppliers": [],
        "sales_channels": [],
    }
    for number, supplier in enumerate(profile.suppliers.prefetch_related("sales_channels"), 1):
        initial["suppliers"].append(
            {k: getattr(supplier, k) for k in ("name", "role", "country", "locality", "status")}
            | {"notes": supplier.notes}
        )
        for channel in supplier.sales_channels.all():
            initial["sales_channels"].append(
                {"supplier": number}
                | {k: getattr(channel, k) for k in ("kind", "platform", "address", "status")}
                | {"notes": channel.notes}
            )
    return initial


def _rows(formset: Any) -> list[tuple[int, forms.Form]]:
    """The filled, kept rows of a formset with their index in it."""
    kept = []
    for index, form in enumerate(formset.forms):
        values = {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
        if any(v not in ("", None) for v in values.values()) and not form.cleaned_data.get(
            "DELETE"
        ):
            kept.append((index, form))
    return kept


def _body(form: ProfileForm, formsets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API body, and where each of its child items came from (`identifiers.0` → form)."""
    body = form.body()
    origin: dict[str, forms.Form] = {}
    for section in ("identifiers", "detection_signatures", "concealment_methods"):
        body[section] = []
        for _index, row in _rows(formsets[section]):
            origin[f"{section}.{len(body[section])}"] = row
            body[section].append(row.item())  # type: ignore[attr-defined]
    suppliers: dict[int, int] = {}  # supplier row number (1-based) → position in the body
    body["suppliers"] = []
    for index, row in _rows(formsets["suppliers"]):
        suppliers[index + 1] = len(body["suppliers"])
        origin[f"suppliers.{len(body['suppliers'])}"] = row
        body["suppliers"].append(row.item())  # type: ignore[attr-defined]
    for _index, row in _rows(formsets["sales_channels"]):
        position = suppliers.get(row.cleaned_data.get("supplier") or 0)
        if position is None:
            row.add_error("supplier", _("Give the number of a supplier above."))
            continue
        channels = body["suppliers"][position]["sales_channels"]
        origin[f"suppliers.{position}.sales_channels.{len(channels)}"] = row
        channels.append(row.item())  # type: ignore[attr-defined]
    return body, origin


def _flat(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as dotted paths (`identifiers.0.value`), like the API's problem body."""
    found: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found |= _flat(value, path)
    elif isinstance(errors, list) and errors and not isinstance(errors[0], (str, ErrorDetail)):
        for index, value in enumerate(errors):
            found |= _flat(value, f"{prefix}.{index}" if prefix else str(index))
    elif errors:
        found[prefix] = [str(e) for e in (errors if isinstance(errors, list) else [errors])]
    return found


def _show_errors(
    errors: dict[str, list[str]], form: ProfileForm, origin: dict[str, forms.Form]
) -> None:
    """Each error at the field it names: a profile field, a child row's field, or the form."""
    for path, messages_ in errors.items():
        text = " ".join(messages_)
        head, _dot, field = path.rpartition(".")
        target: forms.Form | None = origin.get(head) if head else form
        if target is None:
            # A whole list refused (`identifiers`), or one item of a list field (`aliases.0`).
            target, field = form, path.split(".")[0]
        if field in target.fields:
            target.add_error(field, text)
        else:
            target.add_error(None, text)


@member_page
def profile_new(request: HttpRequest) -> HttpResponse:
    author = member(request)
    if not policies.may_file_profiles(author):
        raise PermissionDenied
    form = ProfileForm(*posted(request), author=author, initial={"tlp": "TLP:AMBER"})
    formsets = _formsets(posted(request)[0], {})
    if request.method == "POST" and _valid(form, formsets):
        profile = _save(request, form, formsets, None, None)
        if profile is not None:
            messages.success(request, _("Profile filed."))
            return redirect("portal:profile", pk=profile.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "sections": sections(formsets), "profile": None}
    return render(request, "portal/profiles/editor.html", context, status=status)


@member_page
def profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    author = member(request)
    profile = DeviceProfile.objects.visible_to(author).filter(pk=pk).first()
    if profile is None:
        raise Http404
    if not policies.may_change_profile(author, profile):
        raise PermissionDenied
    version = seen_version(author, profile).number
    if request.method == "GET":  # the form shows the whole profile: a read, as the API's
        audit.record_read(
            actor=author,
            object_type="profile",
            object_id=profile.pk,
            object_tlp=profile.tlp,
            request=request,
            detail={"version": version},
        )
    if request.method == "POST":
        opened = request.POST.get("version", "")
        version = int(opened) if opened.isascii() and opened.isdigit() else version
    initial = initial_of(profile, author)
    form = ProfileForm(*posted(request), author=author, editing=profile, initial=initial)
    formsets = _formsets(posted(request)[0], _children_initial(profile))
    conflict: dict[str, Any] | None = None
    if request.method == "POST" and _valid(form, formsets):
        try:
            saved = _save(request, form, formsets, profile.pk, version)
        except PreconditionFailed:
            conflict = _latest_change(request, profile, version)
        else:
            if saved is not None:
                messages.success(request, _("Profile saved."))
                return redirect("portal:profile", pk=profile.pk)
    status = 200 if request.method == "GET" else (409 if conflict else 400)
    context = {
        "form": form,
        "sections": sections(formsets),
        "profile": profile,
        "version": version,
        "conflict": conflict,
    }
    return render(request, "portal/profiles/editor.html", context, status=status)


def _valid(form: ProfileForm, formsets: dict[str, Any]) -> bool:
    return form.is_valid() & all(f.is_valid() for f in formsets.values())


def _save(
    request: HttpRequest,
    form: ProfileForm,
    formsets: dict[str, Any],
    pk: int | None,
    version: int | None,
) -> DeviceProfile | None:
    """Check the body as the API does and write it, or put the errors on the form (None)."""
    author = member(request)
    body, origin = _body(form, formsets)
    if any(row.errors for formset in formsets.values() for row in formset.forms):
        return None
    writer = DeviceProfileWriteSerializer(
        data=body, partial=pk is not None, context={"request": _Request(request)}
    )
    if not writer.is_valid():
        _show_errors(_flat(writer.errors), form, origin)
        return None
    try:
        if pk is None:
            return services.profile_create(author=author, data=profile_input(writer.validated_data))
        return services.profile_update(
            profile_id=pk,
            author=author,
            data=profile_input(writer.validated_data),
            expected_version=version,
        )
    except PreconditionFailed:
        raise
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        _show_errors(exc.errors or {"": [exc.detail]}, form, origin)
        return None


def _latest_change(request: HttpRequest, profile: DeviceProfile, opened: int) -> dict[str, Any]:
    """Who changed the profile since it was opened, and when: its latest revision."""
    latest = (
        ProfileRevision.objects.visible_to(member(request))
        .filter(profile_id=profile.pk)
        .select_related("author")
        .order_by("-number")
        .first()
    )
    return {
        "author": latest.author.username if latest and latest.author else "—",
        "at": latest.created_at if latest else None,
        "number": latest.number if latest else opened,
        "opened": opened,
    }


@member_page
def editor_row(request: HttpRequest, section: str) -> HttpResponse:
    """One more empty row of a child section (htmx "Add another"), numbered after the rows
    the form has, with the formset's new row count."""
    if section not in SECTIONS:
        raise Http404
    total = request.GET.get(f"{section}-TOTAL_FORMS", "")
    index = int(total) if total.isascii() and total.isdigit() and int(total) < 200 else 0
    formset = formset_class(section)(prefix=section)
    build = formset._construct_form  # type: ignore[attr-defined]
    row = build(index, empty_permitted=True, use_required_attribute=False)
    context = {
        "row": row,
        "section": section,
        "index": index,
        "total": index + 1,
        "title": SECTION_TITLES[section][1],
    }
    return render(request, "portal/profiles/editor_row.html", context)
