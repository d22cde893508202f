"""Who may see what (DESIGN.md §4), through the HTTP API: every profile endpoint × persona ×
TLP label. What a member may not see answers 404 — never 403, never a list entry — and that
404 is the very answer given for an object that does not exist.

Unless a test says otherwise, a profile is owned by fr-desk, filed by alice, names be-desk as
its recipient organisation and, when TLP:RED, audrey as its recipient member.
"""

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, DeviceProfile, Member

PROBLEM = "application/problem+json"
NOT_FOUND = "urn:dix:problem:not-found"
FORBIDDEN = "urn:dix:problem:permission-denied"
TAC = "35123456"
Y, N = True, False

LABELS = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)


def short(label: str) -> str:
    return label.removeprefix("TLP:")


# Who receives the standard profile of each label. The clearance cap shows in the STRICT
# column: bob, dave and erin hold AMBER clearance, and AMBER+STRICT is above AMBER.
# fmt: off
AUDIENCE = {
    #            CLEAR GREEN AMBER STRICT RED
    "cora":    (Y,    Y,    N,    N,     N),  # secretariat coordinator; eurojust not named
    "audrey":  (Y,    Y,    N,    N,     Y),  # secretariat auditor; named member of RED
    "alice":   (Y,    Y,    Y,    Y,     Y),  # owner's analyst, creator
    "olga":    (Y,    Y,    N,    N,     N),  # owner desk, GREEN clearance caps her
    "bob":     (Y,    Y,    Y,    N,     N),  # named recipient organisation, AMBER clearance
    "charlie": (Y,    Y,    N,    N,     N),  # outsider desk
    "dave":    (Y,    Y,    Y,    N,     N),  # authority sponsored by the owner
    "erin":    (Y,    Y,    Y,    N,     N),  # authority sponsored by the recipient
}

# The same rule with the clearance cap out of the way: members cleared high enough that only
# the organisation rule decides (created by the `people` fixture below).
ORG_RULE = {
    #            AMBER STRICT RED
    "bruno":   (Y,    Y,     N),  # be-desk (named recipient), AMBER+STRICT clearance
    "dora":    (Y,    N,     N),  # fr-prison-admin (sponsored by owner), AMBER+STRICT
    "emil":    (Y,    N,     N),  # be-customs (sponsored by recipient), AMBER+STRICT
    "carl":    (N,    N,     N),  # de-desk (outsider), RED clearance
    "remy":    (Y,    Y,     N),  # fr-desk (owner) desk officer, RED clearance, not named
}
# fmt: on

READ_MATRIX = [
    pytest.param(who, label, sees, id=f"{who}-{short(label)}")
    for who, row in AUDIENCE.items()
    for label, sees in zip(LABELS, row, strict=True)
]
ORG_RULE_MATRIX = [
    pytest.param(who, label, sees, id=f"{who}-{short(label)}")
    for who, row in ORG_RULE.items()
    for label, sees in zip((TLP.AMBER, TLP.AMBER_STRICT, TLP.RED), row, strict=True)
]

# Every GET under a profile ({p}: profile id, {a}: attachment id).
READ_PATHS = {
    "detail": "/api/v1/profiles/{p}/",
    "revisions": "/api/v1/profiles/{p}/revisions/",
    "revision": "/api/v1/profiles/{p}/revisions/1/",
    "identifiers": "/api/v1/profiles/{p}/identifiers/",
    "attachments": "/api/v1/profiles/{p}/attachments/",
    "attachment": "/api/v1/profiles/{p}/attachments/{a}/",
    "attachment-content": "/api/v1/profiles/{p}/attachments/{a}/content/",
}

Api = Callable[[Member | None], APIClient]


# --- helpers --------------------------------------------------------------------------------


def png_upload() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("device.png", buffer.getvalue(), content_type="image/png")


def upload(client: APIClient, profile_id: int, *, tlp: str | None = None) -> Any:
    data: dict[str, Any] = {"file": png_upload(), "kind": "photo", "title": f"Photo {tlp}"}
    if tlp is not None:
        data["tlp"] = tlp
    return client.post(f"/api/v1/profiles/{profile_id}/attachments/", data, format="multipart")


def attach(api: Api, author: Member, profile: DeviceProfile, tlp: str | None = None) -> int:
    """Upload a PNG through the API as `author`; the new attachment's id."""
    response = upload(api(author), profile.pk, tlp=tlp)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def listed_ids(client: APIClient, **params: str) -> set[int]:
    response = client.get("/api/v1/profiles/", {"page_size": "200", **params})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == NOT_FOUND


