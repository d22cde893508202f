"""A notice's body, defined once: these serializers render a notice for one recipient and
describe it in the schema. The API's answer (`NoticeSerializer`), a webhook's `data`
(`NoticeBodySerializer`, without the acknowledgement) and the portal's notice page
(`notices.rendering.render_for`) are all their output, so none can drift from another.

The notice comes loaded `with_visible_profiles` (only the profiles the recipient may see, in
`visible_profiles`), and the context holds `versions`, the version of each of those profiles
the recipient sees (`intel.revisions.seen_versions`), and, for `NoticeSerializer`,
`acknowledged`: when the recipient's organisation acknowledged each notice.
"""

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

from intel.models import DeviceProfile
from intel.models.tlp import TLP
from notices.models import UNPUBLISHED_STATES, AudienceScope, Notice, NoticeStatus, NoticeType

TAC_KINDS = ("tac", "tac_range")

Compute = Callable[[Any, dict[str, Any]], Any]


class _Computed:
    """A field whose value is worked out from the rendered object and the serializer's
    context (`compute(obj, context)`) instead of read from one attribute."""

    def __init__(self, *args: Any, compute: Compute, **kwargs: Any) -> None:
        self.compute = compute
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return self.compute(instance, self.context)  # type: ignore[attr-defined]


