"""The network the page walk (`test_every_page.py`) walks: profiles of every label (RED with a
named member, retired, revised, with attachments), notices in every state to several
audiences, access requests, seizure reports, webhook endpoints (one deleted, with deliveries),
API tokens and an invitation link, all made through the HTTP API or the services, as a desk
would. Each object's title is a marker no other title contains, so a page that shows an object
its reader may not see is caught by its title."""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, DeviceProfile, Member
from portal.invitations import invitation_link
from tests.conftest import Network
from tests.factories import ApiTokenFactory, SubscriptionFactory
from webhooks import services as webhook_services
from webhooks.models import Delivery, Subscription

PERSONAS = ("cora", "audrey", "alice", "olga", "bob", "charlie", "dave", "erin")
MISSING = 999999

# The API's detail of each kind of object the portal's URLs name by id (tokens have none:
# a member's own tokens are the API's list).
API_DETAIL = {
    "notice": "/api/v1/notices/{}/",
    "profile": "/api/v1/profiles/{}/",
    "subscription": "/api/v1/subscriptions/{}/",
    "seizure": "/api/v1/seizures/{}/",
    "access_request": "/api/v1/access-requests/{}/",
}


@dataclass
class World:
    network: Network
    # kind → marker (the object's title) → id
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    # (subscription id, delivery id) pairs
    deliveries: list[tuple[int, int]] = field(default_factory=list)
    invitation: str = ""
    clients: dict[str, APIClient] = field(default_factory=dict)
    make_client: Callable[[Member | None], APIClient] | None = None

    def api(self, member: Member) -> APIClient:
        """One API client per member (each new client issues a token)."""
        if member.username not in self.clients:
            assert self.make_client is not None
            self.clients[member.username] = self.make_client(member)
        return self.clients[member.username]

    def add(self, kind: str, marker: str, pk: int) -> int:
        self.ids.setdefault(kind, {})[marker] = pk
        return pk

    def of(self, kind: str) -> dict[str, int]:
        return self.ids.get(kind, {})

    def markers(self) -> dict[str, tuple[str, int]]:
        """Every marker with its object's kind and id."""
        return {m: (kind, pk) for kind, rows in self.ids.items() for m, pk in rows.items()}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("device.png", buffer.getvalue(), content_type="image/png")


def _profiles(world: World, make_profile: Callable[..., DeviceProfile]) -> None:
    net = world.network
    for marker, fields in {
        "Walk green phone": {"tlp": TLP.GREEN},
        "Walk amber annex": {"tlp": TLP.AMBER, "recipients": [net.be_desk]},
        "Walk strict case": {"tlp": TLP.AMBER_STRICT, "recipients": [net.be_desk]},
        "Walk red protocol": {"tlp": TLP.RED, "members": [net.bob]},
        "Walk private unit": {"tlp": TLP.AMBER},
        "Walk retired model": {"tlp": TLP.GREEN},
        "Walk secretariat kit": {"tlp": TLP.AMBER, "author": net.cora},
    }.items():
        world.add("profile", marker, make_profile(name=marker, **fields).pk)
    alice = world.api(net.alice)
    green, amber = world.of("profile")["Walk green phone"], world.of("profile")["Walk amber annex"]
    etag = alice.get(f"/api/v1/profiles/{green}/")["ETag"]
    ok(
        alice.patch(
            f"/api/v1/profiles/{green}/",
            {"notes": "Seen in three prisons."},
            format="json",
            headers={"If-Match": etag},
        )
    )
    retired = world.of("profile")["Walk retired model"]
    ok(alice.post(f"/api/v1/profiles/{retired}/retire/", {"reason": "Duplicate."}, format="json"))
    for pk, title in ((green, "Walk photo green"), (amber, "Walk photo amber")):
        body = {"file": png(), "kind": "photo", "title": title}
        added = ok(alice.post(f"/api/v1/profiles/{pk}/attachments/", body, format="multipart"), 201)
        world.add("attachment", title, added["id"])


