"""Who may see what: DESIGN.md §4 as one query builder shared by the visibility functions.

Each shareable model exposes `Model.objects.visible_to(member)`, built from
`tlp_audience_q`; every read path (lists, details, filters, search, revisions, identifiers,
attachments, exports) starts from it, so there is exactly one place where the rule lives.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from intel.models.tlp import TLP, tlp_labels_up_to

if TYPE_CHECKING:
    from intel.models.network import Member


def tlp_audience_q(
    member: "Member",
    *,
    tlp: str,
    owner: str,
    target_id: str,
    recipients_of: Callable[[Iterable[int]], QuerySet[Any]],
    named_members: Q,
    granted: Q | None = None,
) -> Q:
    """The rows of a TLP-marked model that `member` may receive.

    - `tlp`: lookup of the label; `owner`: lookup of the owner organisation's id;
    - `recipients_of(org_ids)`: a values() queryset of target ids naming any of the orgs;
    - `target_id`: lookup compared against that queryset;
    - `named_members`: the rows that name this member individually (TLP:RED);
    - `granted`: the rows an access grant gives the member's organisation: seen as a named
      recipient organisation sees them, at any label but RED (a RED grant names the member,
      and so belongs in `named_members`).

    TLP:CLEAR   anyone authenticated
    TLP:GREEN   every organisation of the network
    TLP:AMBER   owner, named recipients, the authorities either sponsors
    TLP:AMBER+STRICT  owner and named recipients only
    TLP:RED     named individual members only
    and never above the member's clearance.
    """
    q = Q(**{tlp: TLP.CLEAR})
    org = member.organisation
    if org is not None:
        q |= Q(**{tlp: TLP.GREEN})
        # An authority receives AMBER through the desk that sponsors it.
        amber_orgs = [org.pk] if org.sponsor_id is None else [org.pk, org.sponsor_id]
        q |= Q(**{tlp: TLP.AMBER}) & (
            Q(**{f"{owner}__in": amber_orgs}) | Q(**{f"{target_id}__in": recipients_of(amber_orgs)})
        )
        q |= Q(**{tlp: TLP.AMBER_STRICT}) & (
            Q(**{owner: org.pk}) | Q(**{f"{target_id}__in": recipients_of([org.pk])})
        )
        if granted is not None:
            q |= granted & ~Q(**{tlp: TLP.RED})
    if member.pk is not None:  # an unsaved stand-in (a webhook's organisation) is named nowhere
        q |= Q(**{tlp: TLP.RED}) & named_members
    return q & Q(**{f"{tlp}__in": tlp_labels_up_to(member.clearance)})
