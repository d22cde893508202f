"""The STIX 2.1 export (docs/stix.md): what `exchange.stix.feed.entries(member)` gives the TAXII
server and what the bundle endpoints answer, over the network of `tests/exchange/stix/conftest.py`
(one fr-desk profile of each label, a GREEN notice naming the GREEN and AMBER ones, a
seizure report by be-desk with a line for each of them, the retailer Oportik).

Validity is checked with stix2-validator 3.2.0 given `exchange/stix/schemas/` as its schema
directory: it then validates every `x-dix-device-profile` against our own schema as well
(`test_the_validator_applies_our_profile_schema` shows it refuses a broken one)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stix2
from rest_framework.test import APIClient
from stix2validator import ValidationOptions, validate_instance

from exchange.stix import objects as stix_objects
from exchange.stix.entry import Entry
from exchange.stix.feed import entries
from exchange.taxii.collections import INTEROP
from intel import services
from intel.models import TLP, DeviceProfile, Member
from intel.models.audit import AuditEvent
from intel.models.children import (
    ConcealmentStage,
    ConcealmentVector,
    DetectionMethod,
    ExpectedOutcome,
    IdentifierKind,
)
from intel.models.profiles import DeviceClass, HousingMaterial, MetalContent
from notices import services as notice_services
from tests.conftest import Network
from tests.exchange.stix.conftest import Feed

SCHEMAS = str(Path(stix_objects.SCHEMA_FILE).parent.resolve())
STIX = "application/stix+json;version=2.1"
RESTRICTED = {
    stix_objects.TLP_MARKING_IDS[label] for label in (TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)
}
UUID_V4_ADVICE = "{103}"  # "SHOULD use UUIDv4": DIX's ids are uuid5 on purpose (stable)

Api = Callable[[Member | None], APIClient]

# The TLP 2.0 marking definitions exactly as OASIS publishes them (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0/examples and objects/marking-definition).
OASIS_TLP2 = [
    ("TLP:CLEAR", "94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
    ("TLP:GREEN", "bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
    ("TLP:AMBER", "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
    ("TLP:AMBER+STRICT", "939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
    ("TLP:RED", "e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
]


def validate(objects: list[dict[str, Any]]) -> Any:
    bundle = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}
    options = ValidationOptions(version="2.1", schema_dir=SCHEMAS, enforce_refs=True)
    return validate_instance({**bundle, "objects": objects}, options)


def latest(feed_entries: list[Entry]) -> dict[str, dict[str, Any]]:
    objs: dict[str, dict[str, Any]] = {}
    for entry in feed_entries:
        if entry.stix_id not in objs or entry.version > objs[entry.stix_id].get(
            "modified", objs[entry.stix_id]["created"]
        ):
            objs[entry.stix_id] = entry.obj
    return objs


def versions_of(feed_entries: list[Entry], stix_id: str) -> list[Entry]:
    return [e for e in feed_entries if e.stix_id == stix_id]


def markings(obj: dict[str, Any]) -> set[str]:
    return set(obj.get("object_marking_refs", []))


def report_of(objs: dict[str, dict[str, Any]], notice: Any) -> dict[str, Any]:
    """The report of `notice` in these objects (its id depends on the member's view)."""
    found = [
        obj
        for obj in objs.values()
        if obj["type"] == "report"
        and obj["external_references"][0]["external_id"] == notice.reference
    ]
    assert len(found) == 1, found
    return found[0]


# --- Valid STIX ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "audrey"])
def test_every_exported_object_validates_and_parses(feed: Feed, network: Network, who: str) -> None:
    feed_entries = entries(getattr(network, who))
    types = {e.stix_type for e in feed_entries}
    assert {"x-dix-device-profile", "report", "sighting", "relationship", "identity"} <= types
    assert {"marking-definition", "extension-definition", "location"} <= types

    result = validate([e.obj for e in feed_entries])  # every version, not only the latest

    assert result.is_valid, [str(e) for e in result.errors]
    assert all(UUID_V4_ADVICE in str(w) for w in result.warnings), [
        str(w) for w in result.warnings if UUID_V4_ADVICE not in str(w)
    ]
    bundle = stix2.parse(
        {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}
        | {"objects": list(latest(feed_entries).values())},
        allow_custom=True,
    )
    assert len(bundle.objects) == len(latest(feed_entries))


@pytest.mark.parametrize("who", ["alice", "bob", "charlie"])
def test_the_interop_collection_holds_objects_that_stand_on_their_own(
    feed: Feed, network: Network, who: str
) -> None:
    held_entries = [e for e in entries(getattr(network, who)) if INTEROP.holds(e)]
    held = [e.obj for e in held_entries]
    ids = {obj["id"] for obj in held}

    assert {obj["type"] for obj in held} == {
        "report",
        "sighting",
        "indicator",
        "identity",
        "location",
        "marking-definition",
    }
    for obj in held:
        # Every reference stays inside the collection: reports name and sightings sight the
        # profiles' indicators, never the custom type.
        assert stix_objects.references(obj) <= ids, obj
    result = validate(held)
    assert result.is_valid, [str(e) for e in result.errors]
    bundle = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}
    # The OASIS library refuses any custom type or property unless told otherwise.
    stix2.parse(bundle | {"objects": list(latest(held_entries).values())}, allow_custom=False)


