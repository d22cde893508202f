"""The TLP label helpers (`TLP.rank`, `at_most`, `above`, `stricter`, `cap`) and the `Viewer`
the visibility rule is asked for: a member, or any cleared member of an organisation."""

from collections.abc import Callable

import pytest

from intel.models import TLP, DeviceProfile, Member
from intel.visibility import Viewer
from notices.models import Notice
from notices.rendering import webhook_viewer
from tests.conftest import Network

ORDER = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]


def test_rank_follows_the_order_of_restriction() -> None:
    assert [TLP.rank(label) for label in ORDER] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("ceiling", ORDER)
def test_at_most_lists_the_labels_up_to_the_ceiling(ceiling: str) -> None:
    assert TLP.at_most(ceiling) == ORDER[: ORDER.index(ceiling) + 1]


def test_above_is_strictly_stricter() -> None:
    assert TLP.above(TLP.RED, TLP.AMBER_STRICT)
    assert TLP.above(TLP.AMBER, TLP.GREEN)
    assert not TLP.above(TLP.AMBER, TLP.AMBER)
    assert not TLP.above(TLP.CLEAR, TLP.GREEN)


def test_stricter_and_cap() -> None:
    assert TLP.stricter(TLP.GREEN, TLP.AMBER) == TLP.AMBER
    assert TLP.stricter(TLP.RED, TLP.CLEAR) == TLP.RED
    assert TLP.stricter(TLP.AMBER, TLP.AMBER) == TLP.AMBER
    assert TLP.cap(TLP.RED, TLP.AMBER_STRICT) == TLP.AMBER_STRICT
    assert TLP.cap(TLP.GREEN, TLP.AMBER_STRICT) == TLP.GREEN
    assert TLP.cap(TLP.AMBER, TLP.AMBER) == TLP.AMBER


def test_an_unknown_label_is_refused() -> None:
    with pytest.raises(ValueError, match="TLP:WHITE"):
        TLP.rank("TLP:WHITE")


def test_viewer_of_a_member(network: Network) -> None:
    viewer = Viewer.of(network.bob)
    assert viewer.member == network.bob
    assert viewer.member_id == network.bob.pk
    assert viewer.organisation == network.bob.organisation
    assert viewer.organisation_id == network.bob.organisation_id
    assert viewer.clearance == network.bob.clearance
    assert Viewer.of(viewer) is viewer


def test_an_unsaved_member_views_as_its_organisation(network: Network) -> None:
    viewer = Viewer.of(Member(organisation=network.fr_desk, clearance=TLP.AMBER))
    assert viewer == Viewer.of_organisation(network.fr_desk, TLP.AMBER)
    assert viewer.member is None
    assert viewer.member_id is None
    assert not viewer.is_secretariat_coordinator


def test_organisation_ids_read_the_sponsor_only_when_asked(network: Network) -> None:
    authority = network.be_customs
    viewer = Viewer.of_organisation(authority, TLP.AMBER)
    assert viewer.organisation_ids(with_sponsor=False) == [authority.pk]
    assert viewer.organisation_ids(with_sponsor=True) == [authority.pk, authority.sponsor_id]
    desk = Viewer.of_organisation(network.fr_desk, TLP.AMBER)
    assert desk.organisation_ids(with_sponsor=True) == [network.fr_desk.pk]
    assert Viewer(organisation=None, clearance=TLP.RED).organisation_ids(with_sponsor=True) == []


def test_a_viewer_without_a_member_is_named_nowhere(
    network: Network, make_profile: Callable[..., DeviceProfile]
) -> None:
    """TLP:RED reaches named members only: the organisation's viewer never sees it, even
    where its members are named; the named member does."""
    red = make_profile(tlp=TLP.RED)  # filed by alice of fr-desk, who is named by it
    amber = make_profile(tlp=TLP.AMBER)
    org_viewer = Viewer.of_organisation(network.fr_desk, TLP.RED)
    seen = set(DeviceProfile.objects.visible_to(org_viewer).values_list("pk", flat=True))
    assert amber.pk in seen
    assert red.pk not in seen
    assert DeviceProfile.objects.visible_to(network.alice).filter(pk=red.pk).exists()


def test_a_viewer_sees_what_its_member_sees_at_the_same_clearance(
    network: Network, make_profile: Callable[..., DeviceProfile]
) -> None:
    for label in ORDER:
        make_profile(tlp=label, recipients=[network.be_desk])
    for member in (network.alice, network.bob, network.charlie, network.dave, network.erin):
        as_member = set(DeviceProfile.objects.visible_to(member).values_list("pk", flat=True))
        as_viewer = set(
            DeviceProfile.objects.visible_to(Viewer.of(member)).values_list("pk", flat=True)
        )
        assert as_member == as_viewer
        notices_member = set(Notice.objects.visible_to(member).values_list("pk", flat=True))
        notices_viewer = set(
            Notice.objects.visible_to(Viewer.of(member)).values_list("pk", flat=True)
        )
        assert notices_member == notices_viewer


def test_webhook_viewer_caps_the_clearance_below_red(network: Network) -> None:
    assert webhook_viewer(network.fr_desk, TLP.RED).clearance == TLP.AMBER_STRICT
    assert webhook_viewer(network.fr_desk, TLP.GREEN).clearance == TLP.GREEN
    assert webhook_viewer(network.fr_desk, TLP.GREEN).member is None