def persona(network: Any, name: str) -> Member:
    return getattr(network, name)


@pytest.fixture
def labelled(network: Any, make_profile: Callable[..., DeviceProfile]):
    """`labelled(tlp, **overrides)`: the standard profile of that label, with one TAC."""

    def make(tlp: str, **overrides: Any) -> DeviceProfile:
        fields: dict[str, Any] = {
            "tlp": tlp,
            "name": f"Quuxphone {short(tlp)}",
            "recipients": [network.be_desk],
            "members": [network.audrey] if tlp == TLP.RED else [],
            "identifiers": [{"kind": "tac", "value": TAC}],
        }
        return make_profile(**(fields | overrides))

    return make


@pytest.fixture
def people(network: Any) -> dict[str, Member]:
    """The conftest personas plus members whose clearance does not mask the org rule."""

    def member(username: str, organisation: Any, clearance: str) -> Member:
        return accounts.member_create(
            organisation=organisation, username=username, role="desk_officer", clearance=clearance
        )

    extra = {
        "bruno": member("bruno", network.be_desk, TLP.AMBER_STRICT),
        "dora": member("dora", network.fr_prison, TLP.AMBER_STRICT),
        "emil": member("emil", network.be_customs, TLP.AMBER_STRICT),
        "carl": member("carl", network.de_desk, TLP.RED),
        "remy": member("remy", network.fr_desk, TLP.RED),
    }
    return {name: persona(network, name) for name in AUDIENCE} | extra


# --- the matrix: persona × label over every read endpoint and the list ----------------------


@pytest.mark.parametrize(("who", "label", "sees"), READ_MATRIX)
def test_read_matrix(network, api, labelled, who, label, sees):
    profile = labelled(label)
    a = attach(api, network.alice, profile)
    p = profile.pk
    client = api(persona(network, who))
    answers = {name: client.get(path.format(p=p, a=a)) for name, path in READ_PATHS.items()}

    if sees:
        detail = answers["detail"]
        assert detail.status_code == 200, detail.content
        assert (detail.json()["id"], detail.json()["tlp"]) == (p, label)
        assert [row["id"] for row in detail.json()["attachments"]] == [a]
        assert answers["revisions"].status_code == 200
        assert [row["number"] for row in answers["revisions"].json()["results"]] == [1]
        assert answers["revision"].status_code == 200
        assert answers["revision"].json()["number"] == 1
        assert answers["identifiers"].status_code == 200
        assert [row["value"] for row in answers["identifiers"].json()["results"]] == [TAC]
        assert ids(answers["attachments"]) == [a]
        assert answers["attachment"].status_code == 200
        assert answers["attachment"].json()["id"] == a
        content = answers["attachment-content"]
        assert content.status_code == 200
        assert content["Content-Type"] == "image/png"
        assert b"".join(content.streaming_content).startswith(b"\x89PNG")
    else:
        for name, response in answers.items():
            assert response.status_code == 404, name
            assert_not_found(response)

    expected = {p} if sees else set()
    assert listed_ids(client) == expected
    # Both filters at once: a filter that reached past `visible_to` would leak here.
    assert listed_ids(client, q="quuxphone", tac_prefix=TAC[:6]) == expected


@pytest.mark.parametrize(("who", "label", "sees"), ORG_RULE_MATRIX)
def test_org_rule_with_clearance_out_of_the_way(api, labelled, people, who, label, sees):
    profile = labelled(label)
    client = api(people[who])
    response = client.get(f"/api/v1/profiles/{profile.pk}/")
    if sees:
        assert response.status_code == 200, response.content
        assert response.json()["id"] == profile.pk
    else:
        assert_not_found(response)
    assert listed_ids(client) == ({profile.pk} if sees else set())


@pytest.mark.parametrize(
    ("label", "sees"),
    [(TLP.CLEAR, Y), (TLP.GREEN, N), (TLP.AMBER, N), (TLP.RED, N)],
    ids=["CLEAR", "GREEN", "AMBER", "RED"],
)
def test_member_without_organisation_receives_clear_only(network, api, labelled, label, sees):
    """CLEAR is for anyone authenticated, GREEN for the organisations of the network: a
    platform superuser without an organisation, whatever their clearance, gets CLEAR only."""
    root = accounts.member_create(
        organisation=None, username="root", role="desk_officer", clearance=TLP.RED
    )
    profile = labelled(label)
    client = api(root)
    response = client.get(f"/api/v1/profiles/{profile.pk}/")
    if sees:
        assert response.status_code == 200, response.content
    else:
        assert_not_found(response)
    assert listed_ids(client) == ({profile.pk} if sees else set())