def test_the_validator_applies_our_profile_schema(feed: Feed, network: Network) -> None:
    profile = next(
        e.obj for e in entries(network.alice) if e.stix_type == stix_objects.PROFILE_TYPE
    )
    assert validate([profile]).is_valid

    wrong = profile | {"weight_g": "heavy", "recipient_members": ["audrey"]}
    errors = [str(e) for e in validate([wrong]).errors]

    assert any("weight_g" in e for e in errors), errors
    assert any("recipient_members" in e for e in errors), errors


def test_profile_schema_enums_follow_the_models() -> None:
    schema = json.loads(stix_objects.SCHEMA_FILE.read_text())
    props = schema["properties"]
    signature = props["detection_signatures"]["items"]["properties"]
    concealment = props["concealment_methods"]["items"]["properties"]
    assert props["device_class"]["enum"] == DeviceClass.values
    assert props["housing_material"]["enum"] == HousingMaterial.values
    assert props["metal_content"]["enum"] == MetalContent.values
    assert props["identifiers"]["items"]["properties"]["kind"]["enum"] == IdentifierKind.values
    assert signature["method"]["enum"] == DetectionMethod.values
    assert signature["expected_outcome"]["enum"] == ExpectedOutcome.values
    assert concealment["stage"]["enum"] == ConcealmentStage.values
    assert concealment["vector"]["enum"] == ConcealmentVector.values


def test_profile_object_carries_what_the_member_may_see(feed: Feed, network: Network) -> None:
    green = feed.profiles[TLP.GREEN]
    obj = latest(entries(network.charlie))[stix_objects.profile_id(green.pk)]

    assert obj["name"] == green.name
    assert obj["description"].startswith("Mini phone; 68 x 21 x 12.5 mm; 15 g")
    assert "walk-through metal detector: usually not detected" in obj["description"]
    assert obj["tac_ranges"] == [
        {"start": "00123456", "end": "00123456"},
        {"start": "00200000", "end": "00200099"},
    ]
    assert obj["dimensions_mm"] == {"length": 68, "width": 21, "depth": 12.5}
    assert obj["price"] == {"amount": "20.00", "currency": "EUR"}
    assert obj["detection_signatures"][0]["method"] == "walk_through_metal_detector"
    assert obj["created_by_ref"] == stix_objects.organisation_id(network.fr_desk.pk)
    assert obj["extensions"] == {stix_objects.PROFILE_EXTENSION_ID: {"extension_type": "new-sdo"}}
    assert markings(obj) == {stix_objects.TLP_MARKING_IDS[TLP.GREEN]}
    # Distribution lists are not intelligence: no usernames or recipients leave DIX.
    assert "recipient_members" not in obj
    assert "recipient_organisations" not in obj


