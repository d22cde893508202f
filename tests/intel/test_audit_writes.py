"""Every audited write (profiles, notices, subscriptions and deliveries, tokens, organisations and
members, retention) leaves exactly one event, with who, which organisation, what object and label,
and from which address; a write that changes nothing or is refused leaves none."""

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from intel import accounts
from intel.models import (
    TLP,
    ApiToken,
    AuditEvent,
    Member,
    Organisation,
)
from intel.models.audit import canonical_json
from tests.helpers.audit import (
    NOTICES,
    PROFILES,
    SUBSCRIPTIONS,
    Case,
    Expect,
    World,
    assert_exactly_one_event,
    events_after,
    last_id,
    ok,
    png,
)
from webhooks import services as webhook_services
from webhooks.models import Delivery, DeliveryState


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
            tlp=TLP.AMBER, audience={"scope": "organisations", "organisations": ["be-desk"]}
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
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.__name__) for c in CASES])
def test_each_audited_action_leaves_exactly_one_event(world: World, case: Case) -> None:
    assert_exactly_one_event(world, case)


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
    assert renamed.action == "member.changed"
    assert "first_name" in renamed.detail["fields"]
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


def test_a_refused_write_leaves_no_write_event(world: World) -> None:
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

    # Charlie's 404 on a profile that exists is a refused read (docs/audit.md); no write.
    assert [(e.action, e.actor_username) for e in events_after(mark)] == [
        ("read.denied", "charlie")
    ]


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
