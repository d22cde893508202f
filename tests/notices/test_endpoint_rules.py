"""Inbox and endpoint rules found in review: hidden profiles stay hidden in filters, drafts'
edits reach the drafters' inbox, issuers are not their own recipients, and endpoints that
cannot be served fail visibly instead of blocking others."""

from datetime import timedelta

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intel import accounts
from intel.models import TLP
from notices.models import NoticeReceipt
from tests.helpers.webhooks import NOTICES, SUBSCRIPTIONS, issue, receiver, subscribe
from webhooks.engine import deliver_due, lease_due
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription

# The loopback receiver that verifies signatures, and a published GREEN notice.
__all__ = ["issue", "receiver"]  # fixtures used by name


def test_the_profile_filter_does_not_confirm_a_hidden_profile(network, api, make_profile, issue):
    hidden = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Annex")
    shown = make_profile(tlp=TLP.GREEN, name="Public")
    issue(profile_ids=[hidden.pk, shown.pk], restricted_data_available=True)
    outsider = api(network.charlie)
    assert outsider.get(f"{NOTICES}?profile={hidden.pk}").json()["results"] == []
    assert len(outsider.get(f"{NOTICES}?profile={shown.pk}").json()["results"]) == 1
    assert len(api(network.bob).get(f"{NOTICES}?profile={hidden.pk}").json()["results"]) == 1


def test_editing_a_draft_changes_the_drafters_inbox(network, api):
    alice = api(network.alice)
    draft = alice.post(NOTICES, {"type": "alert", "title": "First"}, format="json").json()
    before = alice.get(NOTICES)
    alice.patch(f"{NOTICES}{draft['id']}/", {"title": "Second"}, format="json")
    after = alice.get(NOTICES, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.json()["results"][0]["title"] == "Second"


def test_the_issuer_is_not_a_recipient_of_its_own_notice(network, api, issue):
    notice = issue()
    api(network.alice).get(f"{NOTICES}{notice['id']}/")
    api(network.bob).get(f"{NOTICES}{notice['id']}/")
    receipts = api(network.cora).get(f"{NOTICES}{notice['id']}/receipts/").json()["results"]
    assert [r["organisation"] for r in receipts if r["received_at"]] == ["be-desk"]
    assert "fr-desk" not in [r["organisation"] for r in receipts]
    assert not NoticeReceipt.objects.filter(organisation=network.fr_desk).exists()


def test_a_disabled_endpoint_is_not_tested_and_auditors_cannot_replay(network, api, receiver):
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "paused")
    bob.patch(f"{SUBSCRIPTIONS}{sub['id']}/", {"enabled": False}, format="json")
    assert bob.post(f"{SUBSCRIPTIONS}{sub['id']}/test/").status_code == 409
    assert receiver.hits == []
    auditor = accounts.member_create(
        organisation=network.be_desk, username="be-auditor", role="auditor", clearance=TLP.AMBER
    )
    since = {"since": (timezone.now() - timedelta(days=1)).isoformat()}
    assert (
        api(auditor).post(f"{SUBSCRIPTIONS}{sub['id']}/recover/", since, format="json").status_code
        == 403
    )


def test_an_unreadable_secret_fails_its_own_deliveries_only(network, api, receiver, issue):
    bob, dave = api(network.bob), api(network.dave)
    broken = subscribe(bob, receiver, "broken")
    subscribe(dave, receiver, "fine")
    Subscription.objects.filter(pk=broken["id"]).update(secret_encrypted="not-a-fernet-token")
    issue()
    deliver_due(time_budget=5)
    states = dict(Delivery.objects.values_list("subscription_id", "state"))
    assert states[broken["id"]] == DeliveryState.FAILED
    assert "rotate the secret" in Delivery.objects.get(subscription_id=broken["id"]).last_error
    assert [h.path for h in receiver.hits] == ["fine"]


def test_an_endpoint_failing_for_days_is_disabled_and_says_why(network, api, receiver, issue):
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "down")
    receiver.script["down"] = [(500, {})]
    Subscription.objects.filter(pk=sub["id"]).update(
        failing_since=timezone.now() - timedelta(days=6)
    )
    issue()
    # No retries left: this failure exhausts the delivery after six days of failing.
    with override_settings(DIX_WEBHOOK_DISABLE_AFTER_HOURS=72, DIX_WEBHOOK_RETRY_SCHEDULE=[]):
        deliver_due(time_budget=5)
    shown = bob.get(f"{SUBSCRIPTIONS}{sub['id']}/").json()
    assert shown["enabled"] is False
    assert "Failing since" in shown["disabled_reason"]
    assert Delivery.objects.get(subscription_id=sub["id"]).state == DeliveryState.FAILED


