"""The audit trail (docs/audit.md): every audited action leaves exactly one event, with who,
which organisation, what object and label, and from which address; restricted detail reads
are recorded and lower ones are not; the hash chain shows any changed or deleted row; nothing
in the application changes or deletes an event; `/api/v1/audit/` is for auditors only; and
retention deletes what is old, keeps what is recent, and never touches the trail.

Personas are those of tests/conftest.py; felix is a fr-desk coordinator (publishes fr-desk's
notices) and root a platform superuser (the admin).
"""

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from access.tasks import end_expired_grants
from intel import accounts, audit, services
from intel.models import (
    TLP,
    AccessRequest,
    ApiToken,
    AuditEvent,
    DeviceProfile,
    Grant,
    Member,
    Organisation,
)
from intel.models.audit import GENESIS, canonical_json
from notices.models import Notice
from operations import retention
from tests.conftest import Network
from tests.notices.receiver import Receiver
from webhooks import services as webhook_services
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription

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
            "audience_scope": "network",
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


def profile_created(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.alice)

    def act() -> Expect:
        body = {
            "name": "L8star",
            "device_class": "mini_phone",
            "tlp": TLP.AMBER,
            "recipient_organisations": ["be-desk"],
        }
        created = ok(client.post(PROFILES, body, format="json"), 201)
        return Expect("profile.created", w.net.alice, "profile", created["id"], TLP.AMBER)

    return act


def profile_updated(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER_STRICT)
    client = w.client(w.net.alice)
    etag = client.get(f"{PROFILES}{profile.pk}/")["ETag"]

    def act() -> Expect:
        ok(
            client.patch(
                f"{PROFILES}{profile.pk}/", {"weight_g": "18.5"}, format="json", HTTP_IF_MATCH=etag
            )
        )
        return Expect("profile.updated", w.net.alice, "profile", profile.pk, TLP.AMBER_STRICT)

    return act


def profile_retired(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.GREEN)
    client = w.client(w.net.alice)

    def act() -> Expect:
        ok(client.post(f"{PROFILES}{profile.pk}/retire/", {"reason": "Duplicate."}, format="json"))
        return Expect("profile.retired", w.net.alice, "profile", profile.pk, TLP.GREEN)

    return act


def attachment_added(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    client = w.client(w.net.alice)

    def act() -> Expect:
        data = {"file": png(), "kind": "photo", "title": "Front", "tlp": TLP.RED}
        body = ok(
            client.post(f"{PROFILES}{profile.pk}/attachments/", data, format="multipart"), 201
        )
        return Expect("attachment.added", w.net.alice, "attachment", body["id"], TLP.RED)

    return act


def notice_drafted(w: World) -> Callable[[], Expect]:
    w.client(w.net.alice)  # the token (and its event) before the count

    def act() -> Expect:
        notice_id = w.draft(
            tlp=TLP.AMBER, audience_scope="organisations", audience_organisations=["be-desk"]
        )
        return Expect("notice.drafted", w.net.alice, "notice", notice_id, TLP.AMBER)

    return act


def notice_draft_edited(w: World) -> Callable[[], Expect]:
    notice_id = w.draft()
    client = w.client(w.net.alice)

    def act() -> Expect:
        ok(client.patch(f"{NOTICES}{notice_id}/", {"title": "Thumb phones"}, format="json"))
        return Expect("notice.draft_edited", w.net.alice, "notice", notice_id, TLP.GREEN)

    return act


def notice_published(w: World) -> Callable[[], Expect]:
    notice_id = w.draft()
    client = w.client(w.felix)

    def act() -> Expect:
        ok(client.post(f"{NOTICES}{notice_id}/publish/"))
        return Expect("notice.published", w.felix, "notice", notice_id, TLP.GREEN)

    return act


def notice_updated(w: World) -> Callable[[], Expect]:
    notice_id = w.published()
    client = w.client(w.felix)

    def act() -> Expect:
        body = {"change_note": "Adds X-ray advice.", "body": "X-ray shows the battery."}
        ok(client.post(f"{NOTICES}{notice_id}/update/", body, format="json"))
        return Expect("notice.updated", w.felix, "notice", notice_id, TLP.GREEN)

    return act


def notice_withdrawn(w: World) -> Callable[[], Expect]:
    notice_id = w.published()
    client = w.client(w.felix)

    def act() -> Expect:
        ok(client.post(f"{NOTICES}{notice_id}/withdraw/", {"reason": "In error."}, format="json"))
        return Expect("notice.withdrawn", w.felix, "notice", notice_id, TLP.GREEN)

    return act


def notice_superseded(w: World) -> Callable[[], Expect]:
    old, new = w.published(), w.published()
    client = w.client(w.felix)

    def act() -> Expect:
        body = {"superseded_by": new}
        ok(client.post(f"{NOTICES}{old}/supersede/", body, format="json"))
        return Expect("notice.superseded", w.felix, "notice", old, TLP.GREEN)

    return act


def notice_acknowledged(w: World) -> Callable[[], Expect]:
    notice_id = w.published()
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.post(f"{NOTICES}{notice_id}/acknowledge/"))
        return Expect("notice.acknowledged", w.net.bob, "notice", notice_id, TLP.GREEN)

    return act


def subscription_created(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.bob)

    def act() -> Expect:
        body = {"url": w.receiver.url("new"), "event_types": ["notice.published"]}
        created = ok(client.post(SUBSCRIPTIONS, body, format="json"), 201)
        return Expect("subscription.created", w.net.bob, "subscription", created["id"])

    return act


def subscription_updated(w: World) -> Callable[[], Expect]:
    sub = w.subscription()
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.patch(f"{SUBSCRIPTIONS}{sub.pk}/", {"enabled": False}, format="json"))
        return Expect("subscription.updated", w.net.bob, "subscription", sub.pk)

    return act


def subscription_secret_rotated(w: World) -> Callable[[], Expect]:
    sub = w.subscription()
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.post(f"{SUBSCRIPTIONS}{sub.pk}/rotate-secret/"))
        return Expect("subscription.secret_rotated", w.net.bob, "subscription", sub.pk)

    return act


