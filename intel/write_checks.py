"""The checks a write must pass before it is saved: model validation, clearance, what the
author may see of the profile and of what the write names, and who may widen an audience."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from core.errors import FieldInvalid, NotFound
from intel import policies
from intel.models import TLP, DeviceProfile, Member, Organisation
from intel.revisions import seen_version


def full_clean(obj: Any, exclude: Iterable[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=list(exclude or []), validate_unique=True)
    except ValidationError as exc:
        errors = exc.message_dict
        field = next(iter(errors))
        raise FieldInvalid(field, " ".join(errors[field])) from exc


def check_clearance(author: Member, tlp: str) -> None:
    if TLP.above(tlp, author.clearance):
        raise FieldInvalid("tlp", f"{tlp} is above your clearance ({author.clearance}).")


def locked_visible(profile_id: int, author: Member) -> DeviceProfile:
    """The profile, locked for this transaction, if the author may see it; else 404."""
    profile = (
        DeviceProfile.objects.visible_to(author).select_for_update().filter(pk=profile_id).first()
    )
    if profile is None:
        raise NotFound("Not found.")
    return profile


def seen_version_number(author: Member, profile: DeviceProfile) -> int:
    """The version the author read: changes they may not see are no version for them (their
    ETag names this one), and cannot conflict with what they send."""
    return seen_version(author, profile).number


def keeps_hidden_parent(
    author: Member, profile: DeviceProfile, parent: DeviceProfile | None
) -> bool:
    """`parent: null` from a member who may not see the current parent: they read no parent
    and send none back, so the parent they cannot see is kept as it is, never removed by
    omission. Naming a parent they may see replaces it."""
    return (
        parent is None
        and profile.parent_id is not None
        and not DeviceProfile.objects.visible_to(author).filter(pk=profile.parent_id).exists()
    )


def check_audience_widening(
    author: Member,
    profile: DeviceProfile,
    recipient_organisations: Sequence[Organisation] | None,
    recipient_members: Sequence[Member] | None,
) -> None:
    """Refuses added recipients unless the author may widen the audience
    (`policies.may_widen_audience`)."""
    if policies.may_widen_audience(author, profile):
        return
    if recipient_organisations is not None:
        added = {o.pk for o in recipient_organisations} - set(
            profile.recipient_organisations.values_list("id", flat=True)
        )
        if added:
            raise FieldInvalid(
                "recipient_organisations", "Only the owner organisation may add recipients."
            )
    if recipient_members is not None:
        added = {m.pk for m in recipient_members} - set(
            profile.recipient_members.values_list("id", flat=True)
        )
        if added:
            raise FieldInvalid(
                "recipient_members", "Only the owner organisation may add recipients."
            )


def refuse_if_invisible_to(author: Member, profile: DeviceProfile) -> None:
    """A change that would hide the profile from its own author is refused (and rolled back
    with the transaction): the author would get a 404 for a write that succeeded, and could
    not read, correct or retire it afterwards. Name your organisation (AMBER) or yourself
    (RED) as a recipient instead."""
    if not DeviceProfile.objects.visible_to(author).filter(pk=profile.pk).exists():
        raise FieldInvalid(
            "tlp",
            f"With {profile.tlp} and these recipients you could no longer see this profile; "
            "add your organisation to recipient_organisations (or yourself to "
            "recipient_members for TLP:RED).",
        )


def check_parent(
    profile: DeviceProfile, parent: DeviceProfile | None, author: Member | None = None
) -> None:
    if (
        parent is not None
        and author is not None
        and not DeviceProfile.objects.visible_to(author).filter(pk=parent.pk).exists()
    ):
        raise FieldInvalid("parent", f'Invalid pk "{parent.pk}" - object does not exist.')
    node = parent
    while node is not None:
        if profile.pk is not None and node.pk == profile.pk:
            raise FieldInvalid("parent", "A profile cannot be its own ancestor.")
        node = node.parent
