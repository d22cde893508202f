"""Who is e-mailed about an event: the members who want to hear of it (`preferences.wanting`)
and who may see its object, by the object's one visibility rule (`visible_to`).

- `notice.published`, `.updated`, `.withdrawn`: the members of the organisations the notice
  reaches (the webhook fan-out's rule: the issuer and the audience, as each member's
  clearance allows; TLP:RED only the members it names). The secretariat's coordinators, who
  see every notice to run the network, are not thereby its audience.
- `notice.submitted`: the reviewers, the issuer's and the secretariat's coordinators who may
  read the draft;
- `notice.reminder`: the members of the reminded organisation who may read the notice;
- `profile.updated`: the members who may see the profile;
- `access_request.created`: the owner organisation's deciders (`access.policies`);
- `access_request.decided`: the member who asked;
- `seizure.reported`, `seizure.amended`, `seizure.withdrawn`: the members who may see the
  report.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q, QuerySet

from access import policies
from core.events import EventType
from intel.models import TLP, AccessRequest, DeviceProfile, Member, Organisation, Role
from intel.models.network import OrganisationKind
from intel.visibility import Reader, Viewer
from intel.visibility_bulk import visible_ids_per_viewer
from mail.preferences import wanting
from notices.models import Notice
from seizures.models import SeizureReport

Visible = Callable[[Reader], "QuerySet[Any]"]


def recipients(event_type: str, **targets: Any) -> list[Member]:
    """The members to e-mail about one event (see the module's table), in a stable order."""
    match event_type:
        case EventType.NOTICE_PUBLISHED | EventType.NOTICE_UPDATED | EventType.NOTICE_WITHDRAWN:
            return _notice_audience(targets["notice"], wanting(event_type))
        case EventType.NOTICE_SUBMITTED:
            notice: Notice = targets["notice"]
            reviewers = (
                wanting(event_type)
                .filter(role=Role.COORDINATOR)
                .filter(
                    Q(organisation_id=notice.issuer_id)
                    | Q(organisation__kind=OrganisationKind.SECRETARIAT)
                )
            )
            return _each_seeing(reviewers, _notice(notice.pk))
        case EventType.NOTICE_REMINDER:
            organisation: Organisation = targets["organisation"]
            members = wanting(event_type).filter(organisation=organisation)
            return _each_seeing(members, _notice(targets["notice"].pk))
        case EventType.PROFILE_UPDATED:
            profile: DeviceProfile = targets["profile"]
            return _seeing(
                wanting(event_type),
                lambda r: DeviceProfile.objects.visible_to(r).filter(pk=profile.pk),
                tlp=profile.tlp,
            )
        case EventType.ACCESS_REQUEST_CREATED:
            request: AccessRequest = targets["access_request"]
            # The owner's deciders, by the one rule of access/policies.py.
            candidates = wanting(event_type).filter(organisation_id=request.owner_id)
            deciders = [m for m in candidates if policies.is_owners_decider(m, request)]
            return _each_seeing(deciders, _access_request(request.pk))
        case EventType.ACCESS_REQUEST_DECIDED:
            request = targets["access_request"]
            if request.requester_id is None:  # the asker's account is gone
                return []
            asker = wanting(event_type).filter(pk=request.requester_id)
            return _each_seeing(asker, _access_request(request.pk))
        case EventType.SEIZURE_REPORTED | EventType.SEIZURE_AMENDED | EventType.SEIZURE_WITHDRAWN:
            report: SeizureReport = targets["seizure_report"]
            return _seeing(
                wanting(event_type),
                lambda r: SeizureReport.objects.visible_to(r).filter(pk=report.pk),
                tlp=report.tlp,
            )
    return []


def _notice(notice_id: int) -> Visible:
    return lambda r: Notice.objects.visible_to(r).filter(pk=notice_id)


def _access_request(request_id: int) -> Visible:
    return lambda r: AccessRequest.objects.visible_to(r).filter(pk=request_id)


def _notice_audience(notice: Notice, candidates: "QuerySet[Member]") -> list[Member]:
    """The notice's audience among `candidates`: organisations by the webhook fan-out's rule
    (an organisation's members as their clearance lets them see it), the named members for
    TLP:RED."""
    if notice.tlp == TLP.RED:
        named = candidates.filter(
            Q(pk__in=notice.recipient_members.values("pk")) | Q(pk=notice.created_by_id)
        )
        return _each_seeing(named, _notice(notice.pk))
    return _seeing(candidates, _notice(notice.pk), tlp=notice.tlp)


def _seeing(candidates: Iterable[Member], visible: Visible, *, tlp: str) -> list[Member]:
    """The candidates who may see the object: asked once per (organisation, clearance), as
    any member of the organisation with that clearance sees it; for TLP:RED, which names
    members, asked of each."""
    if tlp == TLP.RED:
        return _each_seeing(candidates, visible)
    groups: dict[tuple[int, str], list[Member]] = defaultdict(list)
    for member in candidates:
        assert member.organisation_id is not None  # `wanting` keeps members of organisations
        groups[(member.organisation_id, member.clearance)].append(member)
    keys = list(groups)
    viewers = [Viewer.of_organisation(_organisation(groups[key][0]), key[1]) for key in keys]
    seen = visible_ids_per_viewer(
        viewers, lambda v: visible(v).order_by().values_list("pk", flat=True)
    )
    return [member for key, ids in zip(keys, seen, strict=True) if ids for member in groups[key]]


def _each_seeing(candidates: Iterable[Member], visible: Visible) -> list[Member]:
    """The candidates who may see the object, asked member by member (few candidates)."""
    return [member for member in candidates if visible(member).exists()]


def _organisation(member: Member) -> Organisation:
    assert member.organisation is not None
    return member.organisation
