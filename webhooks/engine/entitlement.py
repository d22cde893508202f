"""Entitlement: whether an endpoint's organisation, within its label cap, may still see a
notice, and which of its profiles, checked for a whole batch at once."""

from collections import defaultdict
from collections.abc import Sequence

from core.events import EventType
from intel.models import Organisation
from intel.visibility import Viewer
from notices.audience import notice_seen_by
from notices.rendering import notice_profiles_seen_by, webhook_viewer
from webhooks.engine.load import AnyDelivery, AnyEndpoint


def notice_entitlements(notice_id: int, viewers: list[Viewer]) -> list[set[int] | None]:
    """Per viewer: None when it may not see the notice, else the ids of the notice's profiles
    it may see."""
    sees = notice_seen_by(notice_id, viewers)
    entitled = [v for v, seen in zip(viewers, sees, strict=True) if seen]
    profiles = iter(notice_profiles_seen_by(notice_id, entitled))
    return [next(profiles) if seen else None for seen in sees]


class NoticeEntitlement:
    """Per (notice, organisation, cap): None when it may not see the notice, else the ids of
    the notice's profiles it may see; worked out once per batch."""

    def __init__(self) -> None:
        self._entitled: dict[tuple[int, int, str], set[int] | None] = {}

    def preload(self, deliveries: Sequence[AnyDelivery]) -> None:
        """Check every (notice, organisation, cap) of a batch in two queries per notice,
        compiled once per shape (`notice_seen_by`, `notice_profiles_seen_by`), instead of
        each recipient's own `visible_to` queries."""
        wanted: dict[int, set[tuple[int, str]]] = defaultdict(set)
        organisations: dict[int, Organisation] = {}
        for d in deliveries:
            sub = d.subscription
            if d.notice_id is None or d.event_type == EventType.TEST or not sub.enabled:
                continue
            if d.access_request_id or d.seizure_report_id or d.profile_id:
                continue
            wanted[d.notice_id].add((sub.organisation_id, sub.label_cap))
            organisations[sub.organisation_id] = sub.organisation
        for notice_id, keys in wanted.items():
            todo = sorted(k for k in keys if (notice_id, *k) not in self._entitled)
            viewers = [webhook_viewer(organisations[org], cap) for org, cap in todo]
            for key, visible in zip(todo, notice_entitlements(notice_id, viewers), strict=True):
                self._entitled[(notice_id, *key)] = visible

    def of(self, notice_id: int, sub: AnyEndpoint) -> set[int] | None:
        """The profiles of the notice this endpoint may see, or None if it may not see it."""
        key = (notice_id, sub.organisation_id, sub.label_cap)
        if key not in self._entitled:
            viewer = webhook_viewer(sub.organisation, sub.label_cap)
            self._entitled[key] = notice_entitlements(notice_id, [viewer])[0]
        return self._entitled[key]
