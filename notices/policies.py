"""Who may draft, edit, submit, review, discard, publish, update, withdraw and supersede a
notice, and see its receipts."""

from django.db.models import Q

from intel.models import Member, Role
from notices.models import Notice

# Every write to a notice first loads it through `notices.services._locked_visible`: nobody
# changes a notice they may not read (a TLP:RED draft's unnamed colleagues included), and a
# notice they may not read answers 404. The rules below say who of those who see it may act.


def may_draft(member: Member) -> bool:
    return member.organisation is not None and member.role in (Role.ANALYST, Role.COORDINATOR)


def may_edit_draft(member: Member, notice: Notice) -> bool:
    """The issuer's analysts and coordinators; the secretariat's coordinators, any desk's."""
    return may_draft(member) and (
        member.organisation_id == notice.issuer_id or member.is_secretariat_coordinator
    )


def may_publish(member: Member, notice: Notice) -> bool:
    """The secretariat's coordinators publish any notice; a desk's coordinator its own."""
    if member.is_secretariat_coordinator:
        return True
    return member.role == Role.COORDINATOR and member.organisation_id == notice.issuer_id


def may_review(member: Member, notice: Notice) -> bool:
    """The reviewers of a submitted notice are those who may publish it."""
    return may_publish(member, notice)


def reviewable_by(member: Member) -> Q:
    """`may_review` as a filter of notices, for the "to review" list."""
    if member.is_secretariat_coordinator:
        return Q()
    if member.role == Role.COORDINATOR and member.organisation_id is not None:
        return Q(issuer_id=member.organisation_id)
    return Q(pk__in=[])


def may_discard(member: Member, notice: Notice) -> bool:
    """An unpublished notice's drafters (those who may edit it) and its reviewers."""
    return may_edit_draft(member, notice) or may_review(member, notice)


def may_see_receipts(member: Member, notice: Notice) -> bool:
    return member.organisation_id == notice.issuer_id or member.is_secretariat_coordinator