# --- the outsider and an AMBER profile ------------------------------------------------------


@pytest.mark.parametrize("path", READ_PATHS.values(), ids=READ_PATHS.keys())
def test_outsider_gets_404_on_every_read_same_as_for_a_missing_object(network, api, labelled, path):
    profile = labelled(TLP.AMBER)
    attachment_id = attach(api, network.alice, profile)
    url = path.format(p=profile.pk, a=attachment_id)
    missing_url = path.format(p=profile.pk + 1000, a=attachment_id + 1000)
    charlie = api(network.charlie)

    # The recipient reads it: the 404 below is about charlie, not about a broken URL.
    assert api(network.bob).get(url).status_code == 200
    invisible, missing = charlie.get(url), charlie.get(missing_url)
    assert_not_found(invisible)
    assert_not_found(missing)
    assert invisible.json() == missing.json()
    assert invisible["Content-Type"] == missing["Content-Type"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "zorblax"},
        {"q": "ZORBLAX covert"},
        {"q": TAC},
        {"tac_prefix": TAC[:3]},
        {"tac_prefix": TAC},
        {"owner": "fr-desk"},
        {"tlp": TLP.AMBER},
    ],
    ids=["all", "q-name", "q-two-words", "q-tac", "tac-prefix-3", "tac-prefix-8", "owner", "tlp"],
)
def test_outsider_never_finds_an_amber_profile_in_the_list(network, api, labelled, params):
    profile = labelled(TLP.AMBER, name="Zorblax covert mini phone")
    assert listed_ids(api(network.bob), **params) == {profile.pk}  # the query does match
    assert listed_ids(api(network.charlie), **params) == set()


def test_outsider_cannot_probe_an_amber_profile_with_its_etag(network, api, labelled):
    profile = labelled(TLP.AMBER)
    etag = api(network.alice).get(f"/api/v1/profiles/{profile.pk}/")["ETag"]
    response = api(network.charlie).get(f"/api/v1/profiles/{profile.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert_not_found(response)
    assert "ETag" not in response


def test_missing_attachment_of_a_visible_profile_answers_like_an_invisible_one(
    network, api, labelled
):
    profile = labelled(TLP.AMBER)
    strict = attach(api, network.alice, profile, tlp=TLP.AMBER_STRICT)
    erin = api(network.erin)  # sees the profile, not the AMBER+STRICT attachment
    base = f"/api/v1/profiles/{profile.pk}/attachments"
    for suffix in ("/", "/content/"):
        invisible = erin.get(f"{base}/{strict}{suffix}")
        missing = erin.get(f"{base}/{strict + 1000}{suffix}")
        assert_not_found(invisible)
        assert invisible.json() == missing.json()


# --- TLP:RED reaches named members only -----------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alice", Y),  # creator
        ("audrey", Y),  # named, RED clearance
        ("bob", N),  # his organisation be-desk is named: RED ignores organisations
        ("cora", N),  # eurojust named as an organisation: RED ignores organisations
        ("remy", N),  # owner desk, RED clearance, not named
        ("carl", N),  # outsider, RED clearance
        ("olga", N),
        ("charlie", N),
        ("dave", N),  # sponsored by the owner
        ("erin", N),  # sponsored by a named organisation
    ],
)
def test_red_profile_reaches_only_its_named_members(network, api, labelled, people, who, sees):
    profile = labelled(
        TLP.RED,
        recipients=[network.be_desk, network.eurojust],
        members=[network.audrey],
    )
    client = api(people[who])
    detail = client.get(f"/api/v1/profiles/{profile.pk}/")
    revisions = client.get(f"/api/v1/profiles/{profile.pk}/revisions/")
    if sees:
        assert detail.status_code == 200
        assert detail.json()["id"] == profile.pk
        assert revisions.status_code == 200
    else:
        assert_not_found(detail)
        assert_not_found(revisions)
    assert listed_ids(client) == ({profile.pk} if sees else set())


# --- clearance caps everything --------------------------------------------------------------


def test_green_clearance_never_receives_amber_or_above(network, api, labelled):
    """olga is in the owner organisation, which is also named as a recipient."""
    olga = api(network.olga)
    profiles = {label: labelled(label, recipients=[network.fr_desk]) for label in LABELS}
    attachments = {
        label: attach(api, network.alice, profile) for label, profile in profiles.items()
    }

    for label in (TLP.AMBER, TLP.AMBER_STRICT, TLP.RED):
        for name, path in READ_PATHS.items():
            response = olga.get(path.format(p=profiles[label].pk, a=attachments[label]))
            assert response.status_code == 404, (label, name)

    receivable = {profiles[TLP.CLEAR].pk, profiles[TLP.GREEN].pk}
    assert listed_ids(olga) == receivable
    assert listed_ids(olga, q="quuxphone") == receivable
    assert listed_ids(olga, tac_prefix=TAC[:3]) == receivable
    assert listed_ids(olga, tlp=TLP.AMBER) == set()


