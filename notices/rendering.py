"""A notice (or a profile event) as one recipient may receive it.

The API's answer, a webhook's `data` and the portal's page are the output of one shape,
`notices.shapes`: profiles the recipient may not see are left out (the notice then says
restricted data exists, if the issuer allows it), and nothing is rendered that the
recipient's clearance does not cover.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Count, Prefetch

from intel.models import DeviceProfile, Member, Organisation
from intel.models.tlp import TLP
from intel.revisions import SeenVersion, seen_versions
from intel.visibility import Reader, Viewer
from intel.visibility_bulk import visible_ids_per_viewer
from notices.models import Notice, NoticeReceipt
from notices.shapes import NoticeBodySerializer, NoticeSerializer


def webhook_viewer(organisation: Organisation, max_tlp: str) -> Viewer:
    """ "The organisation behind this endpoint": its clearance is the subscription's cap,
    never above AMBER+STRICT (TLP:RED never travels by webhook)."""
    return Viewer.of_organisation(organisation, TLP.cap(max_tlp, TLP.AMBER_STRICT))


def notice_profiles_seen_by(notice_id: int, viewers: list[Viewer]) -> list[set[int]]:
    """The ids of the notice's profiles each webhook viewer may see, likewise."""
    return visible_ids_per_viewer(
        viewers,
        lambda v: (
            DeviceProfile.objects.visible_to(v)
            .filter(notices=notice_id)
            .order_by()
            .values_list("pk", flat=True)
        ),
        key=("notice profiles", notice_id),
    )


def with_visible_profiles(notices: Any, viewer: Reader) -> Any:
    """Prefetch, per notice, only the profiles `viewer` may see, into `visible_profiles`."""
    return with_profiles(notices, DeviceProfile.objects.visible_to(viewer))


def with_profiles(notices: Any, profiles: Any) -> Any:
    """`with_visible_profiles` for a given profile queryset: what `render_notice` reads. The
    webhook renderer loads a notice once with all its profiles, then narrows them per
    recipient (`visible_profiles`) instead of loading the notice again for each one."""
    return (
        notices.select_related("issuer", "superseded_by", "submitted_by", "returned_by")
        .annotate(profile_count=Count("profiles", distinct=True))
        .prefetch_related(
            "countries",
            "audience_organisations",
            "recipient_members",
            Prefetch(
                "profiles",
                queryset=profiles.prefetch_related("identifiers"),
                to_attr="visible_profiles",
            ),
        )
    )


def render_notice(notice: Notice, *, versions: Mapping[int, SeenVersion]) -> dict[str, Any]:
    """The notice with its `visible_profiles` (see `with_visible_profiles`), each with the
    version the recipient sees (`versions`, from `intel.revisions.seen_versions`): a
    webhook's `data`, the body of `notices.shapes` without the acknowledgement."""
    return dict(NoticeBodySerializer(notice, context={"versions": versions}).data)


def render_for(notices: Sequence[Notice], member: Member) -> list[dict[str, Any]]:
    """The notices (loaded `with_visible_profiles`) as `member` receives them through the API
    and the portal: each profile at the version the member sees, and the member's
    organisation's acknowledgement (`notices.shapes.NoticeSerializer`)."""
    acknowledged = dict(
        NoticeReceipt.objects.filter(
            notice__in=[n.pk for n in notices],
            organisation_id=member.organisation_id or 0,
            acknowledged_at__isnull=False,
        ).values_list("notice_id", "acknowledged_at")
    )
    versions = seen_versions(
        member, [p for notice in notices for p in getattr(notice, "visible_profiles", [])]
    )
    context = {"versions": versions, "acknowledged": acknowledged}
    return [dict(NoticeSerializer(notice, context=context).data) for notice in notices]
