"""The world of the audit-trail tests (docs/audit.md) and what they check each event with.

Personas are those of tests/conftest.py; felix is a fr-desk coordinator (publishes fr-desk's
notices) and root a platform superuser (the admin).
"""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image
from rest_framework.test import APIClient

from intel import accounts, audit
from intel.models import (
    TLP,
    AuditEvent,
    DeviceProfile,
    Member,
)
from tests.conftest import Network
from tests.helpers.receiver import Receiver
from webhooks import services as webhook_services
from webhooks.models import Subscription

Api = Callable[[Member | None], APIClient]
ADDRESS = "127.0.0.1"  # what the test clients send as REMOTE_ADDR
PROFILES = "/api/v1/profiles/"
NOTICES = "/api/v1/notices/"
SUBSCRIPTIONS = "/api/v1/subscriptions/"
AUDIT = "/api/v1/audit/"
LABELS = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)


# --- the world of these tests ---------------------------------------------------------------


@dataclass
class World:
    net: Network
    api: Api
    make_profile: Callable[..., DeviceProfile]
    felix: Member
    root: Member
    receiver: Receiver
    clients: dict[int, APIClient] = field(default_factory=dict)

    def client(self, member: Member) -> APIClient:
        """One client (one token, one `token.issued` event) per member and test."""
        if member.pk not in self.clients:
            self.clients[member.pk] = self.api(member)
        return self.clients[member.pk]

    def profile(self, tlp: str = TLP.AMBER, **fields: Any) -> DeviceProfile:
        members = [self.net.alice, self.net.audrey] if tlp == TLP.RED else []
        return self.make_profile(tlp=tlp, recipients=[self.net.be_desk], members=members, **fields)

    def draft(self, author: Member | None = None, **fields: Any) -> int:
        body = {
            "type": "alert",
            "title": "Mini phones in prisons",
            "summary": "Low-metal mini phones pass walk-through detectors.",
            "body": "Seen in three prisons.",
            "action_requested": "Check your prisons.",
            "audience": {"scope": "network"},
            "tlp": TLP.GREEN,
        } | fields
        response = self.client(author or self.net.alice).post(NOTICES, body, format="json")
        assert response.status_code == 201, response.content
        return int(response.json()["id"])

    def published(self, **fields: Any) -> int:
        notice_id = self.draft(**fields)
        response = self.client(self.felix).post(f"{NOTICES}{notice_id}/publish/")
        assert response.status_code == 200, response.content
        return notice_id

    def subscription(self, member: Member | None = None) -> Subscription:
        issued = webhook_services.subscription_create(
            member=member or self.net.bob,
            fields={"url": self.receiver.url("audit"), "event_types": ["notice.published"]},
        )
        self.receiver.register("audit", issued.secret)
        return issued.subscription

    def admin_client(self) -> Client:
        client = Client()
        client.force_login(self.root)
        return client


@pytest.fixture
def world(
    network: Network, api: Api, make_profile: Callable[..., DeviceProfile]
) -> Iterator[World]:
    felix = accounts.member_create(
        organisation=network.fr_desk, username="felix", role="coordinator", clearance=TLP.RED
    )
    root = accounts.member_create(
        organisation=network.eurojust,
        username="root",
        role="admin",
        clearance=TLP.RED,
        is_staff=True,
    )
    root.is_superuser = True
    root.save()
    receiver = Receiver()
    try:
        with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
            yield World(network, api, make_profile, felix, root, receiver)
    finally:
        receiver.close()


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("device.png", buffer.getvalue(), content_type="image/png")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json() if response.get("Content-Type", "").endswith("json") else None


def last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_after(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))


# --- every audited action leaves exactly one event -------------------------------------------


@dataclass
class Expect:
    action: str
    actor: Member | None
    object_type: str
    object_id: Any
    tlp: str = ""
    address: str | None = ADDRESS


# Each case prepares its world (what it records there is not counted) and returns the action
# itself, which returns what the one event it leaves must say.
Case = Callable[[World], Callable[[], Expect]]


def assert_exactly_one_event(world: World, case: Case) -> None:
    """Runs `case` in `world` and checks the one event it leaves, and that the chain holds."""
    act = case(world)
    mark = last_id()
    expect = act()
    new = events_after(mark)
    assert [e.action for e in new] == [expect.action]
    event = new[0]
    actor = expect.actor
    org = actor.organisation if actor else None
    assert (event.actor_id, event.actor_username) == (
        (actor.pk, actor.username) if actor else (None, "")
    )
    assert (event.organisation_id, event.organisation_slug) == (
        (org.pk, org.slug) if org else (None, "")
    )
    assert (event.object_type, event.object_id) == (expect.object_type, str(expect.object_id))
    assert event.object_tlp == expect.tlp
    assert event.client_address == expect.address
    assert audit.verify() == (AuditEvent.objects.count(), None)


def chain_of(n: int) -> list[AuditEvent]:
    """`n` test events appended to the trail."""
    return [audit.record(action="test.event", actor=None, detail={"n": i}) for i in range(n)]
