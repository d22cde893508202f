"""What a pull through `/taxii2/` gives each member, over the real feed of
`tests/exchange/stix/conftest.py`: only the marking definitions its objects use, standard STIX only in
the interop collection, and one content per (id, modified) whoever pulls it."""

from collections.abc import Callable
from typing import Any

import pytest
import stix2
from django.http import QueryDict

from exchange.stix import objects as stix_objects
from exchange.stix.feed import entries
from exchange.taxii import paging
from exchange.taxii.collections import EVERYTHING as EVERYTHING_C
from exchange.taxii.collections import INTEROP as INTEROP_C
from intel import services
from intel.models import TLP, DeviceProfile, Member
from notices import services as notice_services
from notices.models import AudienceScope
from tests.conftest import Network
from tests.exchange.stix.conftest import Feed, feed  # noqa: F401 - the fixture
from tests.exchange.taxii.conftest import EVERYTHING, INTEROP, TaxiiClient
from tests.helpers.taxii import pull

Taxii = Callable[..., TaxiiClient]
PERSONAS = ("alice", "audrey", "bob", "dave", "charlie", "olga")


def marking_ids(objs: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(the marking definitions sent, the markings the other objects reference)."""
    sent = {obj["id"] for obj in objs if obj["type"] == "marking-definition"}
    used = {
        ref
        for obj in objs
        if obj["type"] != "marking-definition"
        for ref in stix_objects.references(obj)
    }
    return sent, {ref for ref in used if ref.startswith("marking-definition--")}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("collection", [EVERYTHING, INTEROP])
def test_a_pull_carries_only_the_marking_definitions_its_objects_use(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Taxii,
    who: str,
    collection: str,
) -> None:
    """MISP turns every marking definition it receives into a tag of the event."""
    objs = pull(taxii(getattr(network, who)), collection, **{"match[version]": "all"})

    sent, used = marking_ids(objs)

    assert sent == used
    if who == "charlie":
        assert sent == {
            stix_objects.TLP_MARKING_IDS[TLP.CLEAR],
            stix_objects.TLP_MARKING_IDS[TLP.GREEN],
        }


def test_the_bundle_of_a_green_notice_carries_only_its_markings(
    feed: Feed,  # noqa: F811
    network: Network,
    api: Callable[[Member | None], Any],
) -> None:
    for who in (network.charlie, network.bob, network.alice):
        response = api(who).get(f"/api/v1/notices/{feed.notice.pk}/stix/?format=json")
        assert response.status_code == 200
        sent, used = marking_ids(response.json()["objects"])
        assert sent == used


@pytest.mark.parametrize("who", PERSONAS)
def test_the_interop_collection_is_standard_stix_that_keeps_its_references(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Taxii,
    who: str,
) -> None:
    objs = pull(taxii(getattr(network, who)), INTEROP)
    ids = {obj["id"] for obj in objs}

    # The OASIS library with custom content refused: every object and property is STIX 2.1.
    bundle = stix2.parse(
        {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs},
        allow_custom=False,
    )
    assert len(bundle.objects) == len(objs)
    for obj in objs:
        assert stix_objects.references(obj) <= ids, obj  # nothing points outside the collection
    sightings = [obj for obj in objs if obj["type"] == "sighting"]
    assert sightings
    assert all(s["sighting_of_ref"].startswith("indicator--") for s in sightings)


def _views_that_differ(network: Network, feed: Feed, make_profile: Any) -> None:  # noqa: F811
    """Renderings that depend on who reads them: the GREEN profile's family is the RED
    profile (only some see it), and a profile written as AMBER and lowered to GREEN after a
    notice named it (who may read the AMBER revision differs)."""
    green, red = feed.profiles[TLP.GREEN], feed.profiles[TLP.RED]
    services.profile_update(
        profile_id=green.pk,
        author=network.alice,
        expected_version=None,
        data=services.ProfileInput(fields={}, parent=red, parent_set=True),
    )
    lowered: DeviceProfile = make_profile(
        tlp=TLP.AMBER, name="Lowered later", recipients=[network.be_desk]
    )
    notice = notice_services.notice_create_draft(
        author=network.alice,
        data=notice_services.NoticeInput(
            fields={
                "notice_type": "alert",
                "title": "Lowered later",
                "summary": "A profile lowered after publication.",
                "audience_scope": AudienceScope.NETWORK,
                "tlp": TLP.AMBER,
            },
            profiles=[lowered, feed.profiles[TLP.AMBER_STRICT]],
        ),
    )
    notice_services.notice_publish(notice_id=notice.pk, author=network.cora)
    services.profile_update(
        profile_id=lowered.pk,
        author=network.alice,
        expected_version=None,
        data=services.ProfileInput(fields={"tlp": TLP.GREEN}),
    )


def test_one_version_of_an_object_reads_the_same_for_every_member(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Taxii,
    make_profile: Callable[..., DeviceProfile],
) -> None:
    """A store that mixes pulls (a shared MISP or OpenCTI) keeps one content per (id,
    modified): every version any member receives, of every type, must read the same for
    every other member who receives it."""
    _views_that_differ(network, feed, make_profile)
    seen: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    reports: dict[str, set[str]] = {}
    for who in PERSONAS:
        for obj in pull(taxii(getattr(network, who)), EVERYTHING, **{"match[version]": "all"}):
            key = (obj["id"], obj.get("modified", obj["created"]))
            first = seen.setdefault(key, (who, obj))
            assert first[1] == obj, f"{key} differs between {first[0]} and {who}"
            if obj["type"] == "report":
                reports.setdefault(obj["name"], set()).add(obj["id"])

    types = {key[0].split("--")[0] for key in seen}
    assert {"report", "x-dix-device-profile", "indicator", "sighting", "relationship"} <= types
    assert {"identity", "location", "marking-definition", "extension-definition"} <= types
    # The notices were indeed rendered differently for different members.
    assert all(len(ids) > 1 for ids in reports.values()), reports


def test_a_profile_family_is_a_relationship_only_those_who_see_both_receive(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Taxii,
    make_profile: Callable[..., DeviceProfile],
) -> None:
    _views_that_differ(network, feed, make_profile)
    green, red = feed.profiles[TLP.GREEN], feed.profiles[TLP.RED]

    def families(member: Member) -> list[dict[str, Any]]:
        return [
            obj
            for obj in pull(taxii(member), EVERYTHING)
            if obj.get("relationship_type") == "derived-from"
        ]

    (link,) = families(network.audrey)
    assert (link["source_ref"], link["target_ref"]) == (
        stix_objects.profile_id(green.pk),
        stix_objects.profile_id(red.pk),
    )
    assert families(network.charlie) == []
    assert all("parent_ref" not in obj for obj in pull(taxii(network.audrey), EVERYTHING))


@pytest.mark.parametrize("version", ["last", "all", "first"])
def test_a_paged_pull_is_the_feed_in_order_whatever_the_page_size(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Taxii,
    make_profile: Callable[..., DeviceProfile],
    version: str,
) -> None:
    """Pages are built from the part of the feed after the cursor: small pages, over every
    kind of object and ties in `date_added`, give exactly the whole feed, in order."""
    _views_that_differ(network, feed, make_profile)
    for who in ("alice", "charlie"):
        member = getattr(network, who)
        for collection, holds in ((EVERYTHING, EVERYTHING_C.holds), (INTEROP, INTEROP_C.holds)):
            query = paging.parse_query(QueryDict(f"match[version]={version}"), matches=("version",))
            whole = paging.select([e for e in entries(member) if holds(e)], query)
            expected = [(e.stix_id, e.version) for e in whole]
            for limit in ("1", "4"):
                got = [
                    (obj["id"], obj.get("modified", obj["created"]))
                    for obj in pull(
                        taxii(member), collection, limit=limit, **{"match[version]": version}
                    )
                ]
                assert got == expected, (who, collection, limit)
