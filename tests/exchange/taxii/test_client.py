"""The OASIS taxii2-client against the running service (pytest-django's `live_server`, a real
HTTP server in a thread) and the real STIX feed: what MISP and OpenCTI, which use this client
or speak the same protocol, would get.

Data: fr-desk (alice) files a TLP:AMBER profile for be-desk, a TLP:GREEN one and a TLP:RED
one naming audrey; charlie (de-desk) is the outsider.
"""

import gc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from exchange.stix.objects import TLP_MARKING_IDS, indicator_id, profile_id
from intel import accounts, services
from intel.models import TLP, AuditEvent, DeviceProfile, Member
from tests.exchange.taxii.conftest import EVERYTHING, INTEROP, TAXII
from tests.helpers.notices import draft, publish

RESTRICTED = {TLP_MARKING_IDS[label] for label in (TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)}
PROFILE_TYPE = "x-dix-device-profile"


@pytest.fixture
def base(live_server: Any, transactional_db: None) -> str:
    return f"{live_server.url}/taxii2/"


@pytest.fixture
def profiles(network: Any, make_profile: Callable[..., DeviceProfile]) -> dict[str, DeviceProfile]:
    return {
        "green": make_profile(tlp=TLP.GREEN, name="Green thumb phone"),
        "amber": make_profile(
            tlp=TLP.AMBER,
            name="L8star BM10",
            recipients=[network.be_desk],
            identifiers=[{"kind": "tac", "value": "00123456"}],
        ),
        "red": make_profile(tlp=TLP.RED, name="Red phone", members=[network.audrey]),
    }


def token(member: Member) -> str:
    return accounts.token_issue(member=member, name="taxii2-client").secret


def collection(base: str, member: Member, collection_id: str = EVERYTHING) -> Collection:
    """The collection as a client reaches it: discovery, API root, collections list."""
    server = Server(base, user=member.username, password=token(member))
    root = server.default
    assert root is not None
    (found,) = [c for c in root.collections if c.id == collection_id]
    return found


def everything(col: Collection, per_request: int, **filters: Any) -> list[dict[str, Any]]:
    pages = list(as_pages(col.get_objects, per_request=per_request, **filters))
    for envelope in pages:
        assert len(envelope.get("objects", [])) <= per_request
        assert envelope.get("more") is False or envelope.get("next")
    return [obj for envelope in pages for obj in envelope.get("objects", [])]


def versions_of(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["id"], o.get("modified", o.get("created", ""))) for o in objects]


def profile_stix_id(base: str, member: Member, name: str) -> str:
    col = collection(base, member)
    (found,) = [o["id"] for o in col.get_objects(type=PROFILE_TYPE)["objects"] if o["name"] == name]
    return str(found)


def test_discovery_api_roots_and_collections(base: str, network: Any, profiles: Any) -> None:
    server = Server(base, user="bob", password=token(network.bob))
    assert server.title
    assert [r.url for r in server.api_roots] == [base + "api/"]
    root: ApiRoot = server.api_roots[0]
    assert root.title == "DIX"
    assert TAXII in root.versions
    assert root.max_content_length > 0
    assert [(c.id, c.can_read, c.can_write) for c in root.collections] == [
        (EVERYTHING, True, False),
        (INTEROP, True, False),
    ]
    col = Collection(f"{base}api/collections/{INTEROP}/", user="bob", password=token(network.bob))
    assert col.title == "DIX — interop"
    assert col.media_types == ["application/stix+json;version=2.1"]


def test_paging_through_all_objects_with_as_pages(base: str, network: Any, profiles: Any) -> None:
    col = collection(base, network.alice)
    paged = everything(col, per_request=3)
    whole = col.get_objects()["objects"]
    assert versions_of(paged) == versions_of(whole)
    assert len(set(versions_of(paged))) == len(paged)
    assert len(paged) > 9  # several pages: markings, identities and the three profiles
    assert {o["spec_version"] for o in paged} == {"2.1"}
    names = {o.get("name") for o in paged if o["type"] == PROFILE_TYPE}
    assert names == {"Green thumb phone", "L8star BM10", "Red phone"}


def test_manifest_pages_match_the_objects(base: str, network: Any, profiles: Any) -> None:
    col = collection(base, network.bob)
    records = [
        record
        for envelope in as_pages(col.get_manifest, per_request=4)
        for record in envelope.get("objects", [])
    ]
    objects = col.get_objects()["objects"]
    assert [(r["id"], r["version"]) for r in records] == versions_of(objects)
    assert {r["media_type"] for r in records} == {"application/stix+json;version=2.1"}
    added = [r["date_added"] for r in records]
    assert added == sorted(added)