def test_one_failure_after_a_quiet_week_does_not_disable(network, api, receiver, issue):
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "flaky")
    receiver.script["flaky"] = [(500, {})]
    Subscription.objects.filter(pk=sub["id"]).update(
        failing_since=timezone.now() - timedelta(days=6)
    )
    issue()
    deliver_due(time_budget=5)
    assert bob.get(f"{SUBSCRIPTIONS}{sub['id']}/").json()["enabled"] is True
    assert Delivery.objects.get(subscription_id=sub["id"]).state == DeliveryState.PENDING


def test_a_member_below_an_endpoints_label_cannot_reach_it(network, api, receiver):
    strict = accounts.member_create(
        organisation=network.fr_desk, username="fr-strict", role="desk_officer", clearance=TLP.RED
    )
    sub = subscribe(api(strict), receiver, "strict", max_tlp=TLP.AMBER_STRICT)
    olga = api(network.olga)  # same organisation, GREEN clearance
    assert olga.get(f"{SUBSCRIPTIONS}{sub['id']}/").status_code == 404
    assert olga.post(f"{SUBSCRIPTIONS}{sub['id']}/rotate-secret/").status_code == 404
    assert olga.get(f"{SUBSCRIPTIONS}{sub['id']}/deliveries/").status_code == 404
    assert (
        olga.patch(
            f"{SUBSCRIPTIONS}{sub['id']}/", {"url": receiver.url("mine")}, format="json"
        ).status_code
        == 404
    )
    assert sub["id"] not in [s["id"] for s in olga.get(SUBSCRIPTIONS).json()["results"]]


