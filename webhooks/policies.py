"""Who may manage an organisation's webhook endpoints."""

from intel.models import Member, Role


def may_manage_subscriptions(member: Member) -> bool:
    """Every member of an organisation but its auditors, who read and never act."""
    return member.organisation is not None and member.role != Role.AUDITOR
