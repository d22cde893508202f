"""Webhook subscriptions through the HTTP API: the secret shown once and stored encrypted,
refused input (SSRF guard on), secret rotation, the test event, the delivery log, retries,
410/429/redirects, resend and recover, and who may manage what.

Deliveries run in process (`deliver_due`) against a real loopback receiver that verifies
every request with the `standardwebhooks` package and answers as each test scripts it.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core import secrets_at_rest
from intel.models import TLP, Member
from tests.conftest import Network
from tests.helpers.webhooks import (
    EVENTS,
    SUBSCRIPTIONS,
    Hit,
    Receiver,
    issue,
    receiver,
    subscribe,
)
from webhooks.engine import deliver_due
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription
from webhooks.sender import forbidden_reason

PROBLEM = "application/problem+json"
__all__ = ["issue", "receiver"]  # fixtures used by name

Api = Callable[[Member | None], APIClient]


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def signatures(hit: Hit) -> list[str]:
    return hit.headers["webhook-signature"].split(" ")


def close_to(moment: datetime | str | None, expected: datetime, seconds: float) -> bool:
    assert moment is not None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return abs((moment - expected).total_seconds()) <= seconds


# --- Creation and the secret -----------------------------------------------------------------


def test_the_secret_is_shown_once_and_stored_encrypted(
    network: Network, api: Api, receiver: Receiver
) -> None:
    bob = api(network.bob)
    created = subscribe(
        bob,
        receiver,
        "be",
        description="Case system",
        notice_types=["alert"],
        device_classes=["mini_phone"],
        countries=["BE", "FR"],
        tac_prefixes=["3512"],
        max_tlp=TLP.AMBER,
    )
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 20
    Webhook(secret)  # a valid Standard Webhooks secret
    assert (created["organisation"], created["enabled"], created["max_tlp"]) == (
        "be-desk",
        True,
        TLP.AMBER,
    )
    assert (created["countries"], created["tac_prefixes"]) == (["BE", "FR"], ["3512"])

    listed = bob.get(SUBSCRIPTIONS)
    one = bob.get(f"{SUBSCRIPTIONS}{created['id']}/")
    for response in (listed, one):
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert b'"secret"' not in response.content
    assert [s["id"] for s in listed.json()["results"]] == [created["id"]]
    assert set(one.json()) == set(created) - {"secret"}

    row = Subscription.objects.get(pk=created["id"])
    assert row.secret_encrypted != secret
    assert secret not in row.secret_encrypted
    assert secret.removeprefix("whsec_") not in row.secret_encrypted
    assert secrets_at_rest.decrypt(row.secret_encrypted) == secret
    assert row.previous_secret_encrypted == ""

    # Another creation, another secret.
    assert subscribe(bob, receiver, "be2")["secret"] != secret


# --- Refused input ---------------------------------------------------------------------------

GOOD = {"url": "https://8.8.8.8/dix/hooks", "event_types": ["notice.published"]}


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "https://10.0.0.1/x",
        "https://192.168.1.5/",
        "https://[::1]/",
        "https://127.0.0.1/",
        "https://localhost/",
        "https://100.64.0.1/",
        "https://[64:ff9b::7f00:1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0/",
        "https://user:pw@8.8.8.8/",
        "ftp://example.org/",
        "https://[evil.example]/",
        "https://[::1/",
        "https://%6cocalhost/",
        "http://example.org/",
        "http://8.8.8.8/",
        "not a url",
    ],
)
def test_refused_urls_with_the_guard_on(network: Network, api: Api, url: str) -> None:
    assert settings.DIX_WEBHOOK_ALLOW_LOOPBACK is False
    response = api(network.bob).post(SUBSCRIPTIONS, GOOD | {"url": url}, format="json")
    assert_problem(response, 400, "url")
    assert Subscription.objects.count() == 0


def test_plain_http_is_refused_for_its_scheme(network: Network, api: Api) -> None:
    body = assert_problem(
        api(network.bob).post(SUBSCRIPTIONS, GOOD | {"url": "http://example.org/"}, format="json"),
        400,
        "url",
    )
    assert "https" in body["errors"][0]["detail"]


def test_a_public_https_endpoint_is_accepted_with_the_guard_on(network: Network, api: Api) -> None:
    # A read-only `organisation` in the body is refused, never taken as the owner.
    refused = api(network.bob).post(
        SUBSCRIPTIONS, GOOD | {"organisation": "de-desk"}, format="json"
    )
    assert_problem(refused, 400, "organisation")
    response = api(network.bob).post(SUBSCRIPTIONS, GOOD, format="json")
    assert response.status_code == 201, response.content
    row = Subscription.objects.get()
    assert (row.url, row.organisation, row.created_by) == (
        GOOD["url"],
        network.be_desk,
        network.bob,
    )
    # Without `max_tlp`, an endpoint receives what its creator may read, at most AMBER+STRICT.
    assert (row.max_tlp, response.json()["max_tlp"]) == (TLP.AMBER, TLP.AMBER)
    olga = api(network.olga).post(SUBSCRIPTIONS, GOOD, format="json")
    assert olga.json()["max_tlp"] == TLP.GREEN
    alice = api(network.alice).post(SUBSCRIPTIONS, GOOD, format="json")
    assert alice.json()["max_tlp"] == TLP.AMBER_STRICT  # RED clearance, never RED by webhook


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_types": ["notice.deleted"]}, "event_types.0"),
        ({"event_types": []}, "event_types"),
        ({"notice_types": ["memo"]}, "notice_types.0"),
        ({"device_classes": ["toaster"]}, "device_classes.0"),
        ({"countries": ["XX"]}, "countries.0"),
        ({"countries": ["BE", "Belgium"]}, "countries.1"),
        ({"tac_prefixes": ["12ab"]}, "tac_prefixes.0"),
        ({"tac_prefixes": ["123456789"]}, "tac_prefixes.0"),
        ({"max_tlp": TLP.RED}, "max_tlp"),
        ({"max_tlp": "TLP:WHITE"}, "max_tlp"),
        ({"max_tlp": TLP.AMBER_STRICT}, "max_tlp"),  # above bob's clearance (AMBER)
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_refused_values_write_nothing(
    network: Network, api: Api, change: dict[str, Any], field: str
) -> None:
    response = api(network.bob).post(SUBSCRIPTIONS, GOOD | change, format="json")
    assert_problem(response, 400, field)
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("0.0.0.0", True),  # noqa: S104 - an address to refuse, not one to bind
        ("169.254.169.254", True),
        ("224.0.0.1", True),
        ("2002:7f00:1::", True),
        ("fe80::1", True),
        ("fe80::1%eth0", True),
        ("10.1.2.3", True),
        ("100.64.0.1", True),
        ("64:ff9b::808:808", True),
        ("2001::1", True),
        ("::ffff:10.0.0.1", True),
        ("::", True),
        ("ff02::1", True),
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_forbidden_reason(address: str, refused: bool) -> None:
    for allow_loopback in (False, True):
        reason = forbidden_reason(address, allow_loopback=allow_loopback)
        assert (reason is not None) is refused, (address, allow_loopback, reason)


def test_loopback_is_refused_unless_allowed() -> None:
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert forbidden_reason(address, allow_loopback=False) == "a loopback address"
        assert forbidden_reason(address, allow_loopback=True) is None
    assert forbidden_reason("224.0.0.1", allow_loopback=False) == "a multicast address"
    assert "NAT64" in (forbidden_reason("64:ff9b::7f00:1", allow_loopback=True) or "")
    assert "6to4" in (forbidden_reason("2002:7f00:1::", allow_loopback=True) or "")


def test_the_guard_is_applied_again_at_delivery_time(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    """An endpoint accepted while loopback was allowed is not called once it is not."""
    sub = subscribe(api(network.bob), receiver, "be")
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=False):
        issue()
        assert deliver_due(time_budget=5) == 1
    delivery = Delivery.objects.get(subscription_id=sub["id"])
    assert (delivery.state, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error.startswith("refused:"), delivery.last_error
    assert "loopback" in delivery.last_error  # the address, checked before connecting
    assert receiver.hits == []


def test_filters_choose_what_an_endpoint_gets(
    network: Network,
    api: Api,
    receiver: Receiver,
    issue: Callable[..., Any],
    make_profile: Callable[..., Any],
) -> None:
    profile = make_profile(
        tlp=TLP.GREEN,
        manufacturer_country="CN",
        identifiers=[{"kind": "tac", "value": "35123456"}],
    )
    bob = api(network.bob)
    filters: dict[str, dict[str, Any]] = {
        "all": {},
        "alerts": {"notice_types": ["alert", "update"]},
        "warnings": {"notice_types": ["warning"]},
        "mini": {"device_classes": ["mini_phone", "sim_card"]},
        "smart": {"device_classes": ["smartphone"]},
        "made-in-cn": {"countries": ["CN"]},
        "from-fr": {"countries": ["FR"]},
        "de": {"countries": ["DE"]},
        "tac": {"tac_prefixes": ["3512"]},
        "tac-full": {"tac_prefixes": ["35123456"]},
        "tac-miss": {"tac_prefixes": ["8600", "35123457"]},
    }
    subs = {name: subscribe(bob, receiver, name, **f)["id"] for name, f in filters.items()}
    notice = issue(profile_ids=[profile.pk])
    got = set(
        Delivery.objects.filter(notice_id=notice["id"]).values_list("subscription_id", flat=True)
    )
    expected = {"all", "alerts", "mini", "made-in-cn", "from-fr", "tac", "tac-full"}
    assert got == {subs[name] for name in expected}
    assert deliver_due(time_budget=5) == len(expected)
    assert {h.path for h in receiver.hits} == expected

    # A notice without profiles matches no device-class or TAC filter.
    bare = issue(type="warning")
    got = set(
        Delivery.objects.filter(notice_id=bare["id"]).values_list("subscription_id", flat=True)
    )
    assert got == {subs[name] for name in ("all", "warnings", "from-fr")}


# --- Rotation --------------------------------------------------------------------------------


def test_rotation_signs_with_the_old_and_the_new_secret(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    old = sub["secret"]
    issue()
    assert deliver_due(time_budget=5) == 1
    (before,) = receiver.to("be")
    assert len(signatures(before)) == 1

    rotated = bob.post(f"{SUBSCRIPTIONS}{sub['id']}/rotate-secret/")
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    expected_expiry = timezone.now() + timedelta(hours=settings.DIX_WEBHOOK_ROTATION_OVERLAP_HOURS)
    assert close_to(rotated.json()["previous_secret_expires_at"], expected_expiry, 10)
    assert new not in bob.get(f"{SUBSCRIPTIONS}{sub['id']}/").content.decode()

    receiver.secrets["be"] = [old, new]  # the receiver verifies with each, separately
    issue()
    assert deliver_due(time_budget=5) == 1
    _, during = receiver.to("be")
    assert [s.split(",")[0] for s in signatures(during)] == ["v1", "v1"]

    # Once the overlap is over only the new secret signs: the old one no longer verifies.
    Subscription.objects.filter(pk=sub["id"]).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    receiver.secrets["be"] = [new]
    issue()
    assert deliver_due(time_budget=5) == 1
    after = receiver.to("be")[-1]
    assert len(signatures(after)) == 1
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(old).verify(after.body, after.headers)
    # ...while it did verify what was sent during the overlap.
    assert Webhook(old).verify(during.body, during.headers) == during.payload


# --- Test event and delivery log -------------------------------------------------------------


def test_test_event_reports_the_receivers_answer(
    network: Network, api: Api, receiver: Receiver
) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    url = f"{SUBSCRIPTIONS}{sub['id']}/"

    ok = bob.post(f"{url}test/")
    assert ok.status_code == 200, ok.content
    assert (ok.json()["status_code"], ok.json()["succeeded"], ok.json()["error"]) == (200, True, "")
    assert ok.json()["response_body"] == "ok"
    (hit,) = receiver.to("be")
    assert hit.payload["type"] == "dix.test"
    assert hit.payload["data"]["subscription"] == sub["id"]
    assert hit.headers["webhook-id"] == ok.json()["webhook_id"]

    receiver.script["be"] = [(500, {})]
    failed = bob.post(f"{url}test/")
    assert failed.status_code == 200, failed.content
    assert (failed.json()["status_code"], failed.json()["succeeded"]) == (500, False)
    assert Delivery.objects.get(pk=failed.json()["delivery"]).state == DeliveryState.FAILED

    log = bob.get(f"{url}deliveries/")
    assert log.status_code == 200
    rows = {row["id"]: row for row in log.json()["results"]}
    assert set(rows) == {ok.json()["delivery"], failed.json()["delivery"]}
    good, bad = rows[ok.json()["delivery"]], rows[failed.json()["delivery"]]
    assert (good["state"], good["attempts"], good["last_status_code"]) == ("succeeded", 1, 200)
    assert (bad["state"], bad["attempts"], bad["last_status_code"]) == ("failed", 1, 500)
    (attempt,) = bad["attempt_log"]
    assert (attempt["number"], attempt["status_code"], attempt["trigger"]) == (1, 500, "manual")
    assert attempt["error"] == ""
    assert attempt["next_attempt_at"] is None
    assert isinstance(attempt["duration_ms"], int)
    assert attempt["duration_ms"] >= 0
    assert [
        r["id"] for r in bob.get(f"{url}deliveries/", {"state": "failed"}).json()["results"]
    ] == [bad["id"]]


def test_test_event_against_an_unreachable_endpoint(network: Network, api: Api) -> None:
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        bob = api(network.bob)
        created = bob.post(
            SUBSCRIPTIONS,
            {"url": "http://127.0.0.1:9/closed", "event_types": ["notice.published"]},
            format="json",
        )
        assert created.status_code == 201
        result = bob.post(f"{SUBSCRIPTIONS}{created.json()['id']}/test/").json()
    assert (result["status_code"], result["succeeded"]) == (None, False)
    assert result["error"]


# --- Retries ---------------------------------------------------------------------------------


def test_500_then_200_is_retried_with_the_same_webhook_id(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    receiver.script["be"] = [(500, {})]
    issue()
    assert deliver_due(time_budget=5) == 1
    delivery = Delivery.objects.get(subscription_id=sub["id"])
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_retry = settings.DIX_WEBHOOK_RETRY_SCHEDULE[0]
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at > timezone.now()
    assert close_to(delivery.next_attempt_at, timezone.now(), first_retry * 1.2 + 1)
    assert deliver_due(time_budget=5) == 0  # not due yet

    log = bob.get(f"{SUBSCRIPTIONS}{sub['id']}/deliveries/").json()["results"][0]
    assert log["attempt_log"][0]["next_attempt_at"] is not None
    assert log["attempt_log"][0]["status_code"] == 500

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver_due(time_budget=5) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 200)
    assert list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
    ) == [(1, 500), (2, 200)]
    hits = receiver.to("be")
    assert len(hits) == 2
    assert {h.headers["webhook-id"] for h in hits} == {delivery.webhook_id}
    assert hits[0].payload["data"] == hits[1].payload["data"]
    assert Subscription.objects.get(pk=sub["id"]).failing_since is None


def test_410_disables_the_endpoint_and_cancels_what_is_pending(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    receiver.script["be"] = [(410, {})]
    first, later = issue(), issue()
    Delivery.objects.filter(notice_id=later["id"]).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert deliver_due(time_budget=5) == 1
    shown = bob.get(f"{SUBSCRIPTIONS}{sub['id']}/").json()
    assert shown["enabled"] is False
    assert "410" in shown["disabled_reason"]
    assert shown["disabled_at"] is not None
    gone = Delivery.objects.get(notice_id=first["id"])
    waiting = Delivery.objects.get(notice_id=later["id"])
    assert (gone.state, gone.last_status_code) == ("cancelled", 410)
    assert waiting.state == "cancelled"
    assert waiting.next_attempt_at is None
    assert "410" in waiting.last_error

    # Disabled: nothing new is written for it, nothing is sent, resend/recover refuse.
    issue()
    assert Delivery.objects.filter(subscription_id=sub["id"]).count() == 2
    Delivery.objects.filter(pk=waiting.pk).update(
        state=DeliveryState.PENDING, next_attempt_at=timezone.now()
    )
    assert deliver_due(time_budget=5) == 0
    assert Delivery.objects.get(pk=waiting.pk).state == "cancelled"
    assert len(receiver.to("be")) == 1
    url = f"{SUBSCRIPTIONS}{sub['id']}/"
    assert_problem(bob.post(f"{url}deliveries/{gone.pk}/resend/"), 409)
    assert_problem(
        bob.post(f"{url}recover/", {"since": "2000-01-01T00:00:00Z"}, format="json"), 409
    )

    # Re-enabled: the reason is cleared, and the cancelled deliveries can be recovered.
    enabled = bob.patch(url, {"enabled": True}, format="json")
    assert enabled.status_code == 200, enabled.content
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, "")
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert bob.post(f"{url}recover/", {"since": since}, format="json").json() == {"requeued": 2}
    assert deliver_due(time_budget=5) == 2
    assert len(receiver.to("be")) == 3
    assert set(
        Delivery.objects.filter(subscription_id=sub["id"]).values_list("state", flat=True)
    ) == {"succeeded"}


def test_429_honours_retry_after(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    sub = subscribe(api(network.bob), receiver, "be")
    receiver.script["be"] = [(429, {"Retry-After": "120"})]
    issue()
    assert deliver_due(time_budget=5) == 1
    delivery = Delivery.objects.get(subscription_id=sub["id"])
    assert (delivery.state, delivery.last_status_code) == ("pending", 429)
    assert close_to(delivery.next_attempt_at, timezone.now() + timedelta(seconds=120), 5)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.next_attempt_at == delivery.next_attempt_at


def test_a_redirect_is_a_failure_and_is_not_followed(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    sub = subscribe(api(network.bob), receiver, "be")
    receiver.secrets["elsewhere"] = receiver.secrets["be"]
    receiver.script["be"] = [(302, {"Location": receiver.url("elsewhere")})]
    issue()
    assert deliver_due(time_budget=5) == 1
    delivery = Delivery.objects.get(subscription_id=sub["id"])
    assert (delivery.state, delivery.last_status_code, delivery.attempts) == ("pending", 302, 1)
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at > timezone.now()
    assert len(receiver.to("be")) == 1
    assert receiver.to("elsewhere") == []
    assert Subscription.objects.get(pk=sub["id"]).failing_since is not None


# --- Resend and recover ----------------------------------------------------------------------


def test_resend_one_delivery(network: Network, api: Api, receiver: Receiver) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    other = subscribe(bob, receiver, "be2")
    url = f"{SUBSCRIPTIONS}{sub['id']}/"
    receiver.script["be"] = [(500, {})]
    failed = bob.post(f"{url}test/").json()
    assert failed["succeeded"] is False

    assert_problem(
        bob.post(f"{SUBSCRIPTIONS}{other['id']}/deliveries/{failed['delivery']}/resend/"), 404
    )
    resent = bob.post(f"{url}deliveries/{failed['delivery']}/resend/")
    assert resent.status_code == 200, resent.content
    assert (resent.json()["state"], resent.json()["webhook_id"]) == (
        "pending",
        failed["webhook_id"],
    )
    assert_problem(bob.post(f"{url}deliveries/{failed['delivery']}/resend/"), 409)  # queued
    assert deliver_due(time_budget=5) == 1
    row = bob.get(f"{url}deliveries/").json()["results"][0]
    assert (row["state"], row["attempts"]) == ("succeeded", 2)
    assert [(a["number"], a["status_code"], a["trigger"]) for a in row["attempt_log"]] == [
        (1, 500, "manual"),
        (2, 200, "scheduled"),
    ]
    assert [h.headers["webhook-id"] for h in receiver.to("be")] == [failed["webhook_id"]] * 2
    assert_problem(bob.post(f"{url}deliveries/999999/resend/"), 404)


@override_settings(DIX_WEBHOOK_RETRY_SCHEDULE=[])
def test_recover_requeues_failed_deliveries_since_a_time(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    url = f"{SUBSCRIPTIONS}{sub['id']}/"
    receiver.script["be"] = [(500, {}), (503, {})]
    issue(), issue()
    assert deliver_due(time_budget=5) == 2
    rows = Delivery.objects.filter(subscription_id=sub["id"])
    assert set(rows.values_list("state", flat=True)) == {"failed"}  # retries exhausted
    assert deliver_due(time_budget=5) == 0

    assert_problem(bob.post(f"{url}recover/", {"since": "yesterday"}, format="json"), 400, "since")
    future = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert bob.post(f"{url}recover/", {"since": future}, format="json").json() == {"requeued": 0}
    assert set(rows.values_list("state", flat=True)) == {"failed"}

    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    recovered = bob.post(f"{url}recover/", {"since": since}, format="json")
    assert recovered.status_code == 200, recovered.content
    assert recovered.json() == {"requeued": 2}
    assert set(rows.values_list("state", flat=True)) == {"pending"}
    assert deliver_due(time_budget=5) == 2
    assert set(rows.values_list("state", flat=True)) == {"succeeded"}
    assert len(receiver.to("be")) == 4
    # Each recovered delivery kept its webhook-id.
    ids = [h.headers["webhook-id"] for h in receiver.to("be")]
    assert sorted(ids) == sorted(2 * list(rows.values_list("webhook_id", flat=True)))


# --- Who may ---------------------------------------------------------------------------------


def test_another_organisations_subscriptions_do_not_exist(
    network: Network, api: Api, receiver: Receiver
) -> None:
    bob, charlie = api(network.bob), api(network.charlie)
    sub = subscribe(bob, receiver, "be")
    delivery = bob.post(f"{SUBSCRIPTIONS}{sub['id']}/test/").json()["delivery"]
    url = f"{SUBSCRIPTIONS}{sub['id']}/"
    before = Subscription.objects.get(pk=sub["id"]).secret_encrypted
    for member in (network.charlie, network.erin, network.alice):
        client = api(member)
        assert_problem(client.get(url), 404)
        assert_problem(client.patch(url, {"enabled": False}, format="json"), 404)
        assert_problem(client.post(f"{url}test/"), 404)
        assert_problem(client.post(f"{url}rotate-secret/"), 404)
        assert_problem(client.get(f"{url}deliveries/"), 404)
        assert_problem(client.post(f"{url}deliveries/{delivery}/resend/"), 404)
        assert_problem(
            client.post(f"{url}recover/", {"since": "2000-01-01T00:00:00Z"}, format="json"), 404
        )
        assert client.get(SUBSCRIPTIONS).json()["results"] == []
    row = Subscription.objects.get(pk=sub["id"])
    assert (row.secret_encrypted, row.enabled) == (before, True)
    assert Delivery.objects.filter(subscription=row).count() == 1
    assert len(receiver.to("be")) == 1
    assert charlie.get(SUBSCRIPTIONS).status_code == 200


def test_auditors_do_not_manage_subscriptions(
    network: Network, api: Api, receiver: Receiver
) -> None:
    audrey = api(network.audrey)
    body = {"url": receiver.url("eurojust"), "event_types": EVENTS}
    assert_problem(audrey.post(SUBSCRIPTIONS, body, format="json"), 403)
    assert Subscription.objects.count() == 0

    sub = subscribe(api(network.cora), receiver, "eurojust")
    url = f"{SUBSCRIPTIONS}{sub['id']}/"
    assert audrey.get(url).status_code == 200  # same organisation: may look
    before = Subscription.objects.get(pk=sub["id"]).secret_encrypted
    assert_problem(audrey.post(f"{url}rotate-secret/"), 403)
    assert_problem(audrey.post(f"{url}test/"), 403)
    assert_problem(audrey.patch(url, {"enabled": False}, format="json"), 403)
    row = Subscription.objects.get(pk=sub["id"])
    assert (row.secret_encrypted, row.enabled) == (before, True)
    assert not Delivery.objects.exists()
    assert api(None).get(SUBSCRIPTIONS).status_code == 401
