"""Notice payloads: a notice event's `data` as of the version and status it announces, shown
to each endpoint as far as it is entitled today, the notice's content loaded once per process
while nothing has changed."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.events import EventType
from intel import changes
from intel.models import TLP, DeviceProfile
from intel.revisions import ParentChange, parent_changes, seen_versions
from intel.visibility import Viewer
from notices.models import Notice, NoticeStatus, NoticeVersion
from notices.rendering import render_notice, with_profiles
from webhooks.engine.entitlement import NoticeEntitlement
from webhooks.engine.load import NOTICE_EVENTS, AnyDelivery, AnyEndpoint

log = logging.getLogger("dix.delivery")


# The notices a process has loaded, with all their profiles, under the shared-data counter
# they were loaded at (`intel.changes`: every write to a notice or a profile moves it, and a
# lost cache restarts it above any earlier value), so a fan-out's batches load a notice with
# its profiles, identifiers and attachments once. Who may see it and which of its profiles is
# still checked for every batch (`NoticeEntitlement.preload`).
NoticeContent = tuple[Notice, list[DeviceProfile]] | None
_contents: dict[int, tuple[int, NoticeContent]] = {}
_CONTENTS_AT_MOST = 64


def notice_content(notice_id: int) -> NoticeContent:
    """The notice with all its profiles, from this process's cache while nothing changed."""
    try:
        version: int | None = changes.data_version()
    except Exception:
        # The cache is out of reach: load the notice as it is and keep nothing (a webhook
        # must not fail because the shared cache does).
        log.warning("shared-data counter unreadable; notice loaded uncached", exc_info=True)
        version = None
    kept = _contents.get(notice_id)
    if version is not None and kept is not None and kept[0] == version:
        return kept[1]
    notice = with_profiles(Notice.objects.filter(pk=notice_id), DeviceProfile.objects.all()).first()
    content = None if notice is None else (notice, list(notice.visible_profiles))
    if version is not None:
        if len(_contents) >= _CONTENTS_AT_MOST:
            _contents.clear()
        _contents[notice_id] = (version, content)
    return content


@dataclass(frozen=True)
class _Version:
    """A published version's content (`NoticeVersion`), which never changes."""

    number: int
    title: str
    summary: str
    body: str
    action_requested: str
    tlp: str
    published_at: datetime
    profile_ids: frozenset[int]


_versions: dict[tuple[int, int], _Version | None] = {}


def _notice_version(notice_id: int, number: int) -> _Version | None:
    """A published version of the notice, from this process's cache (it never changes)."""
    key = (notice_id, number)
    if key not in _versions:
        row = NoticeVersion.objects.filter(notice_id=notice_id, number=number).first()
        if len(_versions) >= 4 * _CONTENTS_AT_MOST:
            _versions.clear()
        _versions[key] = (
            None
            if row is None
            else _Version(
                number=row.number,
                title=row.title,
                summary=row.summary,
                body=row.body,
                action_requested=row.action_requested,
                tlp=row.tlp,
                published_at=row.published_at,
                profile_ids=frozenset(row.profiles.values_list("pk", flat=True)),
            )
        )
    return _versions[key]


# The notice's status each event announces, for a delivery that does not record it
# (`notice_status` empty).
_ANNOUNCED = {
    EventType.NOTICE_PUBLISHED: NoticeStatus.PUBLISHED,
    EventType.NOTICE_WITHDRAWN: NoticeStatus.WITHDRAWN,
}


def render_as_announced(
    delivery: AnyDelivery,
    notice: Notice,
    profiles: list[DeviceProfile],
    visible: set[int],
    cap: str,
    *,
    viewer: Viewer,
    candidates: Sequence[ParentChange],
) -> dict[str, Any] | None:
    """A notice event's `data`: the notice as of the version and status the event
    announces, not as it stands when the request is made (a late `notice.published` must
    not carry a withdrawal). Entitlement is today's: the notice must still be visible to
    the endpoint, the version's label within its cap, and only the profiles it may see now
    are shown."""
    version = _notice_version(notice.pk, delivery.notice_version or 0)
    if version is None:
        shown = [p for p in profiles if p.pk in visible]
        notice.visible_profiles = shown  # type: ignore[attr-defined]
        return render_notice(notice, versions=seen_versions(viewer, shown, candidates=candidates))
    if TLP.above(version.tlp, cap):
        return None
    status = delivery.notice_status or _ANNOUNCED.get(
        delivery.event_type,  # type: ignore[call-overload]
        NoticeStatus.PUBLISHED if version.number < notice.version else notice.status,
    )
    shown = [p for p in profiles if p.pk in visible and p.pk in version.profile_ids]
    notice.visible_profiles = shown  # type: ignore[attr-defined]
    data = render_notice(notice, versions=seen_versions(viewer, shown, candidates=candidates))
    data.update(
        status=status,
        version=version.number,
        title=version.title,
        summary=version.summary,
        body=version.body,
        action_requested=version.action_requested,
        tlp=version.tlp,
        restricted_data_available=(
            notice.restricted_data_available and len(shown) < len(version.profile_ids)
        ),
        changed_at=(
            version.published_at if status == NoticeStatus.PUBLISHED else notice.changed_at
        ).isoformat(),
        superseded_by=data["superseded_by"] if status == NoticeStatus.SUPERSEDED else None,
        withdrawal_reason=notice.withdrawal_reason if status == NoticeStatus.WITHDRAWN else "",
    )
    return data


class NoticePayloads:
    """The notice payloads of one batch: each notice and its profiles' parent-only revisions
    are loaded once, and narrowed per recipient to the profiles it is entitled to."""

    def __init__(self, entitlement: NoticeEntitlement) -> None:
        self.entitlement = entitlement
        self._notices: dict[int, NoticeContent] = {}
        # Per notice, its profiles' parent-only revisions: the same for every recipient,
        # each of whom may see them or not (the versions in its profile summaries).
        self._parent_changes: dict[int, list[ParentChange]] = {}

    def data(
        self, delivery: AnyDelivery, sub: AnyEndpoint, viewer: Viewer
    ) -> dict[str, Any] | None:
        """The notice event's `data` for this endpoint, or None when it may no longer see
        the notice."""
        notice_id = delivery.notice_id
        if notice_id is None:
            return None
        visible = self.entitlement.of(notice_id, sub)
        loaded = self._notice(notice_id) if visible is not None else None
        if loaded is None or visible is None:
            return None
        notice, profiles = loaded
        if notice_id not in self._parent_changes:
            self._parent_changes[notice_id] = parent_changes(p.pk for p in profiles)
        candidates = self._parent_changes[notice_id]
        if delivery.event_type not in NOTICE_EVENTS or delivery.notice_version is None:
            shown = [p for p in profiles if p.pk in visible]
            notice.visible_profiles = shown  # type: ignore[attr-defined]
            return render_notice(
                notice, versions=seen_versions(viewer, shown, candidates=candidates)
            )
        return render_as_announced(
            delivery, notice, profiles, visible, sub.label_cap, viewer=viewer, candidates=candidates
        )

    def _notice(self, notice_id: int) -> NoticeContent:
        if notice_id not in self._notices:
            self._notices[notice_id] = notice_content(notice_id)
        return self._notices[notice_id]
