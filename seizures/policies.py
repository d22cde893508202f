"""Who may report seizures."""

from intel.models import Member, Role


def may_report(member: Member) -> bool:
    """Every member of an organisation reports for it, except auditors (they read)."""
    return member.organisation is not None and member.role != Role.AUDITOR
