"""What one member sees of a profile's history: each revision's diff as they may read it, the
revisions that show them nothing, and the version (number and time) they see as current.

A profile's `version` counts every change, but some changes are invisible to some readers: a
parent they may not see is never named to them (DESIGN.md §4), so setting a GREEN profile's
parent to a RED one, or moving it between two hidden parents, changes nothing they can read.
Such a revision still exists for those who see the parent; for everyone else it is not there:
it is left out of the revision list, it does not count as their current version (the
`version`, `updated_at` and ETag of the profile, its STIX `modified`, the version in a
notice's profile summary) and it sends them no `profile.updated` webhook.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from intel.models import DeviceProfile, ProfileRevision
from intel.visibility import Reader

# The snapshot keys whose change `visible_changes` may hide from a reader: the parent, by id.
_PARENT = "parent"
MASKED_KEYS = frozenset({_PARENT})


def visible_changes(changes: Mapping[str, Any], visible_parents: set[int]) -> dict[str, Any]:
    """A revision's diff as a reader sees it: a parent they may not see is not named (None),
    and a change between two parents they may not see is no change at all. A key this may
    hide belongs in `MASKED_KEYS`."""
    seen = {key: value for key, value in changes.items() if key != _PARENT}
    change = changes.get(_PARENT)
    if change is not None:
        masked = {key: value if value in visible_parents else None for key, value in change.items()}
        if any(masked.values()):
            seen[_PARENT] = masked
    return seen


def shows_a_change(action: str, changes: Mapping[str, Any], visible_parents: set[int]) -> bool:
    """Whether a revision is one for a reader who sees these parents: every create, retire
    and the like is; an update is when its diff as they see it is not empty. The one rule
    behind the revision list, the version, `updated_at` and ETag, STIX versions and
    `profile.updated` webhooks, so they never disagree."""
    return action != "updated" or bool(visible_changes(changes, visible_parents))


def may_show_nothing(action: str, changes: Mapping[str, Any]) -> bool:
    """Whether a revision is hidden from some reader: from one who sees no parent at all,
    since the fewer parents a reader sees, the less a diff shows them."""
    return not shows_a_change(action, changes, set())


def parents_named(changes: Iterable[Mapping[str, Any]]) -> set[int]:
    """Every parent id these diffs name."""
    named: set[int] = set()
    for diff in changes:
        change = diff.get(_PARENT) or {}
        named |= {v for v in (change.get("old"), change.get("new")) if v is not None}
    return named


@dataclass(frozen=True)
class ParentChange:
    """An update that may show a reader nothing (`may_show_nothing`): a change of the parent
    only. Who it is hidden from depends on the reader (`unseen_revisions`)."""

    profile_id: int
    number: int
    changes: Mapping[str, Any]


def may_show_nothing_q() -> Q:
    """The revisions that may show some reader nothing: only a diff that changes a masked key
    can be masked to nothing (`parent_change` tells for sure). Built at each call, so that
    it follows `MASKED_KEYS`."""
    return Q(action="updated", changes__has_any_keys=sorted(MASKED_KEYS))


def parent_change(profile_id: int, number: int, diff: Mapping[str, Any]) -> ParentChange | None:
    """The revision as a `ParentChange` if it may show some reader nothing."""
    return ParentChange(profile_id, number, diff) if may_show_nothing("updated", diff) else None


def parent_changes(profile_ids: Iterable[int]) -> list[ParentChange]:
    """The updates of these profiles that may show some reader nothing (the same for every
    reader)."""
    rows = ProfileRevision.objects.filter(
        may_show_nothing_q(), profile_id__in=list(profile_ids)
    ).values_list("profile_id", "number", "changes")
    return [c for row in rows if (c := parent_change(*row)) is not None]


def unseen_revisions(
    member: Reader, profile_ids: Iterable[int], *, candidates: Sequence[ParentChange] | None = None
) -> dict[int, set[int]]:
    """Per profile, the numbers of the revisions that show `member` nothing. `candidates`:
    `parent_changes(profile_ids)`, when the caller already has them."""
    found = parent_changes(profile_ids) if candidates is None else candidates
    if not found:
        return {}
    named = parents_named(c.changes for c in found)
    visible = set(
        DeviceProfile.objects.visible_to(member).filter(pk__in=named).values_list("id", flat=True)
    )
    unseen: dict[int, set[int]] = defaultdict(set)
    for change in found:
        if not shows_a_change("updated", change.changes, visible):
            unseen[change.profile_id].add(change.number)
    return unseen


@dataclass(frozen=True)
class SeenVersion:
    """The latest revision a reader sees a change in: its number and when it was written."""

    number: int
    at: datetime


def seen_versions(
    member: Reader,
    profiles: Sequence[DeviceProfile],
    *,
    candidates: Sequence[ParentChange] | None = None,
) -> dict[int, SeenVersion]:
    """Per profile, the version `member` sees as current (`SeenVersion`)."""
    unseen = unseen_revisions(member, [p.pk for p in profiles], candidates=candidates)
    result: dict[int, SeenVersion] = {}
    earlier: dict[tuple[int, int], int] = {}
    for profile in profiles:
        number = profile.version
        while number > 1 and number in unseen.get(profile.pk, ()):
            number -= 1
        if number == profile.version:
            result[profile.pk] = SeenVersion(profile.version, profile.updated_at)
        else:
            earlier[(profile.pk, number)] = profile.pk
            # Overwritten below by the revision's own time; kept if that row is missing.
            result[profile.pk] = SeenVersion(number, profile.created_at)
    if earlier:
        which = Q(pk__in=[])
        for pid, number in earlier:
            which |= Q(profile_id=pid, number=number)
        for pid, number, at in ProfileRevision.objects.filter(which).values_list(
            "profile_id", "number", "created_at"
        ):
            result[pid] = SeenVersion(number, at)
    return result


def seen_version(member: Reader, profile: DeviceProfile) -> SeenVersion:
    return seen_versions(member, [profile])[profile.pk]


class SeenVersions:
    """The versions one reader sees (`seen_versions`), loaded for many profiles at once
    (`load`, as a list does) or for one when it is first asked for (`of`)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._known: dict[int, SeenVersion] = {}

    def load(self, profiles: Iterable[DeviceProfile]) -> None:
        missing = [p for p in profiles if p.pk not in self._known]
        if missing:
            self._known.update(seen_versions(self.reader, missing))

    def of(self, profile: DeviceProfile) -> SeenVersion:
        self.load([profile])
        return self._known[profile.pk]
