"""A profile's revision history and a side-by-side diff of two revisions, read through the
API's selector (`ProfileRevision.objects.visible_to`) and shapes (the snapshots as
`GET /api/v1/profiles/{id}/revisions/{n}/` serves them); reading a revision is audited as the
API does."""

import difflib
import json
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from intel import audit
from intel.models import DeviceProfile, Member, ProfileRevision
from intel.revisions import parents_named, shows_a_change
from intel.shapes.profiles import ProfileRevisionDetailSerializer, ProfileRevisionSerializer
from portal.guard import member, member_page
from portal.profile_forms import SECTION_TITLES, ProfileForm

# Snapshot keys the editor has no field for.
OTHER_LABELS = {
    "parent": gettext_lazy("Family (parent profile)"),
    "retired": gettext_lazy("Retired"),
    "retired_reason": gettext_lazy("Why it was retired"),
    "recipient_members": gettext_lazy("Named recipients (TLP:RED)"),
}
# Free-text fields compared word by word.
LONG_TEXT = frozenset({"notes", "request_summary", "retired_reason"})


def _revisions(reader: Member, pk: int) -> QuerySet[ProfileRevision]:
    if not DeviceProfile.objects.visible_to(reader).filter(pk=pk).exists():
        raise Http404
    return ProfileRevision.objects.visible_to(reader).filter(profile_id=pk)


def _visible_parents(reader: Member, revisions: Iterable[ProfileRevision]) -> set[int]:
    rows = list(revisions)
    named = {r.snapshot.get("parent") for r in rows} - {None}
    named |= parents_named(r.changes for r in rows)
    visible = DeviceProfile.objects.visible_to(reader).filter(pk__in=named)
    return set(visible.values_list("id", flat=True))


@member_page
def revision_list(request: HttpRequest, pk: int) -> HttpResponse:
    reader = member(request)
    rows = list(_revisions(reader, pk).select_related("author").order_by("number"))
    visible = _visible_parents(reader, rows)
    shown = [r for r in rows if shows_a_change(r.action, r.changes, visible)]
    data = ProfileRevisionSerializer(shown, many=True, context={"visible_parents": visible}).data
    profile = DeviceProfile.objects.visible_to(reader).get(pk=pk)
    listed = [_dated(row) | {"fields": [_label(key) for key in row["changes"]]} for row in data]
    context = {"profile": profile, "revisions": listed}
    return render(request, "portal/profiles/revisions.html", context)


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


@member_page
def revision_diff(request: HttpRequest, pk: int) -> HttpResponse:
    reader = member(request)
    revisions = _revisions(reader, pk).select_related("author")
    numbers = [_number(request.GET.get(name)) for name in ("from", "to")]
    found = {r.number: r for r in revisions.filter(number__in=[n for n in numbers if n])}
    if any(n not in found for n in numbers):
        raise Http404
    pair = [found[n] for n in numbers if n is not None]
    visible = _visible_parents(reader, pair)
    if not all(shows_a_change(r.action, r.changes, visible) for r in pair):
        raise Http404
    older, newer = (
        ProfileRevisionDetailSerializer(r, context={"visible_parents": visible}).data for r in pair
    )
    for revision in pair:
        audit.record_read(
            actor=reader,
            action="profile.revision_read",
            object_type="profile",
            object_id=revision.profile_id,
            object_tlp=revision.tlp,
            request=request,
            detail={"revision": revision.number},
        )
    keys = list(dict.fromkeys([*older["snapshot"], *newer["snapshot"]]))
    rows = [_row(key, older["snapshot"].get(key), newer["snapshot"].get(key)) for key in keys]
    context = {
        "profile": DeviceProfile.objects.visible_to(reader).get(pk=pk),
        "older": _dated(older),
        "newer": _dated(newer),
        "rows": rows,
        "changed": sum(1 for row in rows if row["changed"]),
    }
    return render(request, "portal/profiles/diff.html", context)


def _dated(revision: Any) -> dict[str, Any]:
    """A serialized revision with its time as a date-time, shown in the reader's language."""
    return dict(revision) | {"created_at": parse_datetime(revision["created_at"])}


def _text(value: Any) -> str:
    """A snapshot value as lines a reader can compare."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value)
    if isinstance(value, dict):
        return " · ".join(f"{k}: {_text(v)}" for k, v in value.items() if v not in ("", None, []))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if not isinstance(value, (int, float)) else json.dumps(value)


def _row(key: str, old: Any, new: Any) -> dict[str, Any]:
    before, after = _text(old), _text(new)
    changed = old != new
    if changed and (key in LONG_TEXT or "\n" in before + after):
        before_html, after_html = _marked(before, after)
    else:
        before_html, after_html = _plain(before), _plain(after)
    return {"field": _label(key), "old": before_html, "new": after_html, "changed": changed}


def _label(key: str) -> Any:
    """A snapshot key by the name the editor gives its field (`weight_g` → "Weight (g)")."""
    if key in ProfileForm.base_fields:
        return ProfileForm.base_fields[key].label
    if key in SECTION_TITLES:
        return SECTION_TITLES[key][0]
    return OTHER_LABELS.get(key, key)


def _plain(text: str) -> SafeString:
    return format_html_join(SafeString("<br>"), "{}", ((line,) for line in text.splitlines()))


def _marked(before: str, after: str) -> tuple[SafeString, SafeString]:
    """Two texts with what was removed marked `<del>` and what was added `<ins>` (difflib)."""
    old_words, new_words = before.split(" "), after.split(" ")
    old_parts: list[SafeString] = []
    new_parts: list[SafeString] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_text, new_text = " ".join(old_words[i1:i2]), " ".join(new_words[j1:j2])
        if tag == "equal":
            old_parts.append(_plain(old_text))
            new_parts.append(_plain(new_text))
            continue
        if old_text:
            old_parts.append(format_html("<del>{}</del>", _plain(old_text)))
        if new_text:
            new_parts.append(format_html("<ins>{}</ins>", _plain(new_text)))
    space = SafeString(" ")
    return (
        format_html_join(space, "{}", ((p,) for p in old_parts)),
        format_html_join(space, "{}", ((p,) for p in new_parts)),
    )