def test_lowered_clearance_caps_a_named_red_member_at_read_time(network, api, labelled):
    """audrey may be named on a RED profile only while cleared for RED; once her clearance is
    lowered to GREEN she no longer receives it, named or not."""
    profile = labelled(TLP.RED)  # names audrey
    attachment_id = attach(api, network.alice, profile)
    audrey = api(network.audrey)
    assert audrey.get(f"/api/v1/profiles/{profile.pk}/").status_code == 200

    network.audrey.clearance = TLP.GREEN
    network.audrey.save(update_fields=["clearance"])

    for name, path in READ_PATHS.items():
        response = audrey.get(path.format(p=profile.pk, a=attachment_id))
        assert response.status_code == 404, name
    assert listed_ids(audrey) == set()


def test_green_clearance_sees_a_green_profile_but_not_its_amber_attachment(network, api, labelled):
    profile = labelled(TLP.GREEN)
    green = attach(api, network.alice, profile)
    amber = attach(api, network.alice, profile, tlp=TLP.AMBER)
    olga = api(network.olga)
    base = f"/api/v1/profiles/{profile.pk}"

    detail = olga.get(f"{base}/")
    assert detail.status_code == 200
    assert [row["id"] for row in detail.json()["attachments"]] == [green]
    assert ids(olga.get(f"{base}/attachments/")) == [green]
    assert_not_found(olga.get(f"{base}/attachments/{amber}/"))
    assert_not_found(olga.get(f"{base}/attachments/{amber}/content/"))
    assert ids(api(network.bob).get(f"{base}/attachments/")) == [amber, green]  # newest first


# --- an attachment stricter than its profile ------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees_strict"),
    [
        ("alice", Y),  # owner
        ("bruno", Y),  # named recipient organisation, AMBER+STRICT clearance
        ("bob", N),  # named recipient organisation, but AMBER clearance
        ("dave", N),  # sponsored by the owner
        ("erin", N),  # sponsored by the recipient
        ("dora", N),  # sponsored by the owner, AMBER+STRICT clearance: the org rule decides
        ("emil", N),  # sponsored by the recipient, AMBER+STRICT clearance
    ],
)
def test_strict_attachment_on_amber_profile(network, api, labelled, people, who, sees_strict):
    profile = labelled(TLP.AMBER)
    amber = attach(api, network.alice, profile)
    strict = attach(api, network.alice, profile, tlp=TLP.AMBER_STRICT)
    client = api(people[who])
    base = f"/api/v1/profiles/{profile.pk}"

    detail = client.get(f"{base}/")
    assert detail.status_code == 200  # every one of them receives the AMBER profile
    expected = [strict, amber] if sees_strict else [amber]  # newest first
    assert [row["id"] for row in detail.json()["attachments"]] == expected
    assert ids(client.get(f"{base}/attachments/")) == expected

    metadata = client.get(f"{base}/attachments/{strict}/")
    content = client.get(f"{base}/attachments/{strict}/content/")
    if sees_strict:
        assert metadata.status_code == 200
        assert metadata.json()["tlp"] == TLP.AMBER_STRICT
        assert content.status_code == 200
    else:
        assert_not_found(metadata)
        assert_not_found(content)


# --- the secretariat is not a recipient by default ------------------------------------------


@pytest.mark.parametrize(
    ("label", "eurojust_named", "sees"),
    [
        (TLP.GREEN, N, Y),
        (TLP.AMBER, N, N),
        (TLP.AMBER, Y, Y),
        (TLP.AMBER_STRICT, N, N),
        (TLP.AMBER_STRICT, Y, Y),
    ],
    ids=["GREEN", "AMBER", "AMBER-eurojust-named", "STRICT", "STRICT-eurojust-named"],
)
def test_secretariat_sees_amber_only_when_named(
    network, api, labelled, label, eurojust_named, sees
):
    recipients = [network.be_desk, network.eurojust] if eurojust_named else [network.be_desk]
    profile = labelled(label, recipients=recipients)
    for member in (network.cora, network.audrey):
        client = api(member)
        response = client.get(f"/api/v1/profiles/{profile.pk}/")
        assert response.status_code == (200 if sees else 404), member.username
        assert listed_ids(client) == ({profile.pk} if sees else set()), member.username