def test_object_by_id_and_its_versions(base: str, network: Any, profiles: Any) -> None:
    amber = profiles["amber"]
    services.profile_update(
        profile_id=amber.pk,
        author=network.alice,
        data=services.ProfileInput(fields={"notes": "Seen in three prisons."}),
        expected_version=None,
    )
    col = collection(base, network.bob)
    stix_id = profile_stix_id(base, network.bob, "L8star BM10")
    latest = col.get_object(stix_id)["objects"]
    assert len(latest) == 1
    assert latest[0]["notes"] == "Seen in three prisons."
    every = col.get_object(stix_id, version="all")["objects"]
    assert len(every) == 2
    first = col.get_object(stix_id, version="first")["objects"]
    assert "notes" not in first[0]
    versions = col.object_versions(stix_id)
    assert versions["versions"] == [o["modified"] for o in every]
    assert versions["versions"][-1] == latest[0]["modified"]


def test_the_outsider_never_receives_an_amber_object(
    base: str, network: Any, profiles: Any
) -> None:
    for collection_id in (EVERYTHING, INTEROP):
        col = collection(base, network.charlie, collection_id)
        received = everything(col, per_request=2, version="all")
        assert received
        for obj in received:
            assert not RESTRICTED & set(obj.get("object_marking_refs", [])), obj
        names = {o.get("name") for o in received}
        assert "L8star BM10" not in names
        assert "Red phone" not in names
    amber_id = profile_stix_id(base, network.alice, "L8star BM10")
    col = collection(base, network.charlie)
    with pytest.raises(requests.HTTPError) as refused:
        col.get_object(amber_id)
    assert refused.value.response.status_code == 404
    with pytest.raises(requests.HTTPError):
        col.object_versions(amber_id)
    manifest = [r["id"] for r in col.get_manifest(version="all").get("objects", [])]
    assert amber_id not in manifest


