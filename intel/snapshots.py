"""A profile as plain JSON (what a revision stores and diffs), and the revision a write records."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from intel import changes as changes_version
from intel.models import TLP, DeviceProfile, Member, ProfileRevision

PROFILE_FIELDS = (
    "name",
    "aliases",
    "device_class",
    "manufacturer_country",
    "length_mm",
    "width_mm",
    "depth_mm",
    "weight_g",
    "housing_material",
    "metal_content",
    "network_technologies",
    "gsm_bands",
    "bluetooth",
    "sim_slots",
    "battery_mah",
    "talk_time_min",
    "phonebook_capacity",
    "voice_changer",
    "price_amount",
    "price_currency",
    "legal_status",
    "notes",
    "request_summary",
    "tlp",
)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def profile_snapshot(profile: DeviceProfile) -> dict[str, Any]:
    """The profile as plain JSON: what a revision stores and diffs. Children are listed
    without their database ids, so replacing a list with an equal one changes nothing."""
    snap: dict[str, Any] = {name: _json_value(getattr(profile, name)) for name in PROFILE_FIELDS}
    snap["parent"] = profile.parent_id
    snap["retired"] = profile.retired_at is not None
    snap["retired_reason"] = profile.retired_reason
    snap["recipient_organisations"] = sorted(
        profile.recipient_organisations.values_list("slug", flat=True)
    )
    snap["recipient_members"] = sorted(profile.recipient_members.values_list("username", flat=True))
    snap["identifiers"] = [
        {"kind": i.kind, "value": i.value, "note": i.note} for i in profile.identifiers.all()
    ]
    snap["detection_signatures"] = [
        {
            "method": d.method,
            "expected_outcome": d.expected_outcome,
            "evidence": d.evidence,
            "reliability_note": d.reliability_note,
        }
        for d in profile.detection_signatures.all()
    ]
    snap["concealment_methods"] = [
        {"stage": c.stage, "vector": c.vector, "description": c.description}
        for c in profile.concealment_methods.all()
    ]
    snap["suppliers"] = [
        {
            "name": s.name,
            "role": s.role,
            "country": s.country,
            "locality": s.locality,
            "status": s.status,
            "notes": s.notes,
            "sales_channels": [
                {
                    "kind": c.kind,
                    "platform": c.platform,
                    "address": c.address,
                    "status": c.status,
                    "notes": c.notes,
                }
                for c in s.sales_channels.all()
            ],
        }
        for s in profile.suppliers.prefetch_related("sales_channels")
    ]
    return snap


def record_revision(
    profile: DeviceProfile, *, author: Member, action: str, previous: Mapping[str, Any]
) -> ProfileRevision:
    changes_version.bump_on_commit()  # inboxes render profile summaries
    snapshot = profile_snapshot(profile)
    changes = {
        key: {"old": previous.get(key), "new": value}
        for key, value in snapshot.items()
        if previous.get(key) != value and not (not previous and value in (None, "", [], {}))
    }
    return ProfileRevision.objects.create(
        profile=profile,
        number=profile.version,
        # The profile's `updated_at` as of this version: what a reader who sees no later
        # change reads as the profile's time (`intel.revisions.seen_versions`).
        created_at=profile.updated_at,
        author=author,
        action=action,
        tlp=TLP.stricter(profile.tlp, previous.get("tlp") or profile.tlp),
        changes=changes,
        snapshot=snapshot,
    )