def test_markings_identity_and_extension_are_shipped_to_everyone(
    feed: Feed, network: Network
) -> None:
    for who in (network.alice, network.charlie, network.olga):
        objs = latest(entries(who))
        for name, uuid, level in OASIS_TLP2:
            if f"marking-definition--{uuid}" not in objs:
                continue
            assert objs[f"marking-definition--{uuid}"] == {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": f"marking-definition--{uuid}",
                "created": "2022-10-01T00:00:00.000Z",
                "name": name,
                "extensions": {
                    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                        "extension_type": "property-extension",
                        "tlp_2_0": level,
                    }
                },
            }
        definition = objs[stix_objects.PROFILE_EXTENSION_ID]
        assert definition["extension_types"] == ["new-sdo"]
        assert definition["created_by_ref"] == stix_objects.dix_identity_id()
        assert definition["version"] == "1.0.0"
        assert definition["schema"]
        assert objs[stix_objects.dix_identity_id()]["identity_class"] == "system"
        assert objs[stix_objects.organisation_id(network.de_desk.pk)]["name"] == "German Desk"


# --- Stable ids, versions ------------------------------------------------------------------------


def test_ids_versions_and_date_added_are_stable_across_exports(
    feed: Feed, network: Network
) -> None:
    first = entries(network.bob)
    second = entries(network.bob)

    assert first == second
    assert [e.date_added for e in first] == sorted(e.date_added for e in first)
    # The same thing has the same id whoever exports it.
    green = stix_objects.profile_id(feed.profiles[TLP.GREEN].pk)
    assert green in {e.stix_id for e in entries(network.charlie)}
    assert len({e.stix_id for e in first}) < len(first)  # several versions of some objects
    assert len({(e.stix_id, e.version) for e in first}) == len(first)


def test_profile_update_adds_a_version_with_a_later_modified(feed: Feed, network: Network) -> None:
    profile = feed.profiles[TLP.AMBER]
    sid = stix_objects.profile_id(profile.pk)
    before = versions_of(entries(network.bob), sid)

    services.profile_update(
        profile_id=profile.pk,
        author=network.alice,
        expected_version=None,
        data=services.ProfileInput(fields={"weight_g": "18.5"}),
    )
    after_all = entries(network.bob)
    after = versions_of(after_all, sid)

    assert [e.version for e in before] == [e.version for e in after[:-1]]
    assert [e.obj for e in before] == [e.obj for e in after[:-1]]  # old versions unchanged
    new = after[-1]
    assert new.version > before[-1].version
    assert new.obj["modified"] == new.version
    assert new.obj["created"] == before[0].obj["created"]
    assert new.obj["weight_g"] == 18.5
    assert new.obj["revision"] == 3
    assert new.date_added == profile.revisions.get(number=3).created_at
    # The supplier did not change: no new version of it or of its relationship.
    supplier = [e for e in after_all if e.stix_type == "relationship"]
    assert all(e.date_added < new.date_added for e in supplier)


def test_revisions_within_one_millisecond_still_get_distinct_versions(
    feed: Feed, network: Network
) -> None:
    profile = feed.profiles[TLP.GREEN]
    moment = profile.revisions.get(number=1).created_at
    profile.revisions.update(created_at=moment)

    versions = versions_of(entries(network.charlie), stix_objects.profile_id(profile.pk))

    assert len(versions) == 2
    assert versions[0].version < versions[1].version
    assert versions[0].obj["created"] <= versions[0].version


