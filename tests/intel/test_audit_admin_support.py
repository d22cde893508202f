"""The secretariat's read-only support view in the admin (docs/operations.md, "The admin's
support view"): notices and versions, subscriptions and their delivery health, access
requests, seizure reports; nothing to add, change or delete, and each list cut by the same
visibility rule as the API for the staff member's clearance."""

from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client

from intel import accounts
from intel.models import TLP, Member
from tests.helpers.audit import World, events_after, last_id, ok

SEIZURES = "/api/v1/seizures/"
REQUESTS = "/api/v1/access-requests/"
APPS = ("intel", "notices", "seizures", "webhooks")


def _staff(member: Member) -> Client:
    member.is_staff = True
    member.save()
    member.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    client = Client()
    client.force_login(member)
    return client


def _analyst(world: World, clearance: str) -> Member:
    """A secretariat analyst (not a coordinator) cleared up to `clearance`."""
    return accounts.member_create(
        organisation=world.net.eurojust, username="sam", role="analyst", clearance=clearance
    )


def _report(world: World, tlp: str) -> int:
    body: dict[str, Any] = {
        "seized_on": "2025-06-12",
        "facility_type": "prison",
        "negative_result": True,
        "tlp": tlp,
        "recipient_organisations": ["eurojust"],
    }
    response = world.client(world.net.alice).post(SEIZURES, body, format="json")
    return int(ok(response, 201)["id"])


def test_seizure_reports_above_the_staff_members_clearance_are_not_shown(world: World) -> None:
    amber = _report(world, TLP.AMBER)
    red = _report(world, TLP.AMBER_STRICT)  # the most restricted label of a report
    cora = _staff(_analyst(world, TLP.AMBER))
    mark = last_id()

    listing = cora.get("/admin/seizures/seizurereport/")
    assert listing.status_code == 200
    assert f"/admin/seizures/seizurereport/{amber}/change/" in listing.content.decode()
    assert f"/admin/seizures/seizurereport/{red}/change/" not in listing.content.decode()
    assert cora.get(f"/admin/seizures/seizurereport/{red}/change/").status_code == 302
    page = cora.get(f"/admin/seizures/seizurereport/{amber}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert cora.get("/admin/seizures/seizurereport/add/").status_code == 403
    assert cora.get(f"/admin/seizures/seizurereport/{amber}/delete/").status_code == 403
    assert (
        cora.post(f"/admin/seizures/seizurereport/{amber}/delete/", {"post": "yes"}).status_code
        == 403
    )

    # Opening the AMBER report is recorded as its API read is.
    assert [(e.action, e.object_id, e.detail) for e in events_after(mark)] == [
        ("seizure_report.read", str(amber), {"via": "admin"})
    ]


def test_notices_and_their_versions_show_what_the_api_shows(world: World) -> None:
    published = world.published(title="Mini phones seen in Lantin")
    amber = world.published(title="Above a GREEN clearance", tlp=TLP.AMBER)
    cora = _staff(_analyst(world, TLP.GREEN))

    listing = cora.get("/admin/notices/notice/").content.decode()
    assert "Mini phones seen in Lantin" in listing
    assert "Above a GREEN clearance" not in listing
    assert cora.get(f"/admin/notices/notice/{amber}/change/").status_code == 302
    page = cora.get(f"/admin/notices/notice/{published}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert b"Mini phones seen in Lantin" in page.content  # version 1, in the inline
    assert cora.get("/admin/notices/notice/add/").status_code == 403
    assert cora.get(f"/admin/notices/notice/{published}/delete/").status_code == 403


def test_subscriptions_show_their_delivery_health_to_their_organisation_only(
    world: World,
) -> None:
    ours = world.subscription(world.net.cora)
    theirs = world.subscription(world.net.bob)  # be-desk's endpoint
    cora = _staff(world.net.cora)

    listing = cora.get("/admin/webhooks/subscription/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert f"/admin/webhooks/subscription/{ours.pk}/change/" in text
    assert f"/admin/webhooks/subscription/{theirs.pk}/change/" not in text
    assert "failed deliveries" in text.lower()
    assert "last success" in text.lower()
    assert cora.get(f"/admin/webhooks/subscription/{theirs.pk}/change/").status_code == 302
    page = cora.get(f"/admin/webhooks/subscription/{ours.pk}/change/")
    assert page.status_code == 200
    assert b"secret_encrypted" not in page.content
    assert cora.get("/admin/webhooks/subscription/add/").status_code == 403


def test_access_requests_follow_the_apis_rule(world: World) -> None:
    profile = world.profile(TLP.AMBER)
    notice_id = world.published(profile_ids=[profile.pk], restricted_data_available=True)
    body = {
        "target_type": "profile",
        "target_id": profile.pk,
        "via_notice": notice_id,
        "purpose": "Check our prisons.",
        "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
        "days": 30,
    }
    request_id = ok(world.client(world.net.charlie).post(REQUESTS, body, format="json"), 201)["id"]
    cora, sam = _staff(world.net.cora), _staff(_analyst(world, TLP.AMBER_STRICT))

    url = f"/admin/intel/accessrequest/{request_id}/change/"
    assert url in cora.get("/admin/intel/accessrequest/").content.decode()
    assert cora.get(url).status_code == 200  # the secretariat's coordinators see every one
    assert url not in sam.get("/admin/intel/accessrequest/").content.decode()
    assert sam.get(url).status_code == 302
    assert cora.get("/admin/intel/accessrequest/add/").status_code == 403
    assert cora.get(f"/admin/intel/accessrequest/{request_id}/delete/").status_code == 403
