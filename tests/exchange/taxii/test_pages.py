"""What one TAXII page reads and shows: the part of the feed after its cursor, never the whole
feed; and, page after page, only what the member may see at the time of each request."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from exchange.stix import objects as stix_objects
from intel.models import TLP, DeviceProfile, Member, ProfileRevision
from intel.snapshots import profile_snapshot
from tests.conftest import Network
from tests.exchange.taxii.conftest import EVERYTHING, ROOT, TaxiiClient

Taxii = Callable[..., TaxiiClient]
OBJECTS = f"{ROOT}collections/{EVERYTHING}/objects/"


def bulk_profiles(network: Network, count: int) -> list[DeviceProfile]:
    """`count` TLP:GREEN profiles of fr-desk with one revision each, a millisecond apart
    (inserted in bulk: filing hundreds through the service would take the test minutes)."""
    profiles = DeviceProfile.objects.bulk_create(
        [
            DeviceProfile(
                name=f"Bulk phone {i}",
                device_class="mini_phone",
                owner=network.fr_desk,
                created_by=network.alice,
                tlp=TLP.GREEN,
            )
            for i in range(count)
        ]
    )
    now = timezone.now()
    ProfileRevision.objects.bulk_create(
        [
            ProfileRevision(
                profile=p,
                number=1,
                author=network.alice,
                created_at=now + timedelta(milliseconds=i),
                action="create",
                tlp=TLP.GREEN,
                changes={},
                snapshot=profile_snapshot(p),
            )
            for i, p in enumerate(profiles)
        ]
    )
    return profiles


@contextmanager
def rows_read() -> Iterator[list[int]]:
    """The number of rows each query run inside the block returned."""
    counts: list[int] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        counts.append(max(context["cursor"].rowcount, 0))
        return result

    with connection.execute_wrapper(count):
        yield counts


def page(client: TaxiiClient, **params: str) -> dict[str, Any]:
    response = client.get(OBJECTS, **params)
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_a_page_reads_the_rows_around_its_cursor_not_the_whole_feed(
    network: Network, taxii: Taxii
) -> None:
    """A pull of N objects must not cost N queries of the whole feed: a page of 5 in the
    middle of a 300-profile feed reads a few rows per source, not every visible profile."""
    profiles = bulk_profiles(network, 300)
    client = taxii(network.bob)
    body = page(client, limit="5")
    for _ in range(30):  # well inside the feed
        body = page(client, limit="5", next=body["next"])
    with rows_read() as counts:
        body = page(client, limit="5", next=body["next"])
    assert len(body["objects"]) == 5
    assert body["more"]
    assert sum(counts) < len(profiles) // 3, counts


def amber_ids(objs: list[dict[str, Any]]) -> set[str]:
    amber = stix_objects.TLP_MARKING_IDS[TLP.AMBER]
    return {obj["id"] for obj in objs if amber in obj.get("object_marking_refs", [])}


def _lower_clearance(network: Network, member: Member) -> None:
    member.clearance = TLP.GREEN
    member.save()


def _move_to_the_outsider_desk(network: Network, member: Member) -> None:
    member.organisation = network.de_desk
    member.save()


def _sponsor_changes(network: Network, member: Member) -> None:
    authority = member.organisation
    assert authority is not None
    authority.sponsor = network.de_desk
    authority.save()


def _profiles_restricted(network: Network, member: Member) -> None:
    for profile in DeviceProfile.objects.filter(tlp=TLP.AMBER):
        profile.recipient_organisations.clear()
        profile.tlp = TLP.AMBER_STRICT
        profile.save()


@pytest.mark.parametrize(
    ("who", "change"),
    [
        ("bob", _lower_clearance),
        ("bob", _move_to_the_outsider_desk),
        ("dave", _sponsor_changes),
        ("bob", _profiles_restricted),
    ],
)
def test_a_pull_never_shows_what_stopped_being_visible_since_the_previous_page(
    network: Network,
    taxii: Taxii,
    make_profile: Callable[..., DeviceProfile],
    who: str,
    change: Callable[[Network, Member], None],
) -> None:
    """Each page is decided by the member's entitlements and the data at the time of its own
    request: a clearance lowered, a member moved to another desk, a sponsor changed, or a
    profile's audience narrowed between two pages hides those objects from the next page."""
    for n in range(8):
        make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name=f"Amber phone {n}")
        make_profile(tlp=TLP.GREEN, name=f"Green phone {n}")
    member: Member = getattr(network, who)
    client = taxii(member)
    body = page(client, limit="4")
    for _ in range(100):  # up to the first page that shows an AMBER profile
        if amber_ids(body.get("objects", [])) or not body["more"]:
            break
        body = page(client, limit="4", next=body["next"])
    assert amber_ids(body["objects"])
    assert body["more"]
    change(network, member)
    rest: list[dict[str, Any]] = []
    for _ in range(100):
        if not body["more"]:
            break
        body = page(client, limit="4", next=body["next"])
        rest += body.get("objects", [])
    assert rest, "the pull went on after the change"
    assert amber_ids(rest) == set()