def _notices(world: World) -> None:
    net = world.network
    felix = accounts.member_create(
        organisation=net.fr_desk, username="felix", role="coordinator", clearance=TLP.RED
    )
    alice, publisher = world.api(net.alice), world.api(felix)
    profiles = world.of("profile")

    def draft(title: str, **fields: Any) -> int:
        body = {"type": "alert", "title": title, "tlp": TLP.GREEN, "summary": "Check."} | fields
        return world.add(
            "notice", title, ok(alice.post("/api/v1/notices/", body, format="json"), 201)["id"]
        )

    def published(title: str, **fields: Any) -> int:
        pk = draft(title, **fields)
        ok(publisher.post(f"/api/v1/notices/{pk}/publish/"))
        return pk

    published(
        "Walk network alert",
        profile_ids=[
            profiles["Walk green phone"],
            profiles["Walk amber annex"],
            profiles["Walk strict case"],
            profiles["Walk private unit"],
        ],
        restricted_data_available=True,
    )
    published(
        "Walk belgian bulletin",
        tlp=TLP.AMBER,
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    published("Walk red briefing", tlp=TLP.RED, audience={"members": ["audrey", "felix"]})
    published("Walk german request", audience={"scope": "countries", "countries": ["DE"]})
    withdrawn = published("Walk withdrawn alert")
    ok(
        publisher.post(
            f"/api/v1/notices/{withdrawn}/withdraw/", {"reason": "Wrong."}, format="json"
        )
    )
    draft("Walk draft memo")
    submitted = draft("Walk submitted memo")
    ok(alice.post(f"/api/v1/notices/{submitted}/submit/"))


def _access_requests(world: World) -> None:
    net = world.network
    charlie = world.api(net.charlie)
    via = world.of("notice")["Walk network alert"]
    for marker, profile in (
        ("Walk purpose open", "Walk amber annex"),
        ("Walk purpose withdrawn", "Walk private unit"),
    ):
        body = {
            "target_type": "profile",
            "target_id": world.of("profile")[profile],
            "via_notice": via,
            "purpose": marker,
            "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
            "case_reference": "DE-2025-0042",
            "days": 30,
        }
        world.add(
            "access_request",
            marker,
            ok(charlie.post("/api/v1/access-requests/", body, format="json"), 201)["id"],
        )
    withdrawn = world.of("access_request")["Walk purpose withdrawn"]
    ok(charlie.post(f"/api/v1/access-requests/{withdrawn}/withdraw/", {}, format="json"))


def _seizures(world: World) -> None:
    net = world.network
    profiles = world.of("profile")
    for member, marker, tlp, line in (
        (net.olga, "Walk operation Alpha", TLP.GREEN, profiles["Walk green phone"]),
        (net.bob, "Walk operation Bravo", TLP.AMBER, profiles["Walk amber annex"]),
        (net.alice, "Walk operation Cobalt", TLP.AMBER_STRICT, None),
        (net.charlie, "Walk operation Delta", TLP.AMBER, None),
    ):
        body = {
            "seized_on": "2025-05-20",
            "facility_type": "prison",
            "detection_method": "targeted_cell_search",
            "operation": marker,
            "notes": "Cells searched.",
            "tlp": tlp,
            "lines": [
                {"profile": line, "quantity": 4}
                if line
                else {"item_type": "other_mobile_phone", "quantity": 2}
            ],
        }
        world.add(
            "seizure",
            marker,
            ok(world.api(member).post("/api/v1/seizures/", body, format="json"), 201)["id"],
        )


def _subscriptions(world: World) -> None:
    net = world.network
    for member, marker in (
        (net.alice, "Walk french hook"),
        (net.bob, "Walk belgian hook"),
        (net.cora, "Walk secretariat hook"),
        (net.alice, "Walk deleted hook"),
    ):
        sub = SubscriptionFactory(
            member=member,
            description=marker,
            event_types=["notice.published", "notice.updated", "notice.withdrawn"],
        )
        world.add("subscription", marker, sub.pk)
    deleted = world.of("subscription")["Walk deleted hook"]
    webhook_services.subscription_delete(
        subscription=Subscription.objects.get(pk=deleted), member=net.alice
    )


def _tokens(world: World) -> None:
    for member in (world.network.alice, world.network.bob):
        token = ApiTokenFactory(member=member, name=f"Walk token {member.username}")
        world.add("token", token.name, token.pk)


def build(
    network: Network,
    api: Callable[[Member | None], APIClient],
    make_profile: Callable[..., DeviceProfile],
) -> World:
    world = World(network=network, make_client=api)
    _tokens(world)
    _profiles(world, make_profile)
    _subscriptions(world)  # before the notices: publishing fills their delivery logs
    _notices(world)
    _access_requests(world)
    _seizures(world)
    world.deliveries = list(Delivery.objects.order_by("pk").values_list("subscription_id", "pk"))
    assert world.deliveries, "publishing fills the endpoints' delivery logs"
    # For a member who never signs in: signing in ends a member's invitation links.
    newcomer = accounts.member_create(
        organisation=network.be_desk, username="nina", role="desk_officer", clearance=TLP.GREEN
    )
    world.invitation = "/" + invitation_link(newcomer).split("/", 3)[3]
    return world


@pytest.fixture
def world(network: Network, api: Any, make_profile: Any) -> World:
    return build(network, api, make_profile)
