"""`visible_ids_per_viewer` (one compiled query per shape of organisation, used by the
webhook fan-out and the delivery engine) answers exactly what each organisation's own
`visible_to` answers: every organisation of the test network × every cap × notices and
profiles of every label, audience scope and status, with an access grant in the mix."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from intel import accounts
from intel.models import TLP, DeviceProfile, Organisation
from intel.models.access import Grant, TargetType
from intel.visibility_bulk import visible_ids_per_viewer
from notices.models import AudienceScope, Notice, NoticeCountry, NoticeStatus
from notices.rendering import webhook_viewer
from tests.conftest import Network

LABELS = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]
CAPS = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT]


@pytest.fixture
def world(network: Network, make_profile: Any) -> list[Organisation]:
    n = network
    # A liaison post sponsoring an authority of another country: one more shape.
    liaison = accounts.organisation_create(
        slug="ua-liaison", name="Liaison post", kind="liaison_prosecutor", country="UA"
    )
    accounts.organisation_create(
        slug="ua-authority",
        name="Sponsored by the liaison post",
        kind="national_authority",
        country="MD",
        sponsor=liaison,
    )
    profiles = [
        make_profile(tlp=label, recipients=recipients)
        for label in LABELS
        for recipients in ([], [n.be_desk], [n.be_desk, liaison])
    ]
    notices = []
    for i, label in enumerate(LABELS):
        for scope in AudienceScope.values:
            for status in (NoticeStatus.DRAFT, NoticeStatus.PUBLISHED, NoticeStatus.WITHDRAWN):
                notice = Notice.objects.create(
                    reference=f"DIX-2026-{len(notices):06d}",
                    notice_type="alert",
                    title=f"{label} {scope} {status}",
                    issuer=[n.fr_desk, n.eurojust, n.be_desk][i % 3],
                    audience_scope=scope,
                    tlp=label,
                    status=status,
                )
                notice.profiles.set(profiles[i * 3 : i * 3 + 3])
                if scope == AudienceScope.ORGANISATIONS:
                    notice.audience_organisations.set([n.be_desk, liaison])
                if scope == AudienceScope.COUNTRIES:
                    NoticeCountry.objects.create(notice=notice, country="FR")
                notices.append(notice)
    in_a_year = timezone.now() + timedelta(days=365)
    Grant.objects.create(
        organisation=n.de_desk,
        target_type=TargetType.NOTICE,
        target_id=notices[-2].pk,
        expires_at=in_a_year,
    )
    Grant.objects.create(
        organisation=n.de_desk,
        target_type=TargetType.PROFILE,
        target_id=profiles[7].pk,
        expires_at=in_a_year,
    )
    return list(Organisation.objects.select_related("sponsor").order_by("pk"))


@pytest.mark.slow  # exhaustive: every organisation × cap × notice, each answer also alone
def test_per_viewer_answers_are_each_viewers_own(world: list[Organisation]) -> None:
    # Every cap in one call: viewers of different clearances must never share a query.
    viewers = [webhook_viewer(org, cap) for cap in CAPS for org in world]
    for notice in Notice.objects.all():

        def notice_query(v: Any, pk: int = notice.pk) -> Any:
            return (
                Notice.objects.visible_to(v).filter(pk=pk).order_by().values_list("pk", flat=True)
            )

        def profile_query(v: Any, pk: int = notice.pk) -> Any:
            return (
                DeviceProfile.objects.visible_to(v)
                .filter(notices=pk)
                .order_by()
                .values_list("pk", flat=True)
            )

        for query in (notice_query, profile_query):
            expected = [set(query(v)) for v in viewers]
            assert visible_ids_per_viewer(viewers, query) == expected, notice.title
    # The test sees something and hides something: it cannot pass on empty answers alone.
    seen = visible_ids_per_viewer(
        viewers, lambda v: Notice.objects.visible_to(v).order_by().values_list("pk", flat=True)
    )
    assert any(seen)
    assert not all(len(s) == Notice.objects.count() for s in seen)


def test_one_query_is_built_per_shape(world: list[Organisation]) -> None:
    """The point of it: hundreds of desks cost a few query builds, not one each."""
    desks = [o for o in world if o.kind == "national_desk"]
    built: list[Any] = []

    def query(viewer: Any) -> Any:
        built.append(viewer)
        return Notice.objects.visible_to(viewer).order_by().values_list("pk", flat=True)

    viewers = [webhook_viewer(org, TLP.AMBER) for org in desks * 20]
    answers = visible_ids_per_viewer(viewers, query)
    assert len(built) == 2  # the stand-in and the first desk, once for all 20 × desks
    assert answers == [set(query(v)) for v in viewers]


def test_a_saved_member_is_refused(network: Network) -> None:
    with pytest.raises(ValueError, match="organisation viewers"):
        visible_ids_per_viewer([network.bob], lambda v: Notice.objects.visible_to(v))


def test_kept_templates_answer_for_todays_data(world: list[Organisation], network: Network) -> None:
    """With a key, the next call builds nothing; its answers still follow the data (a grant
    given, then run out), since a template holds SQL and no values read at build time."""
    notice = Notice.objects.filter(tlp=TLP.AMBER, status=NoticeStatus.PUBLISHED).first()
    assert notice is not None
    viewers = [webhook_viewer(org, TLP.AMBER) for org in world]
    built: list[Any] = []

    def query(viewer: Any) -> Any:
        built.append(viewer)
        return (
            Notice.objects.visible_to(viewer)
            .filter(pk=notice.pk)
            .order_by()
            .values_list("pk", flat=True)
        )

    def direct() -> list[set[Any]]:
        return [
            set(Notice.objects.visible_to(v).filter(pk=notice.pk).values_list("pk", flat=True))
            for v in viewers
        ]

    key = ("test notice", notice.pk)
    first = visible_ids_per_viewer(viewers, query, key=key)
    assert first == direct()
    built.clear()
    de = viewers[[o.pk for o in world].index(network.de_desk.pk)]
    grant = Grant.objects.create(
        organisation=network.de_desk,
        target_type=TargetType.NOTICE,
        target_id=notice.pk,
        expires_at=timezone.now() + timedelta(days=1),
    )
    again = visible_ids_per_viewer(viewers, query, key=key)
    assert built == []
    assert again == direct()
    assert again != first
    assert again[viewers.index(de)] == {notice.pk}
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert visible_ids_per_viewer(viewers, query, key=key) == first == direct()


def test_a_template_whose_build_reads_the_database_is_not_kept(world: list[Organisation]) -> None:
    """What a build read could change: such a template serves its own call only."""
    viewers = [webhook_viewer(org, TLP.AMBER) for org in world if org.kind == "national_desk"]
    built: list[Any] = []

    def query(viewer: Any) -> Any:
        built.append(viewer)
        published = list(
            Notice.objects.filter(status=NoticeStatus.PUBLISHED).values_list("pk", flat=True)
        )
        return (
            Notice.objects.visible_to(viewer).filter(pk__in=published).values_list("pk", flat=True)
        )

    key = ("reads while building",)
    visible_ids_per_viewer(viewers, query, key=key)
    built.clear()
    visible_ids_per_viewer(viewers, query, key=key)
    assert len(built) == 2  # built again: the stand-in and the first desk