class Moment(serializers.DateTimeField):
    """A time as the notice body has always written it: `datetime.isoformat()`, `+00:00`."""

    def to_representation(self, value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value


class _ComputedList(_Computed, serializers.ListField):
    pass


class _ComputedInteger(_Computed, serializers.IntegerField):
    pass


class _ComputedBoolean(_Computed, serializers.BooleanField):
    pass


class _ComputedText(_Computed, serializers.CharField):
    pass


class _ComputedChoice(_Computed, serializers.ChoiceField):
    pass


class _ComputedMoment(_Computed, Moment):
    pass


class NoticeProfileSerializer(serializers.Serializer[Any]):
    """A profile a notice is about, in short."""

    id = serializers.IntegerField(help_text="The profile's id.")
    name = serializers.CharField(help_text="The profile's name.")
    aliases = serializers.ListField(
        child=serializers.CharField(), help_text="Other names of the device."
    )
    device_class = serializers.CharField(help_text="The device class (docs/vocabularies.md).")
    manufacturer_country = serializers.CharField(
        help_text="Where the device is made (ISO 3166-1 alpha-2); empty if not known."
    )
    tlp = serializers.CharField(help_text="The profile's TLP label.")
    version = _ComputedInteger(
        compute=lambda profile, context: context["versions"][profile.pk].number,
        help_text="The profile's version you may see.",
    )
    tacs = _ComputedList(
        compute=lambda profile, context: [
            i.value for i in profile.identifiers.all() if i.kind in TAC_KINDS
        ],
        child=serializers.CharField(),
        help_text="The TACs and TAC ranges that identify the device.",
    )


class NoticeIssuerSerializer(serializers.Serializer[Any]):
    """The organisation that issued a notice."""

    id = serializers.IntegerField(help_text="The organisation's id.")
    slug = serializers.CharField(help_text="The organisation's slug, e.g. `fr-desk`.")
    name = serializers.CharField(help_text="The organisation's name.")
    country = serializers.CharField(
        help_text="The organisation's country (ISO 3166-1 alpha-2); empty for the secretariat."
    )


def _named_members(notice: Notice, context: dict[str, Any]) -> list[str]:
    # Named recipients matter at TLP:RED only, and only the named see a RED notice.
    if notice.tlp != TLP.RED:
        return []
    return sorted(m.username for m in notice.recipient_members.all())


class NoticeAudienceSerializer(serializers.Serializer[Any]):
    """Whom a notice is addressed to: the same keys are written and read."""

    scope = serializers.ChoiceField(
        source="audience_scope",
        choices=AudienceScope.choices,
        help_text="`network` (every organisation), `organisations` (those listed in "
        "`organisations`) or `countries` (the organisations of the countries listed in "
        "`countries`).",
    )
    organisations = _ComputedList(
        compute=lambda notice, context: sorted(o.slug for o in notice.audience_organisations.all()),
        child=serializers.CharField(),
        help_text="Slugs of the organisations addressed.",
    )
    countries = _ComputedList(
        compute=lambda notice, context: sorted(c.country for c in notice.countries.all()),
        child=serializers.CharField(),
        help_text="ISO 3166-1 alpha-2 codes of the countries.",
    )
    members = _ComputedList(
        compute=_named_members,
        child=serializers.CharField(),
        help_text="TLP:RED: the usernames of the members named as recipients (empty at "
        "other labels).",
    )


def _under_review(notice: Notice, context: dict[str, Any]) -> Notice | None:
    """The notice while a draft is in review; None once published or when never submitted
    (a reviewer's comment is the drafting organisation's business, not the audience's)."""
    if notice.submitted_at is None or notice.status not in UNPUBLISHED_STATES:
        return None
    return notice


def _submitted(notice: Notice) -> bool:
    return notice.status == NoticeStatus.SUBMITTED


class NoticeReviewSerializer(_Computed, serializers.Serializer[Any]):
    """Where a draft stands in review, shown to those who see the draft (null once published
    or when never submitted)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, compute=_under_review, **kwargs)

    status = _ComputedChoice(
        compute=lambda notice, context: "submitted" if _submitted(notice) else "returned",
        choices=[("submitted", "Submitted"), ("returned", "Returned to the drafter")],
        help_text="`submitted`: waits for a reviewer; `returned`: back with the drafter, "
        "see `comment`.",
    )
    submitted_at = Moment(help_text="Last submission.")
    submitted_by = _ComputedText(
        compute=lambda notice, context: (
            notice.submitted_by.username if notice.submitted_by else None
        ),
        allow_null=True,
        help_text="Username of the member who submitted it.",
    )
    returned_at = _ComputedMoment(
        compute=lambda notice, context: None if _submitted(notice) else notice.returned_at,
        allow_null=True,
        help_text="When a reviewer returned it (null while submitted).",
    )
    returned_by = _ComputedText(
        compute=lambda notice, context: (
            notice.returned_by.username if notice.returned_by and not _submitted(notice) else None
        ),
        allow_null=True,
        help_text="Username of the reviewer who returned it.",
    )
    comment = _ComputedText(
        compute=lambda notice, context: "" if _submitted(notice) else notice.review_comment,
        help_text="The reviewer's comment on return.",
    )


def _visible(notice: Notice) -> list[DeviceProfile]:
    return list(getattr(notice, "visible_profiles", []))


def _restricted_data_available(notice: Notice, context: dict[str, Any]) -> bool:
    """Advertised by the issuer, and true for this recipient: some profile is hidden."""
    visible = _visible(notice)
    hidden = getattr(notice, "profile_count", len(visible)) - len(visible)
    return bool(notice.restricted_data_available and hidden > 0)


class NoticeBodySerializer(serializers.Serializer[Any]):
    """A notice as one recipient receives it: the API's answer but the acknowledgement, and
    a webhook's `data`."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="The notice's reference, e.g. `DIX-2025-000123`.")
    type = serializers.ChoiceField(
        source="notice_type",
        choices=NoticeType.choices,
        help_text="What the notice asks of its audience: a value of `notice_type` (docs/vocabularies.md).",
    )
    status = serializers.CharField(
        help_text="Where the notice is in its life: a value of `notice_status` (docs/vocabularies.md)."
    )
    version = serializers.IntegerField(help_text="Latest published version; 0 for a draft.")
    title = serializers.CharField(help_text="The notice's title, one line.")
    summary = serializers.CharField(help_text="What the notice is about, in a few lines.")
    body = serializers.CharField(help_text="The notice's full text.")
    action_requested = serializers.CharField(help_text="What the audience is asked to do.")
    tlp = serializers.ChoiceField(
        choices=TLP.choices, help_text="Who may receive the notice within its audience (TLP 2.0)."
    )
    issuer = NoticeIssuerSerializer(help_text="The organisation that issued the notice.")
    audience = NoticeAudienceSerializer(source="*", help_text="Who the notice is addressed to.")
    profile_ids = _ComputedList(
        compute=lambda notice, context: [p.pk for p in _visible(notice)],
        child=serializers.IntegerField(),
        help_text="Ids of the concerned profiles you may see (the ids `profiles` expands).",
    )
    profiles = NoticeProfileSerializer(
        source="visible_profiles", many=True, help_text="Only the profiles you may see."
    )
    restricted_data_available = _ComputedBoolean(
        compute=_restricted_data_available,
        help_text="Some concerned data is restricted: request access from the issuer.",
    )
    review_due_at = Moment(
        allow_null=True,
        help_text="When the issuer plans to review the notice; null if not planned.",
    )
    respond_by = Moment(
        allow_null=True,
        help_text="When the issuer expects acknowledgements; after it, audience "
        "organisations that have not acknowledged are reminded once.",
    )
    published_at = Moment(
        allow_null=True, help_text="When the notice was first published; null for a draft."
    )
    changed_at = Moment(
        help_text="When the notice last changed: published, updated, superseded or withdrawn."
    )
    superseded_by = _ComputedText(
        compute=lambda notice, context: (
            notice.superseded_by.reference if notice.superseded_by else None
        ),
        allow_null=True,
        help_text="The reference of the notice that replaces it; null if none.",
    )
    withdrawal_reason = serializers.CharField(
        help_text="Why the issuer withdrew it; empty unless withdrawn."
    )
    review = NoticeReviewSerializer(
        allow_null=True, help_text="The review of a draft; null once published."
    )


class NoticeSerializer(NoticeBodySerializer):
    """A notice as the requesting member may receive it."""

    acknowledged_at = _ComputedMoment(
        compute=lambda notice, context: context["acknowledged"].get(notice.pk),
        allow_null=True,
        help_text="When your organisation acknowledged it.",
    )
