"""Members' e-mail preferences: what each member chose per event kind, and who wants to hear
of an event (the candidates the outbox narrows down by visibility)."""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from intel import audit
from intel.models import Member
from mail.models import DEFAULT_DELIVERY, MAILED_EVENTS, Delivery, EmailPreference


def preferences_of(member: Member) -> dict[str, str]:
    """Every mailed event kind with the member's delivery for it (its choice, or the default)."""
    chosen = dict(
        EmailPreference.objects.filter(member=member).values_list("event_type", "delivery")
    )
    return {event: chosen.get(event, DEFAULT_DELIVERY[event]) for event, _ in MAILED_EVENTS}


def email_preferences_set(*, member: Member, deliveries: Mapping[str, str]) -> dict[str, str]:
    """Replace the member's choices: each kind named gets its delivery, every other kind
    goes back to its default. Audited; returns the preferences now in force."""
    with transaction.atomic():
        before = preferences_of(member)
        EmailPreference.objects.filter(member=member).delete()
        EmailPreference.objects.bulk_create(
            EmailPreference(member=member, event_type=event, delivery=delivery)
            for event, delivery in deliveries.items()
            if delivery != DEFAULT_DELIVERY[event]
        )
        after = preferences_of(member)
        audit.record(
            action="email_preferences.changed",
            actor=member,
            object_type="member",
            object_id=member.pk,
            detail={
                "changes": {
                    event: [before[event], after[event]]
                    for event in after
                    if before[event] != after[event]
                }
            },
        )
    return after


def wanting(event_type: str) -> QuerySet[Member]:
    """Active members of an organisation, with an e-mail address, whose delivery for
    `event_type` is not `none` (their choice, else the default; `delivery_of` reads it)."""
    chosen = EmailPreference.objects.filter(member=OuterRef("pk"), event_type=event_type)
    members = Member.objects.filter(is_active=True, organisation__isnull=False).exclude(
        Q(email="") | Q(email__isnull=True)
    )
    if DEFAULT_DELIVERY[event_type] == Delivery.NONE:
        members = members.filter(Exists(chosen.exclude(delivery=Delivery.NONE)))
    else:
        members = members.exclude(Exists(chosen.filter(delivery=Delivery.NONE)))
    return members.annotate(chosen_delivery=Subquery(chosen.values("delivery")[:1])).select_related(
        "organisation__sponsor"
    )


def delivery_of(member: Member, event_type: str) -> str:
    """The delivery of a member from `wanting(event_type)`: immediate or digest."""
    return str(getattr(member, "chosen_delivery", None) or DEFAULT_DELIVERY[event_type])
