"""Who reads the audit trail: the admin shows it read-only to auditors, and `/api/v1/audit/`
exists for auditors only, with filters, cursors and its own searches recorded."""

from datetime import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from intel.models import (
    TLP,
    AuditEvent,
)
from tests.conftest import Network
from tests.helpers.audit import (
    ADDRESS,
    AUDIT,
    PROFILES,
    Api,
    World,
    chain_of,
    events_after,
    last_id,
    ok,
)

# --- the admin -------------------------------------------------------------------------------


def test_the_admin_shows_events_read_only_to_auditors(world: World) -> None:
    chain_of(1)
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
    assert by_bob
    assert {e["actor_username"] for e in by_bob} == {"bob"}
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
    assert earlier
    assert all(_time(e["created_at"]) < t0 for e in earlier)
    assert {e["id"] for e in earlier} | {
        e["id"] for e in _listed(auditor, after=t0.isoformat())
    } >= {e["id"] for e in everything}
    assert _listed(auditor, object_tlp=TLP.AMBER, action="profile.read")[0]["object_id"] == str(
        profile.pk
    )

    one = ok(auditor.get(f"{AUDIT}{reads[0]['id']}/"))
    assert one["hash"] == AuditEvent.objects.get(pk=reads[0]["id"]).hash
    assert auditor.get(f"{AUDIT}999999999/").status_code == 404
    assert auditor.get(f"{AUDIT}abc/").status_code == 404


def test_auditor_pages_newest_first_with_cursors(world: World) -> None:
    chain_of(5)
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
