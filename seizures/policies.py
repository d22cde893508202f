"""Who may report seizures, change them, and see the network's figures."""

from intel.models import Member, Role
from notices.models import PUBLIC_STATES, Notice
from seizures.models import SeizureReport


def may_report(member: Member) -> bool:
    """Every member of an organisation reports for it, except auditors (they read)."""
    return member.organisation is not None and member.role != Role.AUDITOR


def may_change(member: Member, report: SeizureReport) -> bool:
    """Whoever may report for the reporting organisation amends and withdraws its reports."""
    return may_report(member) and member.organisation_id == report.organisation_id


def may_see_network_stats(member: Member) -> bool:
    """Network-wide aggregates (`scope=network`) are for those who brief the network: the
    secretariat's coordinators, and the members of an organisation that has issued at least
    one published notice."""
    if member.is_secretariat_coordinator:
        return True
    if member.organisation_id is None:
        return False
    return Notice.objects.filter(
        issuer_id=member.organisation_id, status__in=PUBLIC_STATES
    ).exists()
