"""factory-boy factories for rows that are not a test's subject: an organisation, a member, a
token, a profile, a notice or a subscription with every field a test does not care about filled.

Each factory creates through the service the API uses (`_create`), so the rows are as the API
would leave them (audit events, revisions, reference numbers) and the services' checks hold.
Pass any field to override it: `MemberFactory(role="analyst", clearance=TLP.RED)`.
"""

from typing import Any

import factory

from intel import accounts, services
from intel.models import TLP, ApiToken, DeviceProfile, Member, Organisation
from notices import services as notice_services
from notices.models import AudienceScope, Notice
from webhooks import services as webhook_services
from webhooks.models import Subscription


class OrganisationFactory(factory.django.DjangoModelFactory):
    """A national desk; `secretariat=True` for the secretariat, `authority=True` for a
    national authority sponsored by a new desk (or `sponsor=`)."""

    class Meta:
        model = Organisation

    class Params:
        secretariat = factory.Trait(kind="secretariat", country="")
        authority = factory.Trait(
            kind="national_authority",
            sponsor=factory.SubFactory("tests.factories.OrganisationFactory"),
        )

    slug = factory.Sequence(lambda n: f"desk-{n}")
    name = factory.LazyAttribute(lambda o: f"Desk {o.slug}")
    kind = "national_desk"
    country = "FR"
    sponsor = None

    @classmethod
    def _create(cls, model_class: type[Organisation], **fields: Any) -> Organisation:
        return accounts.organisation_create(**fields)


class MemberFactory(factory.django.DjangoModelFactory):
    """A desk officer cleared for TLP:AMBER in a new desk; without `password`, tokens only."""

    class Meta:
        model = Member

    organisation = factory.SubFactory(OrganisationFactory)
    username = factory.Sequence(lambda n: f"member-{n}")
    role = "desk_officer"
    clearance = TLP.AMBER

    @classmethod
    def _create(cls, model_class: type[Member], **fields: Any) -> Member:
        return accounts.member_create(**fields)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """An issued token; its clear value is on the returned row as `.secret` (tests only)."""

    class Meta:
        model = ApiToken

    member = factory.SubFactory(MemberFactory)
    name = "test"

    @classmethod
    def _create(cls, model_class: type[ApiToken], **fields: Any) -> ApiToken:
        issued = accounts.token_issue(**fields)
        issued.token.secret = issued.secret  # type: ignore[attr-defined]
        return issued.token


class DeviceProfileFactory(factory.django.DjangoModelFactory):
    """A TLP:AMBER mini phone filed by an analyst (cleared for RED) of a new desk. Relations
    go as `recipient_organisations=[…]`, `recipient_members=[…]`, `identifiers=[…]`."""

    class Meta:
        model = DeviceProfile

    author = factory.SubFactory(MemberFactory, role="analyst", clearance=TLP.RED)
    name = factory.Sequence(lambda n: f"Mini phone {n}")
    device_class = "mini_phone"
    tlp = TLP.AMBER

    @classmethod
    def _create(cls, model_class: type[DeviceProfile], **fields: Any) -> DeviceProfile:
        author = fields.pop("author")
        relations = {
            name: fields.pop(name)
            for name in ("recipient_organisations", "recipient_members", "identifiers")
            if name in fields
        }
        return services.profile_create(
            author=author, data=services.ProfileInput(fields=fields, **relations)
        )


class NoticeFactory(factory.django.DjangoModelFactory):
    """A TLP:GREEN alert to the whole network, drafted by an analyst of a new desk; with
    `published=True`, published by a coordinator of that desk (or `publisher=`). Profiles go
    as `profiles=[…]`."""

    class Meta:
        model = Notice

    author = factory.SubFactory(MemberFactory, role="analyst", clearance=TLP.RED)
    published = False
    publisher = None
    notice_type = "alert"
    title = factory.Sequence(lambda n: f"Mini phones in prisons ({n})")
    summary = "Low-metal mini phones pass walk-through detectors."
    body = "Seen in three prisons."
    action_requested = "Check your prisons."
    audience_scope = AudienceScope.NETWORK
    tlp = TLP.GREEN

    @classmethod
    def _create(
        cls,
        model_class: type[Notice],
        *,
        published: bool = False,
        publisher: Member | None = None,
        **fields: Any,
    ) -> Notice:
        author = fields.pop("author")
        profiles = fields.pop("profiles", None)
        notice = notice_services.notice_create_draft(
            author=author, data=notice_services.NoticeInput(fields=fields, profiles=profiles)
        )
        if not published:
            return notice
        if publisher is None:
            publisher = MemberFactory(
                organisation=author.organisation, role="coordinator", clearance=TLP.RED
            )
        return notice_services.notice_publish(notice_id=notice.pk, author=publisher)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An endpoint of a new desk for `notice.*` events on a public address; its signing
    secret is on the returned row as `.secret` (tests only)."""

    class Meta:
        model = Subscription

    member = factory.SubFactory(MemberFactory)
    url = factory.Sequence(lambda n: f"https://8.8.8.8/dix/hooks/{n}")
    event_types = factory.LazyFunction(lambda: ["notice.published", "notice.updated"])

    @classmethod
    def _create(cls, model_class: type[Subscription], **fields: Any) -> Subscription:
        member = fields.pop("member")
        issued = webhook_services.subscription_create(member=member, fields=fields)
        issued.subscription.secret = issued.secret  # type: ignore[attr-defined]
        return issued.subscription
