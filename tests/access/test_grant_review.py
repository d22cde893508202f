"""Security review of the exchange's access grants: what an approval may hand out, and who a
grant reaches (DESIGN.md §4).

fr-desk (alice) owns the profiles and lets its analysts decide; de-desk members ask for them
through a GREEN notice that advertises restricted data.
"""

import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from intel import accounts, services
from intel.models import TLP, DeviceProfile, Member
from notices.rendering import webhook_viewer
from tests.conftest import Network
from tests.helpers.access import PROFILES, REQUESTS, analysts_decide, ask, problem, publish

Api = Callable[[Member | None], APIClient]
FORBIDDEN = "urn:dix:problem:permission-denied"
NOT_FOUND = "urn:dix:problem:not-found"
__all__ = ["analysts_decide"]  # a fixture used by name
pytestmark = pytest.mark.usefixtures("analysts_decide")


def member(network: Network, username: str, *, de: bool, clearance: str) -> Member:
    """An analyst of de-desk (the requester's side) or fr-desk (the owner's)."""
    org = network.de_desk if de else network.fr_desk
    return accounts.member_create(
        organisation=org, username=username, role="analyst", clearance=clearance
    )


def annex_upload() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("annex.png", buffer.getvalue(), content_type="image/png")


def test_an_approver_shares_only_what_they_may_read(
    network: Network, api: Api, make_profile: Callable[..., DeviceProfile]
) -> None:
    strict = make_profile(tlp=TLP.AMBER_STRICT, name="Strict source data")
    red = make_profile(tlp=TLP.RED, members=[network.alice], name="Red source data")
    notice = publish(network, api, profile_ids=[strict.pk, red.pk], restricted_data_available=True)
    fabien = member(network, "fabien", de=False, clearance=TLP.GREEN)  # owner's analyst
    rita = member(network, "rita", de=False, clearance=TLP.RED)  # owner's, not named on RED
    carl = member(network, "carl", de=True, clearance=TLP.RED)

    asked = ask(api(carl), "profile", strict.pk, via_notice=notice["id"]).json()
    # A decider who does not read the object answers as for any unseen object.
    refused = api(fabien).post(f"{REQUESTS}{asked['id']}/approve/", {}, format="json")
    assert problem(refused, 404)["type"] == NOT_FOUND
    assert api(carl).get(f"{PROFILES}{strict.pk}/").status_code == 404

    asked_red = ask(api(carl), "profile", red.pk, via_notice=notice["id"]).json()
    refused = api(rita).post(f"{REQUESTS}{asked_red['id']}/approve/", {}, format="json")
    assert problem(refused, 404)["type"] == NOT_FOUND
    assert api(carl).get(f"{PROFILES}{red.pk}/").status_code == 404
    assert api(carl).get(f"{REQUESTS}{asked_red['id']}/").json()["status"] == "pending"

    # Those who read the object still share it.
    for req, profile in ((asked, strict), (asked_red, red)):
        approved = api(network.alice).post(f"{REQUESTS}{req['id']}/approve/", {}, format="json")
        assert approved.status_code == 200, approved.content
        assert api(carl).get(f"{PROFILES}{profile.pk}/").status_code == 200


def test_attachments_beyond_the_approvers_clearance_are_not_shared_with_the_profile(
    network: Network, api: Api, make_profile: Callable[..., DeviceProfile]
) -> None:
    amber = make_profile(tlp=TLP.AMBER, name="Amber profile")
    services.attachment_add(
        profile_id=amber.pk,
        author=network.alice,
        kind="detection_protocol",
        title="Strict protocol",
        tlp=TLP.AMBER_STRICT,
        upload=annex_upload(),
    )
    notice = publish(network, api, profile_ids=[amber.pk], restricted_data_available=True)
    andre = member(network, "andre", de=False, clearance=TLP.AMBER)
    carl = member(network, "carl", de=True, clearance=TLP.AMBER_STRICT)
    req = ask(api(carl), "profile", amber.pk, via_notice=notice["id"]).json()
    url = f"{REQUESTS}{req['id']}/approve/"

    refused = api(andre).post(url, {"scope": "with_attachments"}, format="json")
    assert problem(refused, 403)["type"] == FORBIDDEN
    assert api(andre).post(url, {"scope": "object"}, format="json").status_code == 200
    assert api(carl).get(f"{PROFILES}{amber.pk}/").status_code == 200
    assert api(carl).get(f"{PROFILES}{amber.pk}/attachments/").json()["results"] == []


def test_a_grant_naming_a_member_stays_theirs_when_the_label_is_lowered(
    network: Network, api: Api, make_profile: Callable[..., DeviceProfile]
) -> None:
    red = make_profile(tlp=TLP.RED, members=[network.alice], name="Red, then strict")
    notice = publish(network, api, profile_ids=[red.pk], restricted_data_available=True)
    carla = member(network, "carla", de=True, clearance=TLP.RED)
    dirk = member(network, "dirk", de=True, clearance=TLP.RED)
    req = ask(api(carla), "profile", red.pk, via_notice=notice["id"]).json()
    assert api(network.alice).post(f"{REQUESTS}{req['id']}/approve/", {}).status_code == 200

    services.profile_update(
        profile_id=red.pk,
        author=network.alice,
        data=services.ProfileInput(fields={"tlp": TLP.AMBER_STRICT}),
        expected_version=None,
    )
    # The owner approved carla, not her desk: lowering RED does not hand it to her colleagues
    # nor to her desk's webhooks.
    assert api(carla).get(f"{PROFILES}{red.pk}/").status_code == 200
    assert api(dirk).get(f"{PROFILES}{red.pk}/").status_code == 404
    endpoint = webhook_viewer(network.de_desk, TLP.AMBER_STRICT)
    assert not DeviceProfile.objects.visible_to(endpoint).filter(pk=red.pk).exists()
