"""Who may request access to an object, and who may decide a request."""

from intel.models import TLP, AccessRequest, Member, Role


def may_request(member: Member) -> bool:
    """Members of an organisation ask for access; auditors only read the trail."""
    return member.organisation_id is not None and member.role != Role.AUDITOR


def may_decide(member: Member, access_request: AccessRequest, target_tlp: str) -> bool:
    """The owner organisation's analysts and coordinators, and the secretariat's coordinators
    (except for TLP:RED, which only its owner shares). Never the requesting organisation or
    the authority it asked for: nobody approves their own request."""
    if member.organisation_id in (access_request.organisation_id, access_request.on_behalf_of_id):
        return False
    if member.organisation_id == access_request.owner_id:
        return member.role in (Role.ANALYST, Role.COORDINATOR)
    return member.is_secretariat_coordinator and target_tlp != TLP.RED


def may_act_for_requester(member: Member, access_request: AccessRequest) -> bool:
    """Answering, withdrawing or renewing a request is the requesting organisation's."""
    return member.organisation_id == access_request.organisation_id and may_request(member)