def test_a_hostile_retry_after_fails_only_its_own_delivery(network, api, receiver, issue):
    hostile = subscribe(api(network.bob), receiver, "hostile")
    subscribe(api(network.dave), receiver, "fine")
    receiver.script["hostile"] = [(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 -0000"})]
    issue()
    deliver_due(time_budget=5)
    states = dict(Delivery.objects.values_list("subscription_id", "state"))
    assert states[hostile["id"]] == DeliveryState.PENDING  # retried later, on the schedule
    assert DeliveryState.SUCCEEDED in states.values()
    wait = Delivery.objects.get(subscription_id=hostile["id"]).next_attempt_at - timezone.now()
    assert timedelta(seconds=3) < wait < timedelta(seconds=7)


def test_a_short_retry_after_does_not_burn_the_schedule(network, api, receiver, issue):
    sub = subscribe(api(network.bob), receiver, "busy")
    receiver.script["busy"] = [(429, {"Retry-After": "1"})]
    issue()
    deliver_due(time_budget=5)
    wait = Delivery.objects.get(subscription_id=sub["id"]).next_attempt_at - timezone.now()
    assert wait > timedelta(seconds=3)


def test_odd_inputs_get_a_400_not_a_500(network, api, receiver):
    import base64

    bob = api(network.bob)
    sub = subscribe(bob, receiver, "odd")
    far = base64.urlsafe_b64encode(b"9999-12-31T23:59:59-14:00").decode().rstrip("=")
    assert bob.get(f"{NOTICES}?since={far}").status_code == 400
    assert (
        bob.post(
            SUBSCRIPTIONS,
            {"url": "https://example.com:99999/", "event_types": ["dix.test"]},
            format="json",
        ).status_code
        == 400
    )
    assert bob.get(f"{SUBSCRIPTIONS}{sub['id']}/deliveries/?state=%00").status_code == 400
    assert (
        bob.post(
            SUBSCRIPTIONS,
            {
                "url": receiver.url("x"),
                "event_types": ["dix.test"],
                "tac_prefixes": ["\u0661\u0662"],
            },
            format="json",
        ).status_code
        == 400
    )


def test_the_inbox_304_is_answered_only_for_a_usable_token_and_unchanged_data(network, api, issue):
    issue()
    issued = accounts.token_issue(member=network.bob, name="poller")
    from rest_framework.test import APIClient

    poller = APIClient()
    poller.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    first = poller.get(NOTICES)
    assert first.status_code == 200
    again = poller.get(NOTICES, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    # Another member's poll never matches bob's validator.
    assert api(network.dave).get(NOTICES, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    issue(title="Something new")
    changed = poller.get(NOTICES, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed.json()["results"][0]["title"] == "Something new"
    accounts.token_revoke(token=issued.token)
    assert poller.get(NOTICES, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 401


def test_a_batchs_reads_do_not_grow_with_its_endpoints(network, api, receiver, issue, monkeypatch):
    """Entitlement is checked per organisation and the batch loaded in one query: four times
    the endpoints of the same organisations cost no read more (an N+1 would). Writes are
    left out of the count: outcomes are flushed as they arrive, in as many rounds as the
    timing makes. So is leasing, which looks for due deliveries as often as the timing
    makes: one UPDATE … RETURNING on PostgreSQL, elsewhere a SELECT and then an UPDATE."""
    clients = [api(network.bob), api(network.dave), api(network.erin)]
    lease_reads: list[int] = []

    def lease_counting_reads(limit: int) -> list[int]:
        with CaptureQueriesContext(connection) as queries:
            ids = lease_due(limit)
        lease_reads.append(reads(queries))
        return ids

    monkeypatch.setattr("webhooks.engine.pipeline.lease_due", lease_counting_reads)

    def reads(queries: CaptureQueriesContext) -> int:
        return sum(q["sql"].startswith("SELECT") for q in queries.captured_queries)

    def deliver_counting_reads() -> tuple[int, int]:
        lease_reads.clear()
        with CaptureQueriesContext(connection) as queries:
            sent = deliver_due(time_budget=5)
        return sent, reads(queries) - sum(lease_reads)

    for i, client in enumerate(clients):
        subscribe(client, receiver, f"first-{i}")
    issue()
    first = deliver_counting_reads()
    for i, client in enumerate(clients):
        for j in range(3):
            subscribe(client, receiver, f"more-{i}-{j}")
    issue()
    second = deliver_counting_reads()
    assert (first[0], second[0]) == (3, 12)
    assert second[1] == first[1]
    assert not Delivery.objects.exclude(state=DeliveryState.SUCCEEDED).exists()


def test_a_nul_in_an_answer_fails_nobody_elses_recording(network, api, receiver, issue):
    """PostgreSQL text holds no NUL byte: a receiver answering one must not make the flush
    that records its attempt (and everyone else's) fail again and again."""
    subscribe(api(network.bob), receiver, "nul")
    subscribe(api(network.dave), receiver, "fine")
    receiver.script["nul"] = [(500, {}, b"bad\x00answer")]
    issue()
    assert deliver_due(time_budget=5) == 2
    states = dict(Delivery.objects.values_list("subscription__url", "state"))
    assert states == {receiver.url("nul"): "pending", receiver.url("fine"): "succeeded"}
    attempt = DeliveryAttempt.objects.get(delivery__subscription__url=receiver.url("nul"))
    assert (attempt.status_code, attempt.response_body) == (500, "bad\ufffdanswer")


def test_a_410_stops_what_the_next_batch_holds_for_that_endpoint(network, api, receiver, issue):
    """An endpoint that one batch's answers disable (410 Gone) gets nothing from the next
    batch of the same worker run."""
    sub = subscribe(api(network.bob), receiver, "gone")
    receiver.script["gone"] = [(410, {})]
    issue()
    issue()
    with override_settings(DIX_WEBHOOK_BATCH_SIZE=1):
        assert deliver_due(time_budget=5) == 1
    assert len(receiver.to("gone")) == 1
    states = Delivery.objects.filter(subscription_id=sub["id"]).values_list("state", flat=True)
    assert sorted(states) == ["cancelled", "cancelled"]


def test_a_renamed_profile_is_renamed_in_the_next_attempt(
    network, api, receiver, make_profile, issue
):
    """A worker keeps a notice's content from batch to batch only while no shared data has
    changed: a profile renamed between two attempts is sent with its new name."""
    profile = make_profile(tlp=TLP.GREEN, name="Before")
    bob, alice = api(network.bob), api(network.alice)
    sub = subscribe(bob, receiver, "content")
    receiver.script["content"] = [(500, {})]
    issue(profile_ids=[profile.pk])
    assert deliver_due(time_budget=5) == 1
    url = f"/api/v1/profiles/{profile.pk}/"
    etag = alice.get(url)["ETag"]
    renamed = alice.patch(url, {"name": "After"}, format="json", HTTP_IF_MATCH=etag)
    assert renamed.status_code == 200, renamed.content
    # The retry falls due (time passes).
    Delivery.objects.filter(subscription_id=sub["id"]).update(next_attempt_at=timezone.now())
    assert deliver_due(time_budget=5) == 1
    first, second = receiver.to("content")
    assert [p["name"] for p in first.payload["data"]["profiles"]] == ["Before"]
    assert [p["name"] for p in second.payload["data"]["profiles"]] == ["After"]


def test_an_unreachable_cache_does_not_fail_webhooks(network, api, receiver, issue, monkeypatch):
    """The notice content a worker keeps is keyed by the shared-data counter in the cache;
    with the cache out of reach the notice is loaded as it is, and delivered."""
    subscribe(api(network.bob), receiver, "cacheless")
    issue()

    def unreachable() -> int:
        raise ConnectionError("cache down")

    monkeypatch.setattr("intel.changes.data_version", unreachable)
    assert deliver_due(time_budget=5) == 1
    assert Delivery.objects.get().state == DeliveryState.SUCCEEDED
    (hit,) = receiver.to("cacheless")
    assert hit.payload["data"]["title"] == "Mini phones"