def test_one_millisecond_shared_with_a_hidden_revision_gives_every_reader_the_same_times(
    feed: Feed, network: Network
) -> None:
    """The GREEN profile's parent becomes the RED one (a revision charlie may not see), then
    it is renamed, all within the millisecond it was filed in. Each (id, modified) still
    names one content, whether alice (who sees the parent) or charlie reads it."""
    profile = feed.profiles[TLP.GREEN]
    for data in (
        services.ProfileInput(fields={}, parent=feed.profiles[TLP.RED], parent_set=True),
        services.ProfileInput(fields={"name": "Renamed"}),
    ):
        services.profile_update(
            profile_id=profile.pk, author=network.alice, expected_version=None, data=data
        )
    moment = profile.revisions.get(number=1).created_at
    profile.revisions.update(created_at=moment)

    sid = stix_objects.profile_id(profile.pk)
    by_reader = {
        who: {e.version: e.obj for e in versions_of(entries(getattr(network, who)), sid)}
        for who in ("alice", "charlie")
    }

    assert [v["revision"] for v in by_reader["alice"].values()] == [1, 2, 3, 4]
    assert [v["revision"] for v in by_reader["charlie"].values()] == [1, 2, 4]
    for modified, obj in by_reader["charlie"].items():
        assert by_reader["alice"][modified] == obj, modified


def test_a_profile_without_revisions_is_exported_as_it_stands(network: Network) -> None:
    profile = DeviceProfile.objects.create(
        name="Loaded straight into the database",
        device_class="sim_card",
        owner=network.de_desk,
        tlp=TLP.GREEN,
    )

    versions = versions_of(entries(network.bob), stix_objects.profile_id(profile.pk))

    assert [v.obj["revision"] for v in versions] == [1]
    assert versions[0].obj["description"] == "SIM card."
    assert validate([versions[0].obj]).is_valid


def test_a_supplier_that_leaves_the_profile_is_revoked(feed: Feed, network: Network) -> None:
    profile = feed.profiles[TLP.GREEN]
    relationship = next(
        e.obj
        for e in entries(network.charlie)
        if e.stix_type == "relationship"
        and e.obj["target_ref"] == stix_objects.profile_id(profile.pk)
    )

    services.profile_update(
        profile_id=profile.pk,
        author=network.alice,
        expected_version=None,
        data=services.ProfileInput(fields={}, suppliers=[]),
    )
    objs = latest(entries(network.charlie))

    assert objs[relationship["id"]]["revoked"] is True
    assert objs[relationship["source_ref"]]["revoked"] is True
    assert objs[relationship["id"]]["modified"] > relationship["modified"]


def test_a_notice_update_and_withdrawal_are_new_versions_of_its_report(
    feed: Feed, network: Network
) -> None:
    sid = report_of(latest(entries(network.charlie)), feed.notice)["id"]
    notice_services.notice_update(
        notice_id=feed.notice.pk,
        author=network.cora,
        data=notice_services.NoticeInput(fields={"summary": "Also check parcels."}),
        change_note="Parcels.",
    )
    notice_services.notice_withdraw(
        notice_id=feed.notice.pk, author=network.cora, reason="Issued in error."
    )

    versions = versions_of(entries(network.charlie), sid)

    assert len(versions) == 3
    assert versions[0].version < versions[1].version < versions[2].version
    assert {v.obj["created"] for v in versions} == {versions[0].obj["created"]}
    assert versions[1].obj["description"].startswith("Also check parcels.")
    assert "revoked" not in versions[1].obj
    assert versions[2].obj["revoked"] is True
    assert versions[2].obj["description"].startswith("WITHDRAWN: Issued in error.")


# --- Who sees what ----------------------------------------------------------------------------------


def test_the_outsider_receives_no_restricted_object_nor_a_reference_to_one(
    feed: Feed, network: Network
) -> None:
    everything = entries(network.alice)
    restricted_ids = {e.stix_id for e in everything if markings(e.obj) & RESTRICTED}
    assert stix_objects.profile_id(feed.profiles[TLP.AMBER].pk) in restricted_ids

    outsider = entries(network.charlie)

    assert outsider, "the outsider still receives the GREEN and CLEAR objects"
    for entry in outsider:
        assert not markings(entry.obj) & RESTRICTED, entry.stix_id
        assert entry.stix_id not in restricted_ids
        assert not stix_objects.references(entry.obj) & restricted_ids, entry.stix_id
    report = report_of(latest(outsider), feed.notice)
    assert report["object_refs"] == [stix_objects.indicator_id(feed.profiles[TLP.GREEN].pk)]
    sightings = [e.obj for e in outsider if e.stix_type == "sighting"]
    assert [s["count"] for s in sightings] == [88]