def subscription_tested(w: World) -> Callable[[], Expect]:
    sub = w.subscription()
    client = w.client(w.net.bob)

    def act() -> Expect:
        assert ok(client.post(f"{SUBSCRIPTIONS}{sub.pk}/test/"))["succeeded"] is True
        return Expect("subscription.tested", w.net.bob, "subscription", sub.pk)

    return act


def delivery_resent(w: World) -> Callable[[], Expect]:
    sub = w.subscription()
    failed = Delivery.objects.create(
        subscription=sub, event_type="dix.test", state=DeliveryState.FAILED, attempts=1
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.post(f"{SUBSCRIPTIONS}{sub.pk}/deliveries/{failed.pk}/resend/"))
        return Expect("delivery.resent", w.net.bob, "delivery", failed.pk)

    return act


def deliveries_recovered(w: World) -> Callable[[], Expect]:
    sub = w.subscription()
    Delivery.objects.create(subscription=sub, event_type="dix.test", state=DeliveryState.FAILED)
    client = w.client(w.net.bob)

    def act() -> Expect:
        since = (timezone.now() - timedelta(hours=1)).isoformat()
        assert (
            ok(client.post(f"{SUBSCRIPTIONS}{sub.pk}/recover/", {"since": since}, format="json"))[
                "requeued"
            ]
            == 1
        )
        return Expect("subscription.deliveries_recovered", w.net.bob, "subscription", sub.pk)

    return act


def subscription_disabled_automatically(w: World) -> Callable[[], Expect]:
    sub = w.subscription()

    def act() -> Expect:
        # What the delivery engine calls on a 410 Gone or after days of failures.
        webhook_services.subscription_disable(subscription=sub, reason="410 Gone.")
        return Expect("subscription.disabled", None, "subscription", sub.pk, address=None)

    return act


def token_issued(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.charlie)

    def act() -> Expect:
        created = ok(client.post("/api/v1/tokens/", {"name": "script"}, format="json"), 201)
        return Expect("token.issued", w.net.charlie, "token", created["id"])

    return act


def token_revoked(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.charlie)
    spare = accounts.token_issue(member=w.net.charlie, name="spare").token

    def act() -> Expect:
        assert client.delete(f"/api/v1/tokens/{spare.pk}/").status_code == 204
        return Expect("token.revoked", w.net.charlie, "token", spare.pk)

    return act


def token_issued_by_command(w: World) -> Callable[[], Expect]:
    def act() -> Expect:
        call_command(
            "issue_token", "charlie", "--name", "cron", stdout=io.StringIO(), stderr=io.StringIO()
        )
        token = ApiToken.objects.get(member=w.net.charlie, name="cron")
        return Expect("token.issued", None, "token", token.pk, address=None)

    return act


def token_revoked_in_admin(w: World) -> Callable[[], Expect]:
    token = accounts.token_issue(member=w.net.charlie, name="leaked").token
    client = w.admin_client()

    def act() -> Expect:
        body = {"action": "revoke_tokens", "_selected_action": [token.pk]}
        assert client.post("/admin/intel/apitoken/", body).status_code == 302
        return Expect("token.revoked", w.root, "token", token.pk)

    return act


def organisation_created_by_command(w: World) -> Callable[[], Expect]:
    def act() -> Expect:
        call_command(
            "create_organisation",
            "pl-desk",
            "Polish Desk",
            "--kind",
            "national_desk",
            "--country",
            "PL",
            stdout=io.StringIO(),
        )
        org = Organisation.objects.get(slug="pl-desk")
        return Expect("organisation.created", None, "organisation", org.pk, address=None)

    return act


def organisation_created_in_admin(w: World) -> Callable[[], Expect]:
    client = w.admin_client()

    def act() -> Expect:
        body = {
            "slug": "nl-desk",
            "name": "Dutch Desk",
            "kind": "national_desk",
            "country": "NL",
            "created_at_0": "2026-11-20",
            "created_at_1": "10:00:00",
        }
        response = client.post("/admin/intel/organisation/add/", body)
        assert response.status_code == 302, response.content
        org = Organisation.objects.get(slug="nl-desk")
        return Expect("organisation.created", w.root, "organisation", org.pk)

    return act