def test_a_refused_read_of_an_existing_object_is_recorded_once_per_member_and_hour(
    base: str, network: Any, profiles: Any, api: Any
) -> None:
    amber = profiles["amber"]
    felix = accounts.member_create(
        organisation=network.fr_desk, username="felix", role="coordinator", clearance=TLP.RED
    )
    notice = draft(
        api(network.alice),
        tlp=TLP.AMBER,
        profile_ids=[amber.pk],
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    publish(api(felix), notice["id"])
    (report_id,) = [
        o["id"] for o in collection(base, network.bob).get_objects(type="report")["objects"]
    ]
    outsider = collection(base, network.charlie)
    interop = collection(base, network.charlie, INTEROP)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    refused = [
        lambda: outsider.get_object(profile_id(amber.pk)),
        lambda: outsider.get_object(profile_id(amber.pk)),  # the same hour: not again
        lambda: outsider.object_versions(profile_id(amber.pk)),
        lambda: interop.get_object(indicator_id(amber.pk)),  # the same profile
        lambda: outsider.get_object(report_id),
        lambda: outsider.get_object(f"{PROFILE_TYPE}--{uuid.uuid4()}"),  # no such object
        # Bob sees the profile: that interop holds no custom type is no refusal.
        lambda: collection(base, network.bob, INTEROP).get_object(profile_id(amber.pk)),
    ]
    for read in refused:
        with pytest.raises(requests.HTTPError) as answer:
            read()
        assert answer.value.response.status_code == 404

    denied = AuditEvent.objects.filter(id__gt=mark, action="read.denied").order_by("id")
    assert [(e.actor_username, e.object_type, e.object_id, e.object_tlp) for e in denied] == [
        ("charlie", "profile", str(amber.pk), TLP.AMBER),
        ("charlie", "notice", str(notice["id"]), TLP.AMBER),
    ]


def test_date_added_headers_do_not_betray_what_the_member_cannot_see(
    base: str, network: Any, profiles: Any
) -> None:
    url = f"{base}api/collections/{EVERYTHING}/objects/"

    def last_added(member: Member) -> str:
        response = requests.get(
            url, headers={"Accept": TAXII}, auth=(member.username, token(member)), timeout=10
        )
        assert response.status_code == 200
        assert response.headers["X-TAXII-Date-Added-First"]
        return response.headers["X-TAXII-Date-Added-Last"]

    # The RED profile was added last: only audrey's and alice's answers end with it.
    assert last_added(network.alice) == last_added(network.audrey)
    assert last_added(network.charlie) < last_added(network.alice)
    assert last_added(network.bob) < last_added(network.alice)


def test_paging_under_inserts_neither_skips_nor_repeats(
    base: str, network: Any, profiles: Any, make_profile: Callable[..., DeviceProfile]
) -> None:
    """While bob pages (two objects a page), a profile is filed after the first page, and
    the green profile is updated right after the page that brought it: its first version
    leaves the `last` listing behind the cursor, which would make an offset cursor skip the
    next object."""
    col = collection(base, network.bob)
    received: list[dict[str, Any]] = []
    updated = False
    for number, envelope in enumerate(as_pages(col.get_objects, per_request=2), start=1):
        received += envelope.get("objects", [])
        if number == 1:
            make_profile(tlp=TLP.AMBER, name="Filed while paging", recipients=[network.be_desk])
        names = {o.get("name") for o in envelope.get("objects", [])}
        if "Green thumb phone" in names and not updated:
            services.profile_update(
                profile_id=profiles["green"].pk,
                author=network.alice,
                data=services.ProfileInput(fields={"notes": "Updated while paging."}),
                expected_version=None,
            )
            updated = True
    assert updated
    pairs = versions_of(received)
    assert len(set(pairs)) == len(pairs), "an object was repeated"
    now = versions_of(col.get_objects()["objects"])
    assert set(now) <= set(pairs), f"skipped: {set(now) - set(pairs)}"
    # Only first versions of the green profile (or of its indicator) were superseded, and
    # each was received along with its new version.
    green_ids = {indicator_id(profiles["green"].pk), profile_id(profiles["green"].pk)}
    superseded = {stix_id for stix_id, _ in set(pairs) - set(now)}
    assert superseded
    assert superseded <= green_ids
    green = [o["id"] for o in received if o.get("name") == "Green thumb phone"]
    assert all(green.count(stix_id) == 2 for stix_id in superseded)
    assert "Filed while paging" in {o.get("name") for o in received}


def test_no_credentials_is_a_401_with_www_authenticate(base: str, network: Any) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        _ = Server(base).title
    assert refused.value.response.status_code == 401
    response = requests.get(base + "api/collections/", headers={"Accept": TAXII}, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Content-Type"] == TAXII
    assert response.json()["http_status"] == "401"


def test_basic_with_a_password(base: str, network: Any) -> None:
    network.olga.set_password("olga's long passphrase")
    network.olga.save(update_fields=["password"])
    server = Server(base, user="olga", password="olga's long passphrase")
    assert server.title


def test_errors_carry_a_taxii_body_and_media_type(base: str, network: Any) -> None:
    auth = ("bob", token(network.bob))
    missing = requests.get(
        f"{base}api/collections/00000000-0000-4000-8000-000000000000/objects/",
        headers={"Accept": TAXII},
        auth=auth,
        timeout=10,
    )
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == TAXII
    assert missing.json()["http_status"] == "404"
    assert missing.json()["title"]
    refused = requests.get(
        f"{base}api/", headers={"Accept": "application/json"}, auth=auth, timeout=10
    )
    assert refused.status_code == 406
    assert refused.headers["Content-Type"] == TAXII
    assert refused.json()["http_status"] == "406"


def test_an_accept_without_version_is_served(base: str, network: Any, profiles: Any) -> None:
    response = requests.get(
        f"{base}api/collections/{EVERYTHING}/objects/",
        headers={"Accept": "application/taxii+json"},
        auth=("bob", token(network.bob)),
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == TAXII
    assert response.json()["objects"]


def test_match_type_version_and_added_after(base: str, network: Any, profiles: Any) -> None:
    services.profile_update(
        profile_id=profiles["green"].pk,
        author=network.alice,
        data=services.ProfileInput(fields={"notes": "Second version."}),
        expected_version=None,
    )
    col = collection(base, network.bob)
    only_profiles = col.get_objects(type=PROFILE_TYPE)["objects"]
    assert {o["type"] for o in only_profiles} == {PROFILE_TYPE}
    assert sorted(o["name"] for o in only_profiles) == ["Green thumb phone", "L8star BM10"]
    two = col.get_objects(type=[PROFILE_TYPE, "marking-definition"])["objects"]
    assert {o["type"] for o in two} == {PROFILE_TYPE, "marking-definition"}

    every = col.get_objects(type=PROFILE_TYPE, version="all")["objects"]
    assert len(every) == 3  # green twice, amber once
    first = col.get_objects(type=PROFILE_TYPE, version="first")["objects"]
    assert all("notes" not in o for o in first)
    assert len(first) == 2

    manifest = col.get_manifest(version="all")["objects"]
    middle = manifest[len(manifest) // 2]["date_added"]
    later = col.get_objects(added_after=middle, version="all")["objects"]
    expected = [(r["id"], r["version"]) for r in manifest if r["date_added"] > middle]
    assert versions_of(later) == expected
    assert expected


def test_interop_leaves_custom_types_out(base: str, network: Any, profiles: Any) -> None:
    received = everything(collection(base, network.alice, INTEROP), per_request=5)
    types = {o["type"] for o in received}
    assert not any(t.startswith("x-") for t in types)
    assert {"identity", "marking-definition"} <= types


@pytest.fixture(autouse=True)
def _http(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No proxy for the loopback server (requests honours *_proxy variables), and every
    client session closed after the test: a kept-alive connection holds a server thread, and
    with it a database connection, open until the end of the run (PostgreSQL then cannot
    drop the test database)."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    sessions: list[requests.Session] = []
    original = requests.Session.__init__

    def tracked(self: requests.Session) -> None:
        original(self)
        sessions.append(self)

    monkeypatch.setattr(requests.Session, "__init__", tracked)
    yield
    for session in sessions:
        session.close()
    # A response kept by a caught HTTPError (in a reference cycle through its traceback)
    # still holds its socket open; collecting the cycles closes it.
    gc.collect()