def test_a_report_describes_the_profiles_it_names_in_its_own_text(
    feed: Feed, network: Network
) -> None:
    """For tools that drop x-dix-device-profile: the report says what the device is, under
    the report's own label (the AMBER profile named by the GREEN notice is only pointed at)."""
    green, amber = feed.profiles[TLP.GREEN], feed.profiles[TLP.AMBER]
    outsider_report = report_of(latest(entries(network.charlie)), feed.notice)
    sid = outsider_report["id"]
    outsider = outsider_report["description"]
    partner = report_of(latest(entries(network.bob)), feed.notice)["description"]

    line = f"- {green.name}: Mini phone; 68 x 21 x 12.5 mm; 15 g"
    assert line in outsider
    assert line in partner
    assert "walk-through metal detector: usually not detected" in outsider
    assert stix_objects.profile_id(amber.pk) not in outsider
    assert amber.name not in outsider
    assert amber.name not in partner
    assert f"A device profile under TLP:AMBER ({stix_objects.indicator_id(amber.pk)})" in partner

    # A later revision of the profile is not rewritten into the published report.
    before = versions_of(entries(network.charlie), sid)
    services.profile_update(
        profile_id=green.pk,
        author=network.alice,
        expected_version=None,
        data=services.ProfileInput(fields={"weight_g": "99"}),
    )
    assert versions_of(entries(network.charlie), sid) == before


def test_the_partner_sees_the_amber_profile_in_the_report_and_its_sighting(
    feed: Feed, network: Network
) -> None:
    objs = latest(entries(network.bob))
    amber = stix_objects.profile_id(feed.profiles[TLP.AMBER].pk)

    assert amber in objs
    assert stix_objects.profile_id(feed.profiles[TLP.AMBER_STRICT].pk) not in objs
    indicator = stix_objects.indicator_id(feed.profiles[TLP.AMBER].pk)
    assert indicator in report_of(objs, feed.notice)["object_refs"]
    sighting = next(s for s in objs.values() if s.get("sighting_of_ref") == indicator)
    assert sighting["count"] == 3
    assert sighting["where_sighted_refs"] == [
        stix_objects.organisation_id(network.be_desk.pk),
        stix_objects.location_id("BE"),
    ]
    assert sighting["first_seen"] == "2025-05-20T00:00:00.000Z"
    assert objs[stix_objects.location_id("BE")]["country"] == "BE"


@pytest.mark.parametrize(
    ("who", "sees_red"), [("audrey", True), ("alice", True), ("cora", False), ("olga", False)]
)
def test_red_reaches_named_members_only(
    feed: Feed, network: Network, who: str, sees_red: bool
) -> None:
    objs = latest(entries(getattr(network, who)))
    assert (stix_objects.profile_id(feed.profiles[TLP.RED].pk) in objs) is sees_red
    if who == "olga":  # GREEN clearance: nothing above it, whatever her desk may see
        assert not any(markings(obj) & RESTRICTED for obj in objs.values())


def test_lowering_a_label_does_not_publish_the_history_written_under_it(
    feed: Feed, network: Network
) -> None:
    profile = feed.profiles[TLP.AMBER]
    services.profile_update(
        profile_id=profile.pk,
        author=network.alice,
        expected_version=None,
        data=services.ProfileInput(fields={"tlp": TLP.GREEN}),
    )

    versions = versions_of(entries(network.charlie), stix_objects.profile_id(profile.pk))

    assert [v.obj["revision"] for v in versions] == [3]
    assert markings(versions[0].obj) == {stix_objects.TLP_MARKING_IDS[TLP.GREEN]}
    assert len(versions_of(entries(network.bob), stix_objects.profile_id(profile.pk))) == 3


# --- Bundle endpoints ---------------------------------------------------------------------------------


