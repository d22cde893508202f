"""Who may do what with an access request: the one statement of the rule, read by the API,
its "awaiting decision" list and the portal (docs/access-requests.md, "Who decides").

Under TLP 2.0 only the source widens an audience, so access to an object is granted by the
organisation that owns it (a profile's or an attachment's owner, a notice's issuer):

- its coordinators decide; its analysts too when it lets them (`analysts_decide_access`);
- the secretariat's coordinators see every request, route it to the owner, ask the requester
  for more and comment; they decide only when the owner has delegated its requests to the
  secretariat (`delegates_access_to_secretariat`) AND they may read the object themselves,
  never for TLP:RED (shared by its owner alone);
- nobody decides a request made by or for their own organisation;
- the requesting organisation answers, withdraws and comments; the authority it asked for
  (`on_behalf_of`) reads only.

Refusals: a would-be decider who may not read the object gets 404 on approving it, as for any
unseen object; one who reads it but lacks the owner's say-so gets 403 saying whose it is.
"""

from django.db.models import Q

from access import targets
from core.errors import ApplicationError, Forbidden, NotFound
from intel.models import TLP, AccessRequest, Attachment, DeviceProfile, Member, Role, TargetType
from notices.models import Notice

OWN_REQUEST = "Your organisation made this request: the object's owner decides it."


def may_request(member: Member) -> bool:
    """Members of an organisation ask for access; auditors only read the trail."""
    return member.organisation_id is not None and member.role != Role.AUDITOR


def may_act_for_requester(member: Member, access_request: AccessRequest) -> bool:
    """Answering, withdrawing or renewing a request is the requesting organisation's."""
    return member.organisation_id == access_request.organisation_id and may_request(member)


def is_owners_decider(member: Member, access_request: AccessRequest) -> bool:
    """A coordinator of the owner organisation, or one of its analysts if it lets them."""
    if member.organisation_id != access_request.owner_id or _requesting_side(
        member, access_request
    ):
        return False
    if member.role == Role.COORDINATOR:
        return True
    return member.role == Role.ANALYST and access_request.owner.analysts_decide_access


def may_ask_info(member: Member, access_request: AccessRequest) -> bool:
    """The owner's deciders and the secretariat's coordinators ask the requester for more."""
    return is_owners_decider(member, access_request) or _secretariat(member, access_request)


def may_route(member: Member, access_request: AccessRequest) -> bool:
    """The secretariat's coordinators route a request to the owner that decides it."""
    return _secretariat(member, access_request)


def may_comment(member: Member, access_request: AccessRequest) -> bool:
    """Those who take part: the requesting organisation, the owner's deciders and the
    secretariat's coordinators."""
    return may_act_for_requester(member, access_request) or may_ask_info(member, access_request)


def check_decide(
    member: Member,
    access_request: AccessRequest,
    target: "targets.Target | None",
    *,
    widens: bool,
) -> None:
    """Raise unless `member` may approve (`widens`), deny or revoke the request (module
    docstring). The owner's deciders deny and revoke what they do not read themselves (the
    object is their organisation's); approving shows it to another organisation, so the
    approver must read it."""
    refusal = decision_refusal(member, access_request, target, widens=widens)
    if refusal is not None:
        raise refusal


def may_decide(
    member: Member, access_request: AccessRequest, target: "targets.Target | None"
) -> bool:
    """Whether `member` may approve the request (the portal's "decide" buttons)."""
    return decision_refusal(member, access_request, target, widens=True) is None


def decision_refusal(
    member: Member,
    access_request: AccessRequest,
    target: "targets.Target | None",
    *,
    widens: bool,
) -> ApplicationError | None:
    """The error that refuses `member` the decision, or None if it is theirs."""
    if _requesting_side(member, access_request):
        return Forbidden(OWN_REQUEST)
    owner = access_request.owner
    if member.organisation_id == owner.pk:
        if not is_owners_decider(member, access_request):
            deciders = (
                "coordinators and analysts decide access to what it owns."
                if owner.analysts_decide_access
                else "coordinators decide access to what it owns; its analysts do when it "
                "lets them."
            )
            return Forbidden(f"{owner.slug}'s {deciders}")
        if widens and target is not None and not targets.sees(member, target):
            return NotFound(targets.NOT_FOUND)
        return None
    if not member.is_secretariat_coordinator:
        return Forbidden(f"{owner.slug}, the owner, decides this request.")
    if target is None or not targets.sees(member, target):
        return NotFound(targets.NOT_FOUND)
    if target.tlp == TLP.RED:
        return Forbidden("TLP:RED is shared by its owner alone: route the request to it.")
    if not owner.delegates_access_to_secretariat:
        return Forbidden(
            f"{owner.slug} owns this {target.noun} and decides access to it (it has not "
            "delegated its requests to the secretariat): route the request to it, ask the "
            "requester for more or comment."
        )
    return None


def awaiting_decision(member: Member) -> Q:
    """The requests `member` may decide, as a filter for the list (`role=received`): the
    same rule as `decision_refusal`, over the whole table."""
    org_id = member.organisation_id
    if org_id is None:
        return Q(pk__in=[])
    mine = Q(organisation_id=org_id) | Q(on_behalf_of_id=org_id)
    if member.role == Role.COORDINATOR:
        owner_decides = Q(owner_id=org_id)
    elif member.role == Role.ANALYST:
        owner_decides = Q(owner_id=org_id, owner__analysts_decide_access=True)
    else:
        owner_decides = Q(pk__in=[])
    if not member.is_secretariat_coordinator:
        return owner_decides & ~mine
    readable = (
        Q(
            target_type=TargetType.PROFILE,
            target_id__in=DeviceProfile.objects.visible_to(member)
            .exclude(tlp=TLP.RED)
            .values("id"),
        )
        | Q(
            target_type=TargetType.ATTACHMENT,
            target_id__in=Attachment.objects.visible_to(member).exclude(tlp=TLP.RED).values("id"),
        )
        | Q(
            target_type=TargetType.NOTICE,
            target_id__in=Notice.objects.visible_to(member).exclude(tlp=TLP.RED).values("id"),
        )
    )
    delegated = Q(owner__delegates_access_to_secretariat=True) & readable
    return (owner_decides | delegated) & ~mine


def _requesting_side(member: Member, access_request: AccessRequest) -> bool:
    return member.organisation_id in (
        access_request.organisation_id,
        access_request.on_behalf_of_id,
    )


def _secretariat(member: Member, access_request: AccessRequest) -> bool:
    return member.is_secretariat_coordinator and not _requesting_side(member, access_request)