# --- writes: 403 if visible but not allowed, 404 if invisible -------------------------------

# The GREEN profile is seen by everyone; the AMBER one names be-desk and eurojust.
# fmt: off
WRITERS = {
    #           GREEN AMBER
    "cora":    (200,  200),  # the secretariat's coordinator
    "audrey":  (403,  403),  # secretariat, but an auditor
    "alice":   (200,  200),  # the owner's analyst
    "olga":    (403,  404),  # owner desk officer; AMBER is above her clearance
    "bob":     (403,  403),  # recipient desk officer
    "charlie": (403,  404),  # outsider
    "dave":    (403,  403),  # sponsored by the owner
    "erin":    (403,  403),  # sponsored by a recipient
}
# fmt: on
WRITE_MATRIX = [
    pytest.param(who, label, status, id=f"{who}-{short(label)}")
    for who, row in WRITERS.items()
    for label, status in zip((TLP.GREEN, TLP.AMBER), row, strict=True)
]


def assert_refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == (NOT_FOUND if status == 404 else FORBIDDEN)


@pytest.mark.parametrize(("who", "label", "status"), WRITE_MATRIX)
def test_write_matrix(network, api, labelled, who, label, status):
    """PATCH (with the ETag the member read), attachment upload, then retire."""
    profile = labelled(label, recipients=[network.be_desk, network.eurojust])
    member = persona(network, who)
    client = api(member)
    base = f"/api/v1/profiles/{profile.pk}"
    read = client.get(f"{base}/")
    assert read.status_code == (404 if status == 404 else 200)
    # One who cannot read it uses the owner's ETag, as if it had leaked.
    etag = read["ETag"] if status != 404 else api(network.alice).get(f"{base}/")["ETag"]

    patch = client.patch(f"{base}/", {"name": "Renamed"}, format="json", HTTP_IF_MATCH=etag)
    added = upload(client, profile.pk)
    retire = client.post(f"{base}/retire/", {"reason": "Duplicate."}, format="json")

    profile.refresh_from_db()
    if status == 200:
        assert patch.status_code == 200, patch.content
        assert patch.json()["name"] == "Renamed"
        assert added.status_code == 201, added.content
        assert retire.status_code == 200, retire.content
        assert retire.json()["retired"] is True
        assert (profile.name, profile.version) == ("Renamed", 3)
        assert profile.retired_at is not None
        assert profile.attachments.count() == 1
    else:
        for response in (patch, added, retire):
            assert_refused(response, status)
        assert (profile.name, profile.version, profile.retired_at) == (
            f"Quuxphone {short(label)}",
            1,
            None,
        )
        assert profile.attachments.count() == 0


def test_coordinator_cannot_write_to_a_profile_she_cannot_see(network, api, labelled):
    profile = labelled(TLP.AMBER)  # eurojust not named
    cora = api(network.cora)
    base = f"/api/v1/profiles/{profile.pk}"
    etag = api(network.alice).get(f"{base}/")["ETag"]
    assert_not_found(cora.patch(f"{base}/", {"name": "x"}, format="json", HTTP_IF_MATCH=etag))
    assert_not_found(cora.post(f"{base}/retire/", {"reason": "x"}, format="json"))
    assert_not_found(upload(cora, profile.pk))
    profile.refresh_from_db()
    assert (profile.version, profile.retired_at, profile.attachments.count()) == (1, None, 0)


# --- unauthenticated ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/profiles/"),
        *[("get", path) for path in READ_PATHS.values()],
        ("patch", "/api/v1/profiles/{p}/"),
        ("post", "/api/v1/profiles/{p}/retire/"),
        ("post", "/api/v1/profiles/{p}/attachments/"),
    ],
    ids=["list", *READ_PATHS.keys(), "patch", "retire", "upload"],
)
def test_unauthenticated_gets_401_whether_or_not_it_exists(network, api, labelled, method, path):
    profile = labelled(TLP.CLEAR)
    attachment_id = attach(api, network.alice, profile)
    anonymous = api(None)
    existing = getattr(anonymous, method)(path.format(p=profile.pk, a=attachment_id))
    missing = getattr(anonymous, method)(path.format(p=profile.pk + 1000, a=attachment_id + 1000))
    for response in (existing, missing):
        assert response.status_code == 401, response.content
        assert response["Content-Type"] == PROBLEM
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["type"] == "urn:dix:problem:not-authenticated"
    assert existing.json() == missing.json()