def test_profile_bundle_endpoint(feed: Feed, network: Network, api: Api) -> None:
    profile = feed.profiles[TLP.AMBER]

    response = api(network.bob).get(f"/api/v1/profiles/{profile.pk}/stix/")

    assert response.status_code == 200
    assert response["Content-Type"] == STIX
    body = json.loads(response.content)
    assert body["type"] == "bundle"
    assert body["id"].startswith("bundle--")
    objs = {obj["id"]: obj for obj in body["objects"]}
    assert stix_objects.profile_id(profile.pk) in objs
    assert stix_objects.organisation_id(network.fr_desk.pk) in objs
    assert {stix_objects.PROFILE_EXTENSION_ID, stix_objects.TLP_MARKING_IDS[TLP.AMBER]} <= set(objs)
    types = sorted(obj["type"] for obj in objs.values())
    assert types.count("relationship") == 1
    assert types.count("sighting") == 1
    assert "report" not in types
    assert stix_objects.organisation_id(network.de_desk.pk) not in objs  # only what it names
    result = validate(body["objects"])
    assert result.is_valid, [str(e) for e in result.errors]
    event = AuditEvent.objects.filter(action="stix.export").get()
    assert (event.actor_username, event.object_type, event.object_id) == (
        "bob",
        "profile",
        str(profile.pk),
    )
    assert event.object_tlp == TLP.AMBER


def test_bundle_endpoints_answer_404_for_what_the_member_may_not_see(
    feed: Feed, network: Network, api: Api
) -> None:
    client = api(network.charlie)
    hidden = client.get(f"/api/v1/profiles/{feed.profiles[TLP.AMBER].pk}/stix/")
    missing = client.get("/api/v1/profiles/999999/stix/")
    junk = client.get("/api/v1/profiles/12ab/stix/")

    assert hidden.status_code == missing.status_code == junk.status_code == 404
    assert hidden.json() == missing.json()
    assert hidden["Content-Type"] == "application/problem+json"
    draft = notice_services.notice_create_draft(
        author=network.alice,
        data=notice_services.NoticeInput(fields={"notice_type": "alert", "title": "Draft"}),
    )
    assert client.get(f"/api/v1/notices/{draft.pk}/stix/").status_code == 404
    assert api(network.alice).get(f"/api/v1/notices/{draft.pk}/stix/").status_code == 409
    assert api(None).get(f"/api/v1/notices/{feed.notice.pk}/stix/").status_code == 401
    assert not AuditEvent.objects.filter(action="stix.export").exists()


