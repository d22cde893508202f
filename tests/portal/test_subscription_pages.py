"""The subscription pages list what `GET /api/v1/subscriptions/` returns, create and manage
endpoints through the API's services (a secret shown once, URL refusals at the field), and
answer 404 to members outside the organisation; the delivery log is the API's."""

import re

import pytest
from django.test import Client, override_settings

from intel.models import AuditEvent
from tests.helpers.webhooks import EVENTS, SUBSCRIPTIONS, Receiver, receiver, subscribe
from tests.portal.test_pages import PERSONAS
from webhooks import engine
from webhooks.models import Delivery, DeliveryState, Subscription

__all__ = ["receiver"]


def created(browser: Client, url: str, **fields: object) -> tuple[int, str]:
    """Create an endpoint through the page: its id and the secret shown once."""
    body = {"url": url, "event_types": EVENTS} | fields
    answer = browser.post("/subscriptions/", body)
    assert answer.status_code == 302, answer.content.decode()
    pk = int(re.fullmatch(r"/subscriptions/(\d+)/", answer["Location"]).group(1))
    page = browser.get(answer["Location"]).content.decode()
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', page).group(1)
    return pk, secret


@pytest.fixture
def endpoints(network, api, receiver: Receiver):
    return {
        "fr": subscribe(api(network.alice), receiver, "fr", description="French case system"),
        "be": subscribe(api(network.bob), receiver, "be", description="Belgian gateway"),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_list_shows_what_the_api_returns(persona, network, endpoints, portal, api) -> None:
    member = getattr(network, persona)
    through_api = {row["id"] for row in api(member).get(SUBSCRIPTIONS).json()["results"]}
    browser = portal(member)
    page = browser.get("/subscriptions/")
    listed = {int(pk) for pk in re.findall(r'href="/subscriptions/(\d+)/"', page.content.decode())}
    assert listed == through_api
    for sub in endpoints.values():
        detail = browser.get(f"/subscriptions/{sub['id']}/")
        assert detail.status_code == api(member).get(f"{SUBSCRIPTIONS}{sub['id']}/").status_code
        if detail.status_code == 404:
            assert sub["description"] not in detail.content.decode()


def test_a_secret_is_shown_once(network, portal, receiver: Receiver) -> None:
    browser = portal(network.alice)
    pk, secret = created(browser, receiver.url("once"), description="Case system")
    assert Subscription.objects.get(pk=pk).organisation == network.fr_desk
    assert secret not in browser.get(f"/subscriptions/{pk}/").content.decode()
    assert secret not in browser.get("/subscriptions/").content.decode()
    assert AuditEvent.objects.filter(action="subscription.created", object_id=str(pk)).exists()


def test_a_refused_url_is_shown_at_its_field(network, portal) -> None:
    answer = portal(network.alice).post(
        "/subscriptions/", {"url": "http://127.0.0.1:9/hook", "event_types": EVENTS}
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert re.search(r'<div id="id_url_error"><p class="error">[^<]+</p>', html)
    assert not Subscription.objects.exists()


def test_a_label_above_the_clearance_is_refused_at_its_field(
    network, portal, receiver: Receiver
) -> None:
    answer = portal(network.olga).post(
        "/subscriptions/",
        {"url": receiver.url("x"), "event_types": EVENTS, "max_tlp": "TLP:AMBER"},
    )
    assert answer.status_code == 400
    assert 'id="id_max_tlp_error"' in answer.content.decode()


def test_auditors_read_but_are_refused_as_by_the_api(network, portal, endpoints) -> None:
    browser = portal(network.audrey)
    page = browser.get("/subscriptions/")
    assert page.status_code == 200
    assert "New endpoint" not in page.content.decode()
    refused = browser.post("/subscriptions/", {"url": "https://x.example/"})
    assert refused.status_code == 403
    assert "Auditors do not manage subscriptions." in refused.content.decode()
    fr = endpoints["fr"]["id"]
    assert browser.get(f"/subscriptions/{fr}/").status_code == 404
    assert not Subscription.objects.filter(organisation=network.eurojust).exists()


def test_another_organisations_endpoint_is_not_found(network, portal, endpoints) -> None:
    browser = portal(network.charlie)
    fr = endpoints["fr"]["id"]
    assert browser.get(f"/subscriptions/{fr}/").status_code == 404
    for action in ("rotate-secret", "test", "enabled", "delete", "recover"):
        assert browser.post(f"/subscriptions/{fr}/{action}/").status_code == 404
    assert Subscription.objects.get(pk=fr).enabled


def test_the_forms_need_their_csrf_token(network, portal, endpoints) -> None:
    browser = portal(network.alice)
    browser.handler.enforce_csrf_checks = True
    fr = endpoints["fr"]["id"]
    assert browser.post("/subscriptions/", {"url": "https://x.example/"}).status_code == 403
    assert browser.post(f"/subscriptions/{fr}/rotate-secret/").status_code == 403
    assert browser.post(f"/subscriptions/{fr}/delete/").status_code == 403


def test_test_rotate_disable_delete(network, portal, api, receiver: Receiver) -> None:
    browser = portal(network.alice)
    pk, first = created(browser, receiver.url("desk"))
    receiver.secrets["desk"] = [first]
    sent = browser.post(f"/subscriptions/{pk}/test/", follow=True).content.decode()
    assert "the endpoint answered 200" in sent
    assert [hit.payload["type"] for hit in receiver.to("desk")] == ["dix.test"]
    assert "dix.test" in sent
    rotated = browser.post(f"/subscriptions/{pk}/rotate-secret/", follow=True).content.decode()
    second = re.search(r'id="new-secret">(whsec_[^<]+)<', rotated).group(1)
    assert second != first
    assert "The old secret stays valid until" in rotated
    receiver.secrets["desk"] = [second]
    browser.post(f"/subscriptions/{pk}/test/")
    assert len(receiver.to("desk")) == 2
    browser.post(f"/subscriptions/{pk}/enabled/", {"enabled": "false"})
    assert not Subscription.objects.get(pk=pk).enabled
    refused = browser.post(f"/subscriptions/{pk}/test/", follow=True).content.decode()
    assert "The endpoint is disabled; enable it first." in refused
    browser.post(f"/subscriptions/{pk}/enabled/", {"enabled": "true"})
    assert Subscription.objects.get(pk=pk).enabled
    confirm = browser.get(f"/subscriptions/{pk}/delete/")
    assert confirm.status_code == 200
    assert Subscription.objects.get(pk=pk).deleted_at is None
    assert browser.post(f"/subscriptions/{pk}/delete/")["Location"] == "/subscriptions/"
    assert api(network.alice).get(f"{SUBSCRIPTIONS}{pk}/").status_code == 404
    # Its log stays readable, as `GET …/deliveries/` does; the page is read-only.
    assert api(network.alice).get(f"{SUBSCRIPTIONS}{pk}/deliveries/").status_code == 200
    gone = browser.get(f"/subscriptions/{pk}/").content.decode()
    assert "Deleted on" in gone
    assert f"/subscriptions/{pk}/rotate-secret/" not in gone


def test_the_delivery_log_resend_and_recover(network, portal, api, receiver, endpoints) -> None:
    from tests.helpers.notices import draft, publish

    be = endpoints["be"]["id"]
    receiver.script["be"] = [(500, {})] * 20
    cora = api(network.cora)
    publish(cora, draft(cora, title="Mini phones")["id"])
    engine.deliver_due()
    Delivery.objects.filter(subscription_id=be).update(state=DeliveryState.FAILED)
    browser = portal(network.bob)
    page = browser.get(f"/subscriptions/{be}/").content.decode()
    through_api = api(network.bob).get(f"{SUBSCRIPTIONS}{be}/deliveries/").json()["results"]
    assert through_api
    for row in through_api:
        assert row["webhook_id"] in page
    assert "500" in page
    receiver.script["be"] = []
    delivery = through_api[0]["id"]
    resent = browser.post(f"/subscriptions/{be}/deliveries/{delivery}/resend/", follow=True)
    assert "The delivery is queued again." in resent.content.decode()
    assert Delivery.objects.get(pk=delivery).state == DeliveryState.PENDING
    again = browser.post(f"/subscriptions/{be}/deliveries/{delivery}/resend/", follow=True)
    assert "The delivery is already queued." in again.content.decode()
    engine.deliver_due()
    assert Delivery.objects.get(pk=delivery).state == DeliveryState.SUCCEEDED
    assert browser.post(f"/subscriptions/{be}/recover/", {"since": "soon"}).status_code == 400
    recovered = browser.post(
        f"/subscriptions/{be}/recover/", {"since": "2000-01-01T00:00"}, follow=True
    )
    assert recovered.status_code == 200
    assert "queued again" in recovered.content.decode()
    assert browser.get(f"/subscriptions/{be}/deliveries/999999/resend/").status_code == 405
    assert browser.post(f"/subscriptions/{be}/deliveries/999999/resend/").status_code == 404


@override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=False)
def test_no_organisation_no_page(network, portal) -> None:
    network.olga.organisation = None
    network.olga.save(update_fields=["organisation"])
    assert portal(network.olga).get("/subscriptions/").status_code == 404


@pytest.fixture
def deleted_be(network, api, receiver: Receiver, endpoints) -> int:
    """The Belgian endpoint with a delivery log, then deleted through the API."""
    from tests.helpers.notices import draft, publish

    be = endpoints["be"]["id"]
    cora = api(network.cora)
    publish(cora, draft(cora, title="Mini phones")["id"])
    engine.deliver_due()
    assert api(network.bob).delete(f"{SUBSCRIPTIONS}{be}/").status_code == 204
    return be


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_deleted_endpoint_is_read_as_the_api_reads_it(
    persona, network, deleted_be, portal, api
) -> None:
    member = getattr(network, persona)
    log = api(member).get(f"{SUBSCRIPTIONS}{deleted_be}/deliveries/")
    browser = portal(member)
    page = browser.get(f"/subscriptions/{deleted_be}/")
    assert page.status_code == log.status_code
    listed = browser.get("/subscriptions/").content.decode()
    if log.status_code == 404:
        assert "Belgian gateway" not in page.content.decode() + listed
        return
    rows = log.json()["results"]
    assert rows
    for row in rows:
        assert row["webhook_id"] in page.content.decode()
    # Listed apart from the live endpoints (which the API's list gives), never among them.
    live, _sep, apart = listed.partition('id="deleted-endpoints"')
    assert f'href="/subscriptions/{deleted_be}/"' in apart
    assert f'href="/subscriptions/{deleted_be}/"' not in live
    live_ids = {row["id"] for row in api(member).get(SUBSCRIPTIONS).json()["results"]}
    assert {int(pk) for pk in re.findall(r'href="/subscriptions/(\d+)/"', live)} == live_ids


def test_a_deleted_endpoint_is_read_only(network, deleted_be, portal, api) -> None:
    browser = portal(network.bob)
    page = browser.get(f"/subscriptions/{deleted_be}/").content.decode()
    assert "Deleted on" in page
    for action in ("rotate-secret", "test", "enabled", "delete", "recover"):
        assert f"/subscriptions/{deleted_be}/{action}/" not in page
        assert browser.post(f"/subscriptions/{deleted_be}/{action}/").status_code == 404
    delivery = Delivery.objects.filter(subscription_id=deleted_be).first()
    assert delivery is not None
    resend = f"/subscriptions/{deleted_be}/deliveries/{delivery.pk}/resend/"
    assert resend not in page
    assert browser.post(resend).status_code == 404
    through_api = api(network.bob).post(f"{SUBSCRIPTIONS}{deleted_be}/rotate-secret/")
    assert through_api.status_code == 404
    assert Subscription.objects.get(pk=deleted_be).deleted_at is not None
