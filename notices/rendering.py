"""A notice (or a profile event) as one recipient may receive it.

The same function renders the API's answer and a webhook's `data`: profiles the recipient may
not see are left out (the notice then says restricted data exists, if the issuer allows it),
and nothing is rendered that the recipient's clearance does not cover.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Count, Prefetch

from intel.models import DeviceProfile, Member, Organisation
from intel.models.tlp import TLP
from intel.revisions import SeenVersion, seen_versions
from intel.visibility import Reader, Viewer
from intel.visibility_bulk import visible_ids_per_viewer
from notices.models import UNPUBLISHED_STATES, Notice, NoticeReceipt, NoticeStatus

PROFILE_SUMMARY_FIELDS = (
    "id",
    "name",
    "aliases",
    "device_class",
    "manufacturer_country",
    "tlp",
    "version",
)


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


def profile_summary(profile: DeviceProfile, version: int) -> dict[str, Any]:
    """`version`: the one the recipient sees (`intel.revisions.seen_versions`)."""
    data = {name: getattr(profile, name) for name in PROFILE_SUMMARY_FIELDS}
    data["version"] = version
    data["tacs"] = [i.value for i in profile.identifiers.all() if i.kind in ("tac", "tac_range")]
    return data


def render_notice(notice: Notice, *, versions: Mapping[int, SeenVersion]) -> dict[str, Any]:
    """The notice with its `visible_profiles` (see `with_visible_profiles`), each with the
    version the recipient sees (`versions`, from `intel.revisions.seen_versions`)."""
    visible: list[DeviceProfile] = list(getattr(notice, "visible_profiles", []))
    hidden_profiles = getattr(notice, "profile_count", len(visible)) - len(visible)
    return {
        "id": notice.pk,
        "reference": notice.reference,
        "type": notice.notice_type,
        "status": notice.status,
        "version": notice.version,
        "title": notice.title,
        "summary": notice.summary,
        "body": notice.body,
        "action_requested": notice.action_requested,
        "tlp": notice.tlp,
        "issuer": {
            "id": notice.issuer_id,
            "slug": notice.issuer.slug,
            "name": notice.issuer.name,
            "country": notice.issuer.country,
        },
        "audience": {
            "scope": notice.audience_scope,
            "organisations": sorted(o.slug for o in notice.audience_organisations.all()),
            "countries": sorted(c.country for c in notice.countries.all()),
            # Named recipients matter at TLP:RED only, and only the named see a RED notice.
            "members": (
                sorted(m.username for m in notice.recipient_members.all())
                if notice.tlp == TLP.RED
                else []
            ),
        },
        "profile_ids": [p.pk for p in visible],
        "profiles": [profile_summary(p, versions[p.pk].number) for p in visible],
        "restricted_data_available": notice.restricted_data_available and hidden_profiles > 0,
        "review_due_at": notice.review_due_at.isoformat() if notice.review_due_at else None,
        "respond_by": notice.respond_by.isoformat() if notice.respond_by else None,
        "published_at": notice.published_at.isoformat() if notice.published_at else None,
        "changed_at": notice.changed_at.isoformat(),
        "superseded_by": notice.superseded_by.reference if notice.superseded_by else None,
        "withdrawal_reason": notice.withdrawal_reason,
        "review": review_of(notice),
    }


def review_of(notice: Notice) -> dict[str, Any] | None:
    """Where a draft stands in review; None once published or when never submitted (a
    reviewer's comment is the drafting organisation's business, not the audience's)."""
    if notice.submitted_at is None or notice.status not in UNPUBLISHED_STATES:
        return None
    submitted = notice.status == NoticeStatus.SUBMITTED
    return {
        "status": "submitted" if submitted else "returned",
        "submitted_at": notice.submitted_at.isoformat(),
        "submitted_by": notice.submitted_by.username if notice.submitted_by else None,
        "returned_at": None
        if submitted or not notice.returned_at
        else notice.returned_at.isoformat(),
        "returned_by": (
            notice.returned_by.username if notice.returned_by and not submitted else None
        ),
        "comment": "" if submitted else notice.review_comment,
    }


def render_for(notices: Sequence[Notice], member: Member) -> list[dict[str, Any]]:
    """The notices (loaded `with_visible_profiles`) as `member` receives them: each profile
    at the version the member sees, and the member's organisation's acknowledgement."""
    acks = dict(
        NoticeReceipt.objects.filter(
            notice__in=[n.pk for n in notices],
            organisation_id=member.organisation_id or 0,
            acknowledged_at__isnull=False,
        ).values_list("notice_id", "acknowledged_at")
    )
    versions = seen_versions(
        member, [p for notice in notices for p in getattr(notice, "visible_profiles", [])]
    )
    rendered = []
    for notice in notices:
        data = render_notice(notice, versions=versions)
        moment = acks.get(notice.pk)
        data["acknowledged_at"] = moment.isoformat() if moment else None
        rendered.append(data)
    return rendered