def test_notice_bundle_names_only_the_profiles_the_member_may_see(
    feed: Feed, network: Network, api: Api
) -> None:
    response = api(network.charlie).get(f"/api/v1/notices/{feed.notice.pk}/stix/")

    assert response.status_code == 200
    objs = {obj["id"]: obj for obj in json.loads(response.content)["objects"]}
    report = report_of(objs, feed.notice)
    assert report["name"] == f"{feed.notice.reference}: Mini phones in prisons"
    assert report["object_refs"] == [stix_objects.indicator_id(feed.profiles[TLP.GREEN].pk)]
    assert report["published"]
    assert report["report_types"] == ["threat-report"]
    assert stix_objects.profile_id(feed.profiles[TLP.GREEN].pk) in objs
    assert not any(markings(obj) & RESTRICTED for obj in objs.values())
    assert not set(objs) & RESTRICTED  # not even the marking definitions in use elsewhere
    assert validate(list(objs.values())).is_valid
    assert AuditEvent.objects.filter(action="stix.export", object_type="notice").count() == 1


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "audrey"])
def test_every_bundle_is_self_contained(feed: Feed, network: Network, api: Api, who: str) -> None:
    """Each profile's and the notice's bundle resolves every reference it makes, its family
    included: the AMBER profile is a variant of the GREEN one, which is a variant of the RED
    one (a grandparent only alice and audrey see). The one exception is the TLP 2.0
    extension definition the OASIS marking definitions name: OASIS publishes it, and it is
    sent nowhere, the TAXII feed included."""
    green, amber, red = (feed.profiles[label] for label in (TLP.GREEN, TLP.AMBER, TLP.RED))
    for child, parent in ((amber, green), (green, red)):
        services.profile_update(
            profile_id=child.pk,
            author=network.alice,
            expected_version=None,
            data=services.ProfileInput(fields={}, parent=parent, parent_set=True),
        )
    client = api(getattr(network, who))
    paths = [f"/api/v1/profiles/{p.pk}/stix/" for p in feed.profiles.values()]
    paths.append(f"/api/v1/notices/{feed.notice.pk}/stix/")
    families = 0
    for path in paths:
        response = client.get(path)
        if response.status_code == 404:
            continue
        objects = json.loads(response.content)["objects"]
        ids = {obj["id"] for obj in objects}
        for obj in objects:
            dangling = (stix_objects.references(obj) | set(obj.get("extensions", {}))) - ids
            dangling -= (
                {stix_objects.TLP2_EXTENSION_ID} if obj["type"] == "marking-definition" else set()
            )
            assert not dangling, (path, obj["type"], dangling)
        families += sum(obj.get("relationship_type") == "derived-from" for obj in objects)
        assert validate(objects).is_valid, path
    # charlie sees the GREEN profile alone; every other reader here sees a pair.
    assert families > 0 or who == "charlie"
    if who == "alice":  # the parent comes along, not the parent's own family
        objs = json.loads(client.get(f"/api/v1/profiles/{amber.pk}/stix/").content)["objects"]
        profiles = {obj["id"] for obj in objs if obj["type"] == "x-dix-device-profile"}
        assert profiles == {stix_objects.profile_id(amber.pk), stix_objects.profile_id(green.pk)}
        assert sum(obj.get("relationship_type") == "derived-from" for obj in objs) == 1


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        ("application/stix+json;version=2.1", 200, STIX),
        ("application/stix+json", 200, STIX),
        ("application/json", 200, "application/json"),
        ("*/*", 200, STIX),
        ("application/xml", 406, "application/problem+json"),
        ("application/stix+json;version=2.0", 406, "application/problem+json"),
    ],
)
def test_bundle_media_types(
    feed: Feed, network: Network, api: Api, accept: str, status: int, content_type: str
) -> None:
    response = api(network.bob).get(f"/api/v1/notices/{feed.notice.pk}/stix/", HTTP_ACCEPT=accept)
    assert response.status_code == status
    assert response["Content-Type"] == content_type


def test_the_profile_schema_is_served(network: Network, api: Api) -> None:
    response = api(network.charlie).get("/api/v1/stix/schemas/x-dix-device-profile.json")

    assert response.status_code == 200
    assert response.json() == json.loads(stix_objects.SCHEMA_FILE.read_text())


def test_bundle_format_parameter_picks_the_media_type(
    feed: Feed, network: Network, api: Api
) -> None:
    client = api(network.bob)
    url = f"/api/v1/profiles/{feed.profiles[TLP.GREEN].pk}/stix/"

    as_json = client.get(url, {"format": "json"}, HTTP_ACCEPT="application/xml")
    as_stix = client.get(url, {"format": "stix"})

    assert as_json.status_code == as_stix.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert as_stix["Content-Type"] == STIX
    assert json.loads(as_json.content)["objects"]
    assert json.loads(as_stix.content)["objects"]


def test_a_withdrawn_report_is_no_longer_sighted(
    feed: Feed, network: Network, api: Callable[[Member], APIClient]
) -> None:
    indicator = stix_objects.indicator_id(feed.profiles[TLP.GREEN].pk)

    def sightings() -> list[dict[str, Any]]:
        objs = latest(entries(network.bob)).values()
        return [s for s in objs if s.get("sighting_of_ref") == indicator]

    assert [s["count"] for s in sightings()] == [88]
    withdrawn = api(network.bob).post(
        f"/api/v1/seizures/{feed.seizure.pk}/withdraw/", {"reason": "Double count."}, format="json"
    )
    assert withdrawn.status_code == 200
    assert sightings() == []
