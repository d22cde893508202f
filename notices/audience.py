"""Who a notice reaches: the organisations (and, for TLP:RED, the named members) entitled to it
by its label, audience and access grants, and why.

One computation serves the issuer's audience preview (`GET /notices/{id}/audience/`), the
receipts of the whole audience, the reminders, and the webhook fan-out and delivery-time
entitlement (`notice_seen_by`), so that what the issuer is shown is who is told. It answers
as `Notice.objects.visible_to` does for a published notice and a viewer that is an
organisation rather than a member (`notice_audience_q`): a draft is answered as it would be
once published.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import models

from intel.models import TLP, Member, Organisation
from intel.models.access import Grant, TargetType
from intel.models.network import OrganisationKind
from intel.visibility import Viewer
from notices.models import UNPUBLISHED_STATES, AudienceScope, Notice


class Reason(models.TextChoices):
    """Why an organisation is in a notice's audience."""

    ISSUER = "issuer", "It issued the notice"
    SCOPE = "scope", "The audience is the whole network or its country"
    NAMED = "named", "It (or, for TLP:RED, one of its members) is named in the audience"
    SPONSORED = "sponsored", "TLP:AMBER reaches it through the desk that sponsors it"
    GRANTED = "granted", "It holds an access grant to the notice"


@dataclass(frozen=True)
class Reached:
    """One organisation of a notice's audience; `members`: the named members (TLP:RED)."""

    organisation: Organisation
    reasons: tuple[str, ...]
    members: tuple[Member, ...] = field(default=())


@dataclass(frozen=True)
class _Addressed:
    """What of a notice decides its audience, read once."""

    tlp: str
    issuer_id: int
    scope: str
    organisation_ids: frozenset[int]
    countries: frozenset[str]
    granted_ids: frozenset[int]

    @classmethod
    def of(cls, notice: Notice) -> "_Addressed":
        return cls(
            tlp=notice.tlp,
            issuer_id=notice.issuer_id,
            scope=notice.audience_scope,
            organisation_ids=frozenset(
                notice.audience_organisations.through.objects.filter(
                    notice_id=notice.pk
                ).values_list("organisation_id", flat=True)
            ),
            countries=frozenset(notice.countries.values_list("country", flat=True)),
            # A grant naming a member is for TLP:RED and that member alone.
            granted_ids=frozenset(
                Grant.objects.active()
                .filter(target_type=TargetType.NOTICE, target_id=notice.pk, member__isnull=True)
                .values_list("organisation_id", flat=True)
            ),
        )

    def reasons(self, org: Organisation) -> tuple[str, ...]:
        """Why the organisation receives the notice (none: it does not), as `ladder_q` with
        `notice_audience_q`'s reach: CLEAR, GREEN and AMBER+STRICT reach the issuer and the
        audience, AMBER also the authorities an audience member sponsors; RED no organisation."""
        if self.tlp == TLP.RED:
            return ()
        reasons = list(self._direct(org))
        sponsor = org.sponsor
        # Through the sponsor: issued by it, or addressed to it by name or country (a
        # network-wide audience has reached the authority itself already).
        if self.tlp == TLP.AMBER and not reasons and sponsor and self._direct(sponsor):
            reasons.append(Reason.SPONSORED)
        if org.pk in self.granted_ids:
            reasons.append(Reason.GRANTED)
        return tuple(reasons)

    def _direct(self, org: Organisation) -> list[str]:
        reasons: list[str] = []
        if org.pk == self.issuer_id:
            reasons.append(Reason.ISSUER)
        if self.scope == AudienceScope.NETWORK or (
            self.scope == AudienceScope.COUNTRIES and org.country and org.country in self.countries
        ):
            reasons.append(Reason.SCOPE)
        if self.scope == AudienceScope.ORGANISATIONS and org.pk in self.organisation_ids:
            reasons.append(Reason.NAMED)
        return reasons


def notice_audience(
    notice: Notice, *, among: Iterable[int] | None = None, with_issuer: bool = True
) -> list[Reached]:
    """The organisations the notice reaches now (`among` these ids only, when given), in
    slug order. TLP:RED: the organisations of its named members, with them (a RED notice
    reaches members, never an organisation as such). `with_issuer=False` leaves out the
    issuer: it is not a recipient of its own notice (receipts, reminders)."""
    organisations = Organisation.objects.select_related("sponsor").order_by("slug", "pk")
    if among is not None:
        organisations = organisations.filter(pk__in=list(among))
    if not with_issuer:
        organisations = organisations.exclude(pk=notice.issuer_id)
    if notice.tlp == TLP.RED:
        return _named_members(notice, organisations)
    addressed = _Addressed.of(notice)
    reached = []
    for org in organisations:
        reasons = addressed.reasons(org)
        if reasons:
            reached.append(Reached(organisation=org, reasons=reasons))
    return reached


def audience_totals(reached: Iterable[Reached]) -> dict[str, int]:
    """How many organisations an audience reaches, in how many countries (the secretariat,
    of no country, counts in none)."""
    organisations = {r.organisation.pk: r.organisation.country for r in reached}
    return {
        "organisations": len(organisations),
        "countries": len(set(organisations.values()) - {""}),
    }


def _named_members(notice: Notice, organisations: "models.QuerySet[Organisation]") -> list[Reached]:
    members: dict[int, list[Member]] = {}
    for member in notice.recipient_members.filter(organisation__isnull=False).order_by("username"):
        assert member.organisation_id is not None
        members.setdefault(member.organisation_id, []).append(member)
    return [
        Reached(organisation=org, reasons=(Reason.NAMED,), members=tuple(members[org.pk]))
        for org in organisations.filter(pk__in=list(members))
    ]


def notice_seen_by(notice: Notice | int, viewers: Sequence[Viewer]) -> list[bool]:
    """Whether each organisation viewer (a webhook endpoint's: no member, a clearance cap)
    receives the notice: in its audience (`notice_audience`) and within its clearance."""
    if not viewers:
        return []
    if isinstance(notice, int):
        found = Notice.objects.filter(pk=notice).first()
        if found is None:  # a deleted draft reaches nobody
            return [False] * len(viewers)
        notice = found
    ids = {v.organisation_id for v in viewers if v.organisation_id is not None}
    reached = {r.organisation.pk for r in notice_audience(notice, among=ids) if not r.members}
    if notice.status in UNPUBLISHED_STATES:
        # A draft is its organisation's (and the secretariat's) business until published:
        # of those it would reach, only the issuer and the secretariat see it.
        reached &= {notice.issuer_id, *_secretariat_ids(ids)}
    return [
        v.organisation_id in reached and not TLP.above(notice.tlp, v.clearance) for v in viewers
    ]


def _secretariat_ids(ids: Iterable[int]) -> set[int]:
    secretariat = Organisation.objects.filter(pk__in=ids, kind=OrganisationKind.SECRETARIAT)
    return set(secretariat.values_list("pk", flat=True))
