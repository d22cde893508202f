"""Who may see what: the TLP audience rule (DESIGN.md §4), and the `Viewer` it is asked for.

Each shareable model exposes `Model.objects.visible_to(viewer)`, built from `ladder_q`
(through `tlp_audience_q` for profiles, attachments, revisions and seizure reports, and
through `notices.models.notice_audience_q` for notices); every read path (lists, details,
filters, search, revisions, identifiers, attachments, exports, webhooks) starts from it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from intel.models.network import Member, Organisation
from intel.models.tlp import TLP


@dataclass(frozen=True)
class Viewer:
    """Who a visibility rule answers for: an organisation (or none), a clearance, and the
    member when one asks (None for "any cleared member of the organisation", as a webhook
    endpoint or an access grant on behalf of an organisation is; such a viewer is named
    nowhere, so TLP:RED is out of its reach)."""

    organisation: Organisation | None
    clearance: str
    member: Member | None = None

    @classmethod
    def of(cls, who: "Member | Viewer") -> "Viewer":
        """The viewer a member is (a viewer is returned as it is). An unsaved member is named
        nowhere, so it views as its organisation does."""
        if isinstance(who, Viewer):
            return who
        member = who if who.pk is not None else None
        return cls(organisation=who.organisation, clearance=who.clearance, member=member)

    @classmethod
    def of_organisation(cls, organisation: Organisation, clearance: str) -> "Viewer":
        """Any member of `organisation` cleared for `clearance`."""
        return cls(organisation=organisation, clearance=clearance)

    @property
    def member_id(self) -> int | None:
        return None if self.member is None else self.member.pk

    @property
    def organisation_id(self) -> int | None:
        return None if self.organisation is None else self.organisation.pk

    @property
    def is_secretariat_coordinator(self) -> bool:
        return self.member is not None and self.member.is_secretariat_coordinator

    def organisation_ids(self, *, with_sponsor: bool) -> list[int]:
        """The organisation's id, and its sponsor's when asked (read without loading it)."""
        org = self.organisation
        if org is None:
            return []
        if with_sponsor and org.sponsor_id is not None:
            return [org.pk, org.sponsor_id]
        return [org.pk]


# What the rules accept: a member, or a viewer made for one.
Reader = Member | Viewer


def within_clearance(viewer: Viewer, *, tlp: str) -> Q:
    """The rows whose label (lookup `tlp`) the viewer's clearance covers."""
    return Q(**{f"{tlp}__in": TLP.at_most(viewer.clearance)})


def ladder_q(
    viewer: Viewer, *, tlp: str, reach: Callable[[bool], Q], network_wide: bool, named: Q
) -> Q:
    """The rows the viewer receives by their label (lookup `tlp`), before its clearance:

    TLP:CLEAR   anyone authenticated (`network_wide`), else as GREEN
    TLP:GREEN   every organisation of the network (`network_wide`), else `reach(False)`
    TLP:AMBER   `reach(True)`: the organisation's rows and those of the desk sponsoring it
    TLP:AMBER+STRICT  `reach(False)`: the organisation's own rows only
    TLP:RED     `named`: the rows that name the member individually

    `reach(with_sponsor)` is the caller's notion of "addressed to the organisation"
    (owner or named recipient for a profile; issuer or audience for a notice)."""
    q = Q(pk__in=[])
    if network_wide:
        q |= Q(**{tlp: TLP.CLEAR})
    if viewer.organisation is not None:
        if network_wide:
            q |= Q(**{tlp: TLP.GREEN})
        else:
            q |= Q(**{f"{tlp}__in": [TLP.CLEAR, TLP.GREEN]}) & reach(False)
        q |= Q(**{tlp: TLP.AMBER}) & reach(True)
        q |= Q(**{tlp: TLP.AMBER_STRICT}) & reach(False)
    if viewer.member is not None:
        q |= Q(**{tlp: TLP.RED}) & named
    return q


def tlp_audience_q(
    who: Reader,
    *,
    tlp: str,
    owner: str,
    target_id: str,
    recipients_of: Callable[[Iterable[int]], QuerySet[Any]],
    named_members: Q,
    granted: Q | None = None,
) -> Q:
    """The rows of a TLP-marked model with an owner and named recipients that `who` may
    receive (`ladder_q`, network-wide, capped by clearance).

    - `tlp`: lookup of the label; `owner`: lookup of the owner organisation's id;
    - `recipients_of(org_ids)`: a values() queryset of target ids naming any of the orgs;
    - `target_id`: lookup compared against that queryset;
    - `named_members`: the rows that name this member individually (TLP:RED);
    - `granted`: the rows an access grant gives the member's organisation: seen as a named
      recipient organisation sees them, at any label but RED (a RED grant names the member,
      and so belongs in `named_members`).
    """
    viewer = Viewer.of(who)

    def reach(with_sponsor: bool) -> Q:
        # An authority receives AMBER through the desk that sponsors it.
        ids = viewer.organisation_ids(with_sponsor=with_sponsor)
        return Q(**{f"{owner}__in": ids}) | Q(**{f"{target_id}__in": recipients_of(ids)})

    q = ladder_q(viewer, tlp=tlp, reach=reach, network_wide=True, named=named_members)
    if viewer.organisation is not None and granted is not None:
        q |= granted & ~Q(**{tlp: TLP.RED})
    return q & within_clearance(viewer, tlp=tlp)
