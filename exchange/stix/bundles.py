"""One profile or one notice as a STIX 2.1 bundle, as the requesting member may see it.

The bundle holds the latest version of the object and of what it names: its author's
identity, the markings in use, the extension definition, the profile's suppliers and their
relationships, its sightings and their places (for a profile), the visible profiles (for a
notice). It is built from the same `collect` as the TAXII feed, so both say the same thing.

A bundle is self-contained: every reference in it resolves within it. A profile's family is a
`derived-from` relationship to its parent (sent only to members who see both), so the bundle
also carries the parent's latest profile version (and its indicator, owner and markings),
but not the parent's own family, suppliers or sightings.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from core.errors import Conflict
from exchange.stix.entry import Entry
from exchange.stix.mapping.audience import Scope
from exchange.stix.mapping.export import collect
from exchange.stix.objects import profile_id, references
from intel.models import TLP, DeviceProfile, Member
from notices.models import PUBLIC_STATES, Notice, NoticeVersion

# Objects every bundle may carry, kept only when something in it points at them.
_SUPPORT_TYPES = ("marking-definition", "extension-definition")


def profile_bundle(member: Member, profile_pk: int) -> dict[str, Any] | None:
    """None when the member may not see the profile (the caller answers 404)."""
    if not DeviceProfile.objects.visible_to(member).filter(pk=profile_pk).exists():
        return None
    scope = Scope(profile_ids=frozenset({profile_pk}), notice_ids=frozenset(), directory=False)
    return bundle(
        collect(member, scope), root=profile_id(profile_pk), pool=_parents(member, {profile_pk})
    )


def notice_bundle(member: Member, notice_pk: int) -> dict[str, Any] | None:
    """None when the member may not see the notice; a draft has no STIX form yet (409)."""
    notice = Notice.objects.visible_to(member).filter(pk=notice_pk).first()
    if notice is None:
        return None
    if notice.status not in PUBLIC_STATES:
        raise Conflict("A draft has no STIX form: it becomes a report once published.")
    latest = (
        NoticeVersion.objects.filter(notice=notice, tlp__in=TLP.at_most(member.clearance))
        .order_by("-number")
        .first()
    )
    named = set(latest.profiles.values_list("id", flat=True)) if latest else set()
    scope = Scope(
        profile_ids=frozenset(named),
        notice_ids=frozenset({notice_pk}),
        sightings=False,
        directory=False,
    )
    entries = collect(member, scope)
    # The report's id depends on the member's view of the notice (docs/stix.md).
    root = next((e.stix_id for e in entries if e.stix_type == "report"), "")
    return bundle(entries, root=root, pool=_parents(member, named))


def _parents(member: Member, profile_pks: Iterable[int]) -> list[Entry]:
    """What the member may see of these profiles' parents: where a bundle finds the target
    of a `derived-from` relationship."""
    parents = frozenset(
        DeviceProfile.objects.visible_to(member)
        .filter(variants__pk__in=list(profile_pks))
        .values_list("id", flat=True)
    )
    if not parents:
        return []
    scope = Scope(profile_ids=parents, notice_ids=frozenset(), sightings=False, directory=False)
    return collect(member, scope)


def _latest(entries: Iterable[Entry]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    versions: dict[str, str] = {}
    for entry in entries:
        if entry.stix_id not in versions or entry.version > versions[entry.stix_id]:
            versions[entry.stix_id] = entry.version
            latest[entry.stix_id] = entry.obj
    return latest


def bundle(entries: Iterable[Entry], *, root: str, pool: Iterable[Entry] = ()) -> dict[str, Any]:
    """The latest version of each object; revoked ones left out unless it is the root (a
    withdrawn notice is exported as its revoked report); supporting objects only if used;
    from `pool`, only the objects something in the bundle points at (and what they do)."""
    own = _latest(entries)
    latest = own | {k: v for k, v in _latest(pool).items() if k not in own}
    content = [
        obj
        for obj in own.values()
        if obj["type"] not in _SUPPORT_TYPES and (obj["id"] == root or not obj.get("revoked"))
    ]
    used: set[str] = set()
    pending = list(content)
    while pending:
        obj = pending.pop()
        for ref in references(obj) | set(obj.get("extensions", {})):
            if ref not in used and ref in latest:
                used.add(ref)
                pending.append(latest[ref])
    kept = {obj["id"] for obj in content}
    objects = [obj for obj in latest.values() if obj["id"] in kept or obj["id"] in used]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
