"""Refused reads (docs/audit.md, "Refused reads"): a member's 404 on an object that exists is
recorded as `read.denied`, once per member, object and hour; `suspicious/` lists members with
many of them; reading what one may see, or ids that do not exist, records no denial."""

from typing import Any

from django.test import override_settings

from intel.models import TLP
from tests.helpers.audit import AUDIT, NOTICES, PROFILES, World, events_after, last_id, ok

SEIZURES = "/api/v1/seizures/"
REQUESTS = "/api/v1/access-requests/"


def _denials(mark: int) -> list[tuple[str, str, str]]:
    return [
        (e.actor_username, e.object_type, e.object_id)
        for e in events_after(mark)
        if e.action == "read.denied"
    ]


def test_an_outsider_probing_ids_is_recorded_once_per_object_and_shows_as_suspicious(
    world: World,
) -> None:
    profiles = [world.profile(TLP.AMBER, name=f"Mini phone {n}") for n in range(20)]
    charlie = world.client(world.net.charlie)  # de-desk: none of them is shared with it
    mark = last_id()

    for _ in range(2):  # the same probe twice within the hour: one event per profile
        for profile in profiles:
            answer = charlie.get(f"{PROFILES}{profile.pk}/")
            assert answer.status_code == 404
            assert answer.json()["type"] == "urn:dix:problem:not-found"
    absent = max(p.pk for p in profiles) + 1000
    assert charlie.get(f"{PROFILES}{absent}/").status_code == 404  # no such object: no trace

    denied = [e for e in events_after(mark) if e.action == "read.denied"]
    assert {int(e.object_id) for e in denied} == {p.pk for p in profiles}
    for profile in profiles:  # one per clock hour (the probes may straddle one)
        moments = [e.created_at for e in denied if e.object_id == str(profile.pk)]
        assert len(moments) == len({m.replace(minute=0, second=0, microsecond=0) for m in moments})
    for event in denied:
        assert (event.actor_username, event.organisation_slug) == ("charlie", "de-desk")
        assert (event.object_type, event.object_tlp, event.detail) == ("profile", TLP.AMBER, {})
        assert "Mini phone" not in str(event.justification)

    auditor = world.client(world.net.audrey)
    listing = ok(auditor.get(f"{AUDIT}?action=read.denied&actor=charlie&page_size=50"))
    assert len(listing["results"]) == len(denied)
    suspicious = ok(auditor.get(f"{AUDIT}suspicious/"))
    assert (suspicious["threshold"], suspicious["minutes"]) == (10, 60)
    (row,) = suspicious["members"]
    assert (row["actor_username"], row["organisation_slug"], row["refusals"]) == (
        "charlie",
        "de-desk",
        len(denied),
    )
    with override_settings(DIX_AUDIT_SUSPICIOUS_REFUSALS=len(denied) + 1):
        assert ok(auditor.get(f"{AUDIT}suspicious/"))["members"] == []


def test_suspicious_is_for_auditors_only(world: World) -> None:
    for member in (world.net.bob, world.net.cora, world.net.alice):
        assert world.client(member).get(f"{AUDIT}suspicious/").status_code == 404


def test_a_member_reading_what_they_may_see_records_no_denial(world: World) -> None:
    profile = world.profile(TLP.AMBER)
    clear = world.profile(TLP.CLEAR)
    notice_id = world.published(profile_ids=[profile.pk])
    bob = world.client(world.net.bob)  # be-desk: a recipient of the AMBER profile
    mark = last_id()

    ok(bob.get(f"{PROFILES}{profile.pk}/"))
    ok(bob.get(f"{PROFILES}{clear.pk}/"))
    ok(bob.get(f"{PROFILES}{profile.pk}/identifiers/"))
    ok(bob.get(f"{NOTICES}{notice_id}/"))
    ok(bob.get(f"/api/v1/profiles/{profile.pk}/seizure-stats/"))

    assert _denials(mark) == []
    assert [e.action for e in events_after(mark)] == ["profile.read"]


def test_refusals_of_every_kind_of_object_are_recorded(world: World) -> None:
    """A draft notice, a seizure report, an access request, a profile's sub-resources and
    its STIX export: each detail URL a member may not see records its denial."""
    profile = world.profile(TLP.AMBER)
    draft = world.draft()  # alice's (fr-desk) draft: nobody else's business
    report = ok(
        world.client(world.net.alice).post(
            SEIZURES,
            {
                "seized_on": "2025-06-12",
                "facility_type": "prison",
                "negative_result": True,
                "tlp": TLP.AMBER,
            },
            format="json",
        ),
        201,
    )
    notice_id = world.published(profile_ids=[profile.pk], restricted_data_available=True)
    body: dict[str, Any] = {
        "target_type": "profile",
        "target_id": profile.pk,
        "via_notice": notice_id,
        "purpose": "Check our prisons.",
        "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
        "days": 30,
    }
    request = ok(world.client(world.net.charlie).post(REQUESTS, body, format="json"), 201)
    bob = world.client(world.net.bob)
    charlie = world.client(world.net.charlie)
    mark = last_id()

    assert bob.get(f"{NOTICES}{draft}/").status_code == 404
    assert bob.get(f"{NOTICES}{draft}/versions/").status_code == 404
    assert bob.get(f"{SEIZURES}{report['id']}/").status_code == 404
    assert bob.get(f"{REQUESTS}{request['id']}/").status_code == 404
    assert charlie.get(f"{PROFILES}{profile.pk}/identifiers/").status_code == 404
    assert charlie.get(f"{PROFILES}{profile.pk}/stix/").status_code == 404
    assert charlie.get(f"/api/v1/profiles/{profile.pk}/seizure-stats/").status_code == 404

    assert set(_denials(mark)) == set(
        [
            ("bob", "notice", str(draft)),
            ("bob", "seizure_report", str(report["id"])),
            ("bob", "access_request", str(request["id"])),
            ("charlie", "profile", str(profile.pk)),
        ]
    )