def organisation_deleted_in_admin(w: World) -> Callable[[], Expect]:
    org = accounts.organisation_create(
        slug="lu-desk", name="Luxembourg Desk", kind="national_desk", country="LU"
    )
    client = w.admin_client()

    def act() -> Expect:
        response = client.post(f"/admin/intel/organisation/{org.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302, response.content
        assert not Organisation.objects.filter(pk=org.pk).exists()
        return Expect("organisation.deleted", w.root, "organisation", org.pk)

    return act


def organisation_entitlements_changed_in_admin(w: World) -> Callable[[], Expect]:
    client = w.admin_client()
    de = w.net.de_desk

    def act() -> Expect:
        body = {
            "slug": "de-desk",
            "name": "German Desk",
            "kind": "national_authority",
            "sponsor": w.net.fr_desk.pk,
            "country": "DE",
            "created_at_0": "2026-11-20",
            "created_at_1": "10:00:00",
        }
        response = client.post(f"/admin/intel/organisation/{de.pk}/change/", body)
        assert response.status_code == 302, response.content
        return Expect("organisation.entitlements_changed", w.root, "organisation", de.pk)

    return act


def member_created_by_command(w: World) -> Callable[[], Expect]:
    def act() -> Expect:
        call_command(
            "create_member",
            "piotr",
            "--organisation",
            "de-desk",
            "--role",
            "analyst",
            "--clearance",
            TLP.AMBER,
            stdout=io.StringIO(),
        )
        member = Member.objects.get(username="piotr")
        return Expect("member.created", None, "member", member.pk, address=None)

    return act


def member_created_in_admin(w: World) -> Callable[[], Expect]:
    client = w.admin_client()

    def act() -> Expect:
        body = {"username": "newbie", "usable_password": "false"}
        response = client.post("/admin/intel/member/add/", body)
        assert response.status_code == 302, response.content
        member = Member.objects.get(username="newbie")
        return Expect("member.created", w.root, "member", member.pk)

    return act


def retention_run(w: World) -> Callable[[], Expect]:
    def act() -> Expect:
        call_command("retention", stdout=io.StringIO())
        return Expect("retention.run", None, "", "", address=None)

    return act


# Restricted detail reads (each of an AMBER+ object).


def profile_read(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{PROFILES}{profile.pk}/"))
        return Expect("profile.read", w.net.bob, "profile", profile.pk, TLP.AMBER)

    return act


def revision_read(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.RED)
    client = w.client(w.net.audrey)

    def act() -> Expect:
        ok(client.get(f"{PROFILES}{profile.pk}/revisions/1/"))
        return Expect("profile.revision_read", w.net.audrey, "profile", profile.pk, TLP.RED)

    return act


def attachment_read(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    attachment = services.attachment_add(
        profile_id=profile.pk, author=w.net.alice, kind="photo", title="x", tlp=None, upload=png()
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{PROFILES}{profile.pk}/attachments/{attachment.pk}/"))
        return Expect("attachment.read", w.net.bob, "attachment", attachment.pk, TLP.AMBER)

    return act


def attachment_downloaded(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    attachment = services.attachment_add(
        profile_id=profile.pk, author=w.net.alice, kind="photo", title="x", tlp=None, upload=png()
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        response = client.get(f"{PROFILES}{profile.pk}/attachments/{attachment.pk}/content/")
        assert response.status_code == 200
        assert response.getvalue().startswith(b"\x89PNG")
        return Expect("attachment.downloaded", w.net.bob, "attachment", attachment.pk, TLP.AMBER)

    return act


def notice_read(w: World) -> Callable[[], Expect]:
    notice_id = w.published(
        tlp=TLP.AMBER, audience_scope="organisations", audience_organisations=["be-desk"]
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{NOTICES}{notice_id}/"))
        return Expect("notice.read", w.net.bob, "notice", notice_id, TLP.AMBER)

    return act


def notice_version_read(w: World) -> Callable[[], Expect]:
    notice_id = w.published(
        tlp=TLP.AMBER, audience_scope="organisations", audience_organisations=["be-desk"]
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{NOTICES}{notice_id}/versions/1/"))
        return Expect("notice.version_read", w.net.bob, "notice", notice_id, TLP.AMBER)

    return act


def profile_read_in_admin(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.RED)
    client = w.admin_client()
    services.profile_update(
        profile_id=profile.pk,
        author=w.net.alice,
        data=services.ProfileInput(fields={}, recipient_members=[w.net.alice, w.root]),
        expected_version=None,
    )

    def act() -> Expect:
        assert client.get(f"/admin/intel/deviceprofile/{profile.pk}/change/").status_code == 200
        return Expect("profile.read", w.root, "profile", profile.pk, TLP.RED)

    return act


# --- access requests, seizure reports, IMEI checks: every step one event, and nothing else ----

REQUESTS = "/api/v1/access-requests/"


def _request_body(w: World) -> tuple[DeviceProfile, dict[str, Any]]:
    """fr-desk's AMBER profile, advertised in a GREEN notice, and charlie's request for it."""
    profile = w.profile(TLP.AMBER)
    notice_id = w.published(profiles=[profile.pk], restricted_data_available=True)
    return profile, {
        "target_type": "profile",
        "target_id": profile.pk,
        "via_notice": notice_id,
        "purpose": "Check our prisons.",
        "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
        "requested_days": 30,
    }


def _requested(w: World, steps: Any = ()) -> tuple[DeviceProfile, int]:
    """charlie (de-desk) has asked for fr-desk's AMBER profile, advertised in a GREEN notice;
    `steps` are (action, persona, body) taken on the request next."""
    profile, body = _request_body(w)
    created = ok(w.client(w.net.charlie).post(REQUESTS, body, format="json"), 201)
    for method, who, payload in steps:
        ok(
            w.client(getattr(w.net, who)).post(
                f"{REQUESTS}{created['id']}/{method}/", payload, format="json"
            )
        )
    return profile, int(created["id"])


def access_request_created(w: World) -> Callable[[], Expect]:
    _, body = _request_body(w)
    client = w.client(w.net.charlie)

    def act() -> Expect:
        created = ok(client.post(REQUESTS, body, format="json"), 201)
        return Expect(
            "access_request.created", w.net.charlie, "access_request", created["id"], TLP.AMBER
        )

    return act


def _decision(
    verb: str, action: str, payload: dict[str, Any], who: str = "alice", steps: Any = ()
) -> Case:
    def case(w: World) -> Callable[[], Expect]:
        _, request_id = _requested(w, steps=steps)
        member = getattr(w.net, who)
        client = w.client(member)

        def act() -> Expect:
            ok(client.post(f"{REQUESTS}{request_id}/{verb}/", payload, format="json"))
            return Expect(action, member, "access_request", request_id, TLP.AMBER)

        return act

    case.__name__ = action.replace(".", "_")
    return case


access_request_info_requested = _decision(
    "request-info", "access_request.info_requested", {"message": "Which prisons?"}
)
access_request_answered = _decision(
    "answer",
    "access_request.answered",
    {"message": "Two."},
    who="charlie",
    steps=[("request-info", "alice", {"message": "Which prisons?"})],
)
access_request_approved = _decision("approve", "access_request.approved", {"days": 5})
access_request_denied = _decision("deny", "access_request.denied", {"reason": "No case."})
access_request_withdrawn = _decision(
    "withdraw", "access_request.withdrawn", {"reason": "Closed."}, who="charlie"
)


def grant_revoked(w: World) -> Callable[[], Expect]:
    _, request_id = _requested(w)
    alice = w.client(w.net.alice)
    approved = ok(alice.post(f"{REQUESTS}{request_id}/approve/", {"days": 5}, format="json"))

    def act() -> Expect:
        url = f"{REQUESTS}{request_id}/revoke/"
        ok(alice.post(url, {"reason": "Over."}, format="json"))
        return Expect("grant.revoked", w.net.alice, "grant", approved["grant"]["id"], TLP.AMBER)

    return act


def grant_expired_by_the_scheduler(w: World) -> Callable[[], Expect]:
    _, request_id = _requested(w)
    alice = w.client(w.net.alice)
    approved = ok(alice.post(f"{REQUESTS}{request_id}/approve/", {"days": 5}, format="json"))
    grant_id = approved["grant"]["id"]
    Grant.objects.filter(pk=grant_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    def act() -> Expect:
        assert end_expired_grants() == 1
        return Expect("grant.expired", None, "grant", grant_id, TLP.AMBER, address=None)

    return act


def imei_check_performed(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.bob)

    def act() -> Expect:
        body = {"imeis": ["00-999900-000005-3", "009999000000013"]}
        ok(client.post("/api/v1/imei-checks/", body, format="json"))
        return Expect("imei_check.performed", w.net.bob, "imei_check", "")

    return act


def seizure_reported(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.bob)

    def act() -> Expect:
        body = {
            "seized_on": "2025-06-12",
            "facility_type": "prison",
            "negative_result": True,
            "tlp": TLP.AMBER,
        }
        created = ok(client.post("/api/v1/seizures/", body, format="json"), 201)
        return Expect("seizure.reported", w.net.bob, "seizure_report", created["id"], TLP.AMBER)

    return act


def seizure_report_read(w: World) -> Callable[[], Expect]:
    body = {"seized_on": "2025-06-12", "facility_type": "prison", "negative_result": True}
    filed = ok(
        w.client(w.net.alice).post(
            "/api/v1/seizures/",
            body | {"tlp": TLP.AMBER, "recipient_organisations": ["be-desk"]},
            format="json",
        ),
        201,
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"/api/v1/seizures/{filed['id']}/"))
        return Expect("seizure_report.read", w.net.bob, "seizure_report", filed["id"], TLP.AMBER)

    return act


CASES: list[Case] = [
    profile_created,
    profile_updated,
    profile_retired,
    attachment_added,
    notice_drafted,
    notice_draft_edited,
    notice_published,
    notice_updated,
    notice_withdrawn,
    notice_superseded,
    notice_acknowledged,
    subscription_created,
    subscription_updated,
    subscription_secret_rotated,
    subscription_tested,
    delivery_resent,
    deliveries_recovered,
    subscription_disabled_automatically,
    token_issued,
    token_revoked,
    token_issued_by_command,
    token_revoked_in_admin,
    organisation_created_by_command,
    organisation_created_in_admin,
    organisation_deleted_in_admin,
    organisation_entitlements_changed_in_admin,
    member_created_by_command,
    member_created_in_admin,
    retention_run,
    profile_read,
    revision_read,
    attachment_read,
    attachment_downloaded,
    notice_read,
    notice_version_read,
    profile_read_in_admin,
    access_request_created,
    access_request_info_requested,
    access_request_answered,
    access_request_approved,
    access_request_denied,
    access_request_withdrawn,
    grant_revoked,
    grant_expired_by_the_scheduler,
    imei_check_performed,
    seizure_reported,
    seizure_report_read,
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.__name__) for c in CASES])
def test_each_audited_action_leaves_exactly_one_event(world: World, case: Case) -> None:
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


def test_every_entitlement_change_is_recorded_with_its_old_and_new_value(world: World) -> None:
    """A superuser's change in the admin names each entitlement field it changed, with the
    old and the new value; a change of anything else says `changed`; an operator's command
    records what it set."""
    client = world.admin_client()
    bob = world.net.bob
    mark = last_id()
    body = {
        "username": "bob",
        "organisation": world.net.de_desk.pk,
        "role": "analyst",
        "clearance": TLP.RED,
        "is_active": "on",
        "date_joined_0": "2026-11-20",
        "date_joined_1": "10:00:00",
    }
    response = client.post(f"/admin/intel/member/{bob.pk}/change/", body)
    assert response.status_code == 302, response.content
    body["first_name"] = "Bob"
    assert client.post(f"/admin/intel/member/{bob.pk}/change/", body).status_code == 302
    changed, renamed = events_after(mark)
    assert changed.action == "member.entitlements_changed"
    assert changed.detail["entitlements"] == {
        "organisation": {"old": "be-desk", "new": "de-desk"},
        "role": {"old": "desk_officer", "new": "analyst"},
        "clearance": {"old": TLP.AMBER, "new": TLP.RED},
    }
    assert renamed.action == "member.changed" and "first_name" in renamed.detail["fields"]
    assert "entitlements" not in renamed.detail

    call_command(
        "create_organisation",
        "nl-dji",
        "Dutch Custodial Institutions Agency",
        "--kind",
        "national_authority",
        "--country",
        "NL",
        "--sponsor",
        "be-desk",
        stdout=io.StringIO(),
    )
    created = AuditEvent.objects.get(action="organisation.created", detail__slug="nl-dji")
    assert created.actor_id is None
    assert {k: created.detail[k] for k in ("kind", "sponsor", "country")} == {
        "kind": "national_authority",
        "sponsor": "be-desk",
        "country": "NL",
    }


def test_repeated_acknowledgement_and_unchanged_update_record_nothing(world: World) -> None:
    notice_id = world.published()
    bob = world.client(world.net.bob)
    ok(bob.post(f"{NOTICES}{notice_id}/acknowledge/"))
    profile = world.profile(TLP.GREEN, weight_g="18.5")
    alice = world.client(world.net.alice)
    etag = alice.get(f"{PROFILES}{profile.pk}/")["ETag"]
    mark = last_id()

    ok(bob.post(f"{NOTICES}{notice_id}/acknowledge/"))  # kept the first acknowledgement
    ok(
        alice.patch(
            f"{PROFILES}{profile.pk}/", {"weight_g": "18.5"}, format="json", HTTP_IF_MATCH=etag
        )
    )

    assert events_after(mark) == []


def test_a_refused_write_leaves_no_event(world: World) -> None:
    profile = world.profile(TLP.AMBER)
    charlie = world.client(world.net.charlie)
    bob = world.client(world.net.bob)
    mark = last_id()

    assert (
        charlie.post(f"{PROFILES}{profile.pk}/retire/", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert (
        bob.post(f"{PROFILES}{profile.pk}/retire/", {"reason": "x"}, format="json").status_code
        == 403
    )

    assert events_after(mark) == []


def test_event_details_name_changes_not_content(world: World) -> None:
    profile = world.profile(TLP.RED, notes="Sold by the Drancy retailer.")
    alice = world.client(world.net.alice)
    etag = alice.get(f"{PROFILES}{profile.pk}/")["ETag"]
    mark = last_id()

    body = {"notes": "Secret source: informant 7.", "weight_g": "18.5"}
    ok(alice.patch(f"{PROFILES}{profile.pk}/", body, format="json", HTTP_IF_MATCH=etag))

    (event,) = events_after(mark)
    assert event.detail == {"version": 2, "fields": ["notes", "weight_g"]}
    assert "informant" not in canonical_json(event.detail)


# --- detail reads by label ---------------------------------------------------------------------


@pytest.mark.parametrize("label", LABELS, ids=[label.removeprefix("TLP:") for label in LABELS])
def test_a_detail_read_is_recorded_from_amber_up(world: World, label: str) -> None:
    profile = world.profile(label)
    alice = world.client(world.net.alice)
    mark = last_id()

    ok(alice.get(f"{PROFILES}{profile.pk}/"))
    ok(alice.get(f"{PROFILES}{profile.pk}/revisions/"))  # lists are not detail reads
    ok(alice.get(PROFILES))

    new = events_after(mark)
    if label in (TLP.CLEAR, TLP.GREEN):
        assert new == []
    else:
        assert [(e.action, e.object_id, e.object_tlp) for e in new] == [
            ("profile.read", str(profile.pk), label)
        ]


def test_green_notice_read_leaves_none_amber_leaves_one(world: World) -> None:
    green = world.published()
    amber = world.published(
        tlp=TLP.AMBER, audience_scope="organisations", audience_organisations=["be-desk"]
    )
    bob = world.client(world.net.bob)
    mark = last_id()

    ok(bob.get(f"{NOTICES}{green}/"))
    ok(bob.get(f"{NOTICES}{amber}/"))

    assert [(e.action, e.object_id) for e in events_after(mark)] == [("notice.read", str(amber))]


def test_revalidation_head_and_refused_reads_are_not_recorded(world: World) -> None:
    profile = world.profile(TLP.AMBER)
    bob = world.client(world.net.bob)
    etag = bob.get(f"{PROFILES}{profile.pk}/")["ETag"]
    charlie = world.client(world.net.charlie)
    mark = last_id()

    assert bob.get(f"{PROFILES}{profile.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert bob.head(f"{PROFILES}{profile.pk}/").status_code == 200
    assert charlie.get(f"{PROFILES}{profile.pk}/").status_code == 404

    assert events_after(mark) == []


def test_justification_header_and_client_address_are_recorded(world: World) -> None:
    profile = world.profile(TLP.RED)
    audrey = world.client(world.net.audrey)
    mark = last_id()

    why = "Case FR-2026-17, Fresnes search (juge d'instruction)"
    response = audrey.get(
        f"{PROFILES}{profile.pk}/",
        HTTP_X_DIX_JUSTIFICATION=why.encode().decode("latin-1"),  # UTF-8 bytes, as WSGI has them
        REMOTE_ADDR="::ffff:192.0.2.7",
    )
    assert response.status_code == 200
    long = audrey.get(
        f"{PROFILES}{profile.pk}/",
        HTTP_X_DIX_JUSTIFICATION="x" * 5000,
        REMOTE_ADDR="2001:DB8:0:0::7",
    )
    assert long.status_code == 200

    first, second = events_after(mark)
    assert (first.justification, first.client_address) == (why, "192.0.2.7")
    assert len(second.justification) == audit.JUSTIFICATION_MAX
    assert second.client_address == "2001:db8::7"
    assert audit.verify()[1] is None


def test_a_read_without_justification_still_succeeds(world: World) -> None:
    profile = world.profile(TLP.RED)
    audrey = world.client(world.net.audrey)
    mark = last_id()
    assert audrey.get(f"{PROFILES}{profile.pk}/").status_code == 200
    (event,) = events_after(mark)
    assert event.justification == ""


# --- tamper evidence ---------------------------------------------------------------------------


def _chain_of(n: int) -> list[AuditEvent]:
    return [audit.record(action="test.event", actor=None, detail={"n": i}) for i in range(n)]


def _verify_error(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", *args, stdout=io.StringIO())
    return str(failure.value)


def test_an_intact_chain_verifies(db: None) -> None:
    chain = _chain_of(4)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact: 4 events verified" in out.getvalue()
    assert chain[-1].hash in out.getvalue()
    assert chain[0].previous_hash == GENESIS
    assert [e.previous_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "test.nothing_happened"),
        ("actor_username", "someone-else"),
        ("justification", "a better reason"),
        ("object_tlp", "TLP:CLEAR"),
        ("created_at", "2020-01-01 00:00:00"),
        ("detail", '{"n": 99}'),
        ("client_address", "198.51.100.1"),
    ],
)
def test_a_row_changed_in_the_database_breaks_the_chain_at_that_row(
    db: None, column: str, value: str
) -> None:
    chain = _chain_of(4)
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608 - names are ours
            [value, chain[2].pk],
        )
    message = _verify_error()
    assert f"broken at event {chain[2].pk}:" in message
    assert "content does not match its hash" in message


def test_a_rewritten_row_with_a_recomputed_hash_breaks_at_the_next(db: None) -> None:
    chain = _chain_of(4)
    forged = AuditEvent.objects.get(pk=chain[1].pk)
    forged.action = "test.forged"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET action = %s, hash = %s WHERE id = %s",  # noqa: S608
            ["test.forged", forged.compute_hash(), forged.pk],
        )
    message = _verify_error()
    assert f"broken at event {chain[2].pk}:" in message
    assert f"does not name event {chain[1].pk}" in message


def test_a_deleted_row_breaks_the_chain_at_the_next(db: None) -> None:
    chain = _chain_of(4)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s",  # noqa: S608
            [chain[1].pk],
        )
    message = _verify_error()
    assert f"broken at event {chain[2].pk}:" in message
    assert f"does not name event {chain[0].pk} before it" in message


def test_deleting_the_first_rows_is_found(db: None) -> None:
    chain = _chain_of(3)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [chain[0].pk])  # noqa: S608
    assert f"broken at event {chain[1].pk}: it is the first event" in _verify_error()


def test_an_anchor_shows_that_the_newest_events_were_removed(db: None) -> None:
    chain = _chain_of(3)
    anchor = chain[-1].hash
    call_command("audit_verify", "--anchor", anchor, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [chain[-1].pk])  # noqa: S608
    call_command("audit_verify", stdout=io.StringIO())  # the rest of the chain is intact
    assert f"Anchor {anchor} is not in the audit chain" in _verify_error("--anchor", anchor)


def test_the_orm_refuses_to_change_or_delete_events(db: None) -> None:
    event, _ = _chain_of(2)
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    loaded = AuditEvent.objects.get(pk=event.pk)
    loaded.action = "x"
    with pytest.raises(PermissionError):
        loaded.save()
    with pytest.raises(PermissionError):
        loaded.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update([loaded], ["action"])
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(action="x", previous_hash="1", hash="2")])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert audit.verify() == (2, None)


def test_loaddata_cannot_overwrite_an_event_but_loads_a_dumped_trail(
    db: None, tmp_path: Any
) -> None:
    """`loaddata` saves through `Model.save_base`, not `AuditEvent.save`: an event with an
    existing id must not replace the stored one, while a dump loads into an empty trail."""
    chain = _chain_of(3)
    dump = tmp_path / "trail.json"
    call_command("dumpdata", "intel.auditevent", output=str(dump), stdout=io.StringIO())
    forged = tmp_path / "forged.json"
    forged.write_text(dump.read_text().replace('"test.event"', '"test.forged"', 1))

    with pytest.raises(PermissionError):
        call_command("loaddata", str(forged), stdout=io.StringIO())
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [e.action for e in chain]
    assert audit.verify() == (3, None)

    with connection.cursor() as cursor:  # an empty database, as on a new server
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table}")  # noqa: S608
    call_command("loaddata", str(dump), stdout=io.StringIO())
    assert [e.hash for e in AuditEvent.objects.order_by("id")] == [e.hash for e in chain]
    assert audit.verify() == (3, None)


def test_the_database_refuses_a_fork_of_the_chain(db: None) -> None:
    first, _ = _chain_of(2)
    fork = AuditEvent(action="test.fork", previous_hash=first.hash)
    fork.hash = fork.compute_hash()
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()  # a second event claiming `first` as its predecessor
    assert audit.verify() == (2, None)


def test_deleting_a_member_and_an_organisation_leaves_the_trail(db: None) -> None:
    org = accounts.organisation_create(
        slug="xx-desk", name="Gone", kind="national_desk", country="LU"
    )
    member = accounts.member_create(
        organisation=org, username="gone", role="analyst", clearance=TLP.GREEN
    )
    accounts.token_issue(member=member, name="t", actor=member)
    before = list(AuditEvent.objects.values_list("id", "hash"))

    member.delete()  # its token goes with it
    org.delete()

    assert list(AuditEvent.objects.values_list("id", "hash")) == before
    assert AuditEvent.objects.filter(actor_username="gone").count() == 1
    assert audit.verify() == (3, None)


def test_hashes_hold_for_values_databases_return_differently(db: None) -> None:
    """PostgreSQL's jsonb gives 1e20 back as an integer, inet prints IPv4-mapped and
    IPv4-compatible IPv6 its own way, columns have lengths SQLite ignores: the chain verifies
    on either database after the round trip, and nothing is refused."""
    request = RequestFactory().get("/", REMOTE_ADDR="::1.2.3.4")
    audit.record(
        action="test.values",
        actor=None,
        object_id="9" * 200,
        justification="nul\x00byte",
        request=request,
        detail={
            "big": 1e20,
            "one": 1.0,
            "small": 1.5e-7,
            "huge": 10**30,
            "nan": float("nan"),
            "when": timezone.now(),
            "nested": {"b": [1, (2, 3)], "a": None},
            7: "int key",  # type: ignore[dict-item]  # as a careless caller might pass
        },
    )
    audit.record(
        action="test.values", actor=None, request=RequestFactory().get("/", REMOTE_ADDR="unix:")
    )
    event, other = AuditEvent.objects.order_by("id")
    assert len(event.object_id) == 64
    assert event.justification == "nulbyte"
    assert event.detail["nan"] == "nan"
    assert other.client_address is None
    assert canonical_json(1e20) == canonical_json(10**20) == "1e20"
    assert canonical_json(1.0) == canonical_json(1) == "1"
    assert audit.verify() == (2, None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain() -> None:
    """Writers in several threads (connections) at once: one chain, no fork, no gap."""
    per_thread, threads = 15, 6
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(per_thread):
                with transaction.atomic():
                    audit.record(action="test.concurrent", actor=None, detail={"t": n, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert audit.verify() == (per_thread * threads, None)


# --- the admin -------------------------------------------------------------------------------


def test_the_admin_shows_events_read_only_to_auditors(world: World) -> None:
    _chain_of(1)
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    world.net.audrey.is_staff = True
    world.net.audrey.save()
    auditor = Client()
    auditor.force_login(world.net.audrey)

    listing = auditor.get("/admin/intel/auditevent/")
    assert listing.status_code == 200
    assert b"action-select" not in listing.content  # no actions, not even "delete selected"
    page = auditor.get(f"/admin/intel/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        auditor.post(f"/admin/intel/auditevent/{event.pk}/change/", {"action": "x"}).status_code
        == 403
    )
    assert auditor.get(f"/admin/intel/auditevent/{event.pk}/delete/").status_code == 403
    assert (
        auditor.post(f"/admin/intel/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert auditor.get("/admin/intel/auditevent/add/").status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == event.action

    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = world.root  # even a superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert model_admin.get_actions(request) == {}


def test_the_admin_hides_the_trail_from_other_secretariat_staff(world: World) -> None:
    world.net.cora.is_staff = True
    world.net.cora.save()
    staff = Client()
    staff.force_login(world.net.cora)
    assert staff.get("/admin/").status_code == 200
    assert staff.get("/admin/intel/auditevent/").status_code == 403
    assert b"auditevent" not in staff.get("/admin/").content


# --- GET /api/v1/audit/ --------------------------------------------------------------------------


NOT_AUDITORS = ("cora", "alice", "olga", "bob", "charlie", "dave", "erin")


@pytest.mark.parametrize("who", NOT_AUDITORS)
def test_the_trail_does_not_exist_for_non_auditors(network: Network, api: Api, who: str) -> None:
    client = api(getattr(network, who))
    event_id = last_id()
    for path in (AUDIT, f"{AUDIT}{event_id}/", f"{AUDIT}?action=token.issued"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == "urn:dix:problem:not-found"
    assert client.options(AUDIT).status_code == 404


def test_anonymous_callers_must_authenticate(db: None) -> None:
    assert APIClient().get(AUDIT).status_code == 401


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _listed(client: APIClient, **params: Any) -> list[dict[str, Any]]:
    body = ok(client.get(AUDIT, {"page_size": "200", **params}))
    return list(body["results"])


def test_auditor_filters(world: World) -> None:
    net = world.net
    profile = world.profile(TLP.AMBER)
    bob = world.client(net.bob)
    ok(bob.get(f"{PROFILES}{profile.pk}/"), 200)
    notice_id = world.published()
    auditor = world.client(net.audrey)
    t0 = timezone.now()
    ok(world.client(net.charlie).get(f"{PROFILES}{world.profile(TLP.GREEN).pk}/"))  # not recorded
    charlie_token = ok(
        world.client(net.charlie).post("/api/v1/tokens/", {"name": "late"}, format="json"), 201
    )

    everything = _listed(auditor)
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert len(everything) == AuditEvent.objects.count() - 1  # this search came after it

    by_bob = _listed(auditor, actor="bob")
    assert by_bob and {e["actor_username"] for e in by_bob} == {"bob"}
    assert _listed(auditor, actor=str(net.bob.pk)) == by_bob

    be = _listed(auditor, organisation="be-desk")
    assert {e["organisation_slug"] for e in be} == {"be-desk"}
    assert _listed(auditor, organisation=str(net.be_desk.pk)) == be

    reads = _listed(auditor, object_type="profile", object_id=str(profile.pk))
    assert [e["action"] for e in reads] == ["profile.read", "profile.created"]
    assert reads[0]["object_tlp"] == TLP.AMBER
    assert reads[0]["client_address"] == ADDRESS

    notices = _listed(auditor, action="notice.*")
    assert [(e["action"], e["object_id"]) for e in notices] == [
        ("notice.published", str(notice_id)),
        ("notice.drafted", str(notice_id)),
    ]
    both = _listed(auditor, action="notice.published,profile.read")
    assert {e["action"] for e in both} == {"notice.published", "profile.read"}

    late = _listed(auditor, after=t0.isoformat(), action="token.issued", actor="charlie")
    assert [(e["actor_username"], e["object_id"]) for e in late] == [
        ("charlie", str(charlie_token["id"]))
    ]
    earlier = _listed(auditor, before=t0.isoformat())
    assert earlier and all(_time(e["created_at"]) < t0 for e in earlier)
    assert {e["id"] for e in earlier} | {
        e["id"] for e in _listed(auditor, after=t0.isoformat())
    } >= {e["id"] for e in everything}
    assert _listed(auditor, tlp=TLP.AMBER, action="profile.read")[0]["object_id"] == str(profile.pk)

    one = ok(auditor.get(f"{AUDIT}{reads[0]['id']}/"))
    assert one["hash"] == AuditEvent.objects.get(pk=reads[0]["id"]).hash
    assert auditor.get(f"{AUDIT}999999999/").status_code == 404
    assert auditor.get(f"{AUDIT}abc/").status_code == 404


def test_auditor_pages_newest_first_with_cursors(world: World) -> None:
    _chain_of(5)
    auditor = world.client(world.net.audrey)
    seen: list[int] = []
    url: str | None = f"{AUDIT}?action=test.event&page_size=2"
    while url:
        body = ok(auditor.get(url))
        seen += [e["id"] for e in body["results"]]
        url = body["next"]
    assert seen == sorted(
        AuditEvent.objects.filter(action="test.event").values_list("id", flat=True), reverse=True
    )


def test_an_auditors_searches_are_recorded(world: World) -> None:
    auditor = world.client(world.net.audrey)
    mark = last_id()
    ok(auditor.get(AUDIT, {"actor": "bob"}))
    (event,) = events_after(mark)
    assert (event.action, event.actor_username, event.detail) == (
        "audit.searched",
        "audrey",
        {"actor": "bob"},
    )


@pytest.mark.parametrize("param", ["after", "before"])
def test_a_bad_time_filter_is_a_400_naming_it(world: World, param: str) -> None:
    auditor = world.client(world.net.audrey)
    for value in ("yesterday", "9999-12-31T23:59:59-14:00"):
        response = auditor.get(AUDIT, {param: value})
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["field"] == param


# --- retention ----------------------------------------------------------------------------------


def _age(model: Any, pk: Any, **moments: Any) -> None:
    model.objects.filter(pk=pk).update(**moments)


def test_retention_deletes_old_rows_keeps_recent_ones_and_never_the_trail(world: World) -> None:
    net = world.net
    now = timezone.now()
    old, recent = now - timedelta(days=400 * 2), now - timedelta(days=10)
    sub = world.subscription()

    def delivery(state: str, created: Any, **fields: Any) -> Delivery:
        row = Delivery.objects.create(
            subscription=sub, event_type="dix.test", state=state, **fields
        )
        _age(Delivery, row.pk, created_at=created, completed_at=created)
        DeliveryAttempt.objects.create(delivery=row, number=1, started_at=created, duration_ms=5)
        return row

    old_done = delivery(DeliveryState.SUCCEEDED, old)
    old_failed = delivery(DeliveryState.FAILED, old)
    old_pending = delivery(DeliveryState.PENDING, old)
    recent_done = delivery(DeliveryState.SUCCEEDED, recent)
    live_notice = Notice.objects.get(pk=world.published())
    older_of_live = delivery(DeliveryState.SUCCEEDED, old, notice=live_notice, notice_version=1)
    # The newest delivery of a live notice to this endpoint: how a withdrawal finds it.
    last_of_live = delivery(DeliveryState.SUCCEEDED, old, notice=live_notice, notice_version=2)

    revoked_old = accounts.token_issue(member=net.bob, name="old").token
    _age(ApiToken, revoked_old.pk, revoked_at=old)
    expired_old = accounts.token_issue(member=net.bob, name="expired").token
    _age(ApiToken, expired_old.pk, expires_at=old)
    revoked_recent = accounts.token_issue(member=net.bob, name="recent").token
    _age(ApiToken, revoked_recent.pk, revoked_at=recent)
    active = accounts.token_issue(member=net.bob, name="active").token

    def request(status: str, updated: Any) -> AccessRequest:
        return AccessRequest.objects.create(
            requester=net.bob,
            organisation=net.be_desk,
            owner=net.fr_desk,
            target_type="profile",
            target_id=1,
            purpose="Case",
            legal_basis="Art. 3",
            requested_days=30,
            status=status,
            updated_at=updated,
        )

    def grant(req: AccessRequest | None, expires: Any) -> Grant:
        return Grant.objects.create(
            request=req,
            organisation=net.be_desk,
            target_type="profile",
            target_id=1,
            expires_at=expires,
        )

    denied_old = request("denied", old)
    approved_old = request("approved", old)
    grant_ended_old = grant(approved_old, old)
    approved_live = request("approved", old)
    grant_live = grant(approved_live, now + timedelta(days=30))
    pending_old = request("pending", old)
    denied_recent = request("denied", recent)

    expired_session = SessionStore()
    expired_session.create()
    Session.objects.filter(pk=expired_session.session_key).update(expire_date=now - timedelta(1))
    live_session = SessionStore()
    live_session.create()

    # Events older than every retention period: retention never looks at the trail.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit.timezone, "now", lambda: old)
        _chain_of(2)
    assert AuditEvent.objects.filter(created_at__lt=now - timedelta(days=730)).count() == 2
    trail_before = list(AuditEvent.objects.values_list("id", "hash"))
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)
    assert "Would delete 4 notices.DeliveryAttempt" in out.getvalue()
    assert Delivery.objects.filter(pk=old_done.pk).exists()  # a dry run changes nothing
    assert list(AuditEvent.objects.values_list("id", "hash")) == trail_before

    report = retention.run()

    assert report.counts == {
        "intel.AccessRequest": 2,
        "intel.ApiToken": 2,
        "intel.Grant": 1,
        "notices.Delivery": 3,
        "notices.DeliveryAttempt": 4,
        "sessions.Session": 1,
    }
    remaining = set(Delivery.objects.values_list("id", flat=True))
    assert {old_done.pk, old_failed.pk, older_of_live.pk} & remaining == set()
    assert {old_pending.pk, recent_done.pk, last_of_live.pk} <= remaining
    assert set(ApiToken.objects.filter(member=net.bob).values_list("id", flat=True)) >= {
        revoked_recent.pk,
        active.pk,
    }
    assert not ApiToken.objects.filter(pk__in=[revoked_old.pk, expired_old.pk]).exists()
    assert set(Grant.objects.values_list("id", flat=True)) == {grant_live.pk}
    assert grant_ended_old.pk not in set(Grant.objects.values_list("id", flat=True))
    assert set(AccessRequest.objects.values_list("id", flat=True)) == {
        approved_live.pk,
        pending_old.pk,
        denied_recent.pk,
    }
    assert not AccessRequest.objects.filter(pk=denied_old.pk).exists()
    assert Session.objects.filter(pk=live_session.session_key).exists()

    trail = list(AuditEvent.objects.values_list("id", "hash"))
    assert trail[: len(trail_before)] == trail_before
    (run,) = AuditEvent.objects.filter(id__gt=trail_before[-1][0])
    assert (run.action, run.actor_id, run.detail["counts"]) == (
        "retention.run",
        None,
        report.counts,
    )
    assert audit.verify()[1] is None


def test_retention_keeps_for_ever_with_a_period_of_zero(world: World) -> None:
    revoked = accounts.token_issue(member=world.net.bob, name="old").token
    _age(ApiToken, revoked.pk, revoked_at=timezone.now() - timedelta(days=5000))
    out = io.StringIO()
    with override_settings(DIX_RETENTION_TOKENS_DAYS=0):
        call_command("retention", stdout=out)
    assert ApiToken.objects.filter(pk=revoked.pk).exists()
    assert "Kept all intel.ApiToken" in out.getvalue()


def test_retention_is_scheduled_daily() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "intel.retention.run" == retention.run_retention.name
    assert entry["schedule"] == 24 * 3600
    assert "operations.retention" in settings.CELERY_IMPORTS
