"""Alert notices through the HTTP API: lifecycle and who may do what, audience and TLP, the
pull inbox (filters, `since`, ETag), receipts, and webhook fan-out delivered in-process to a
real loopback receiver that verifies every request with the `standardwebhooks` package.

Unless a test says otherwise a notice is drafted by alice (fr-desk analyst) and published by
felix (fr-desk coordinator); bruno (be-desk) and emil (be-customs) hold AMBER+STRICT
clearance, so that only the organisation rule decides what they receive.
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from intel import accounts
from intel.models import TLP, DeviceProfile, Member
from notices.models import Notice, NoticeVersion
from notices.rendering import webhook_viewer
from tests.conftest import Network
from webhooks.delivery import deliver_due
from webhooks.models import Delivery, DeliveryState, Subscription

NOTICES = "/api/v1/notices/"
SUBSCRIPTIONS = "/api/v1/subscriptions/"
PROBLEM = "application/problem+json"
EVENTS = ["notice.published", "notice.updated", "notice.withdrawn"]

Api = Callable[[Member | None], APIClient]


# --- A webhook receiver on loopback ----------------------------------------------------------


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]


class Receiver:
    """Every POST must verify, with each secret registered for its path; a request that does
    not verify is answered 400 and recorded in `refused`. Any other method is a failure too."""

    def __init__(self) -> None:
        self.secrets: dict[str, list[str]] = {}
        self.fail_next: dict[str, int] = {}  # answer 500 to the next n requests
        self.hits: list[Hit] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.handle(self)

            def do_GET(self) -> None:
                receiver.refused.append(f"GET {self.path}")
                self.send_response(405)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        name = request.path.lstrip("/")
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        headers = {key.lower(): value for key, value in request.headers.items()}
        with self.lock:
            secrets = list(self.secrets.get(name, []))
        status = 200
        try:
            if not secrets:
                raise ValueError("no secret registered for this path")
            payloads = [Webhook(secret).verify(body, headers) for secret in secrets]
        except Exception as exc:
            with self.lock:
                self.refused.append(f"{name}: {exc!r}")
            status = 400
        else:
            with self.lock:
                self.hits.append(Hit(name, headers, payloads[0]))
                if self.fail_next.get(name, 0) > 0:
                    self.fail_next[name] -= 1
                    status = 500
        request.send_response(status)
        request.send_header("Content-Length", "2")
        request.end_headers()
        request.wfile.write(b"ok")

    def to(self, name: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == name]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        yield rec
    rec.close()
    assert rec.refused == []


def subscribe(client: APIClient, receiver: Receiver, name: str, **fields: Any) -> int:
    """Register `receiver/<name>` for the client's organisation; the receiver learns the secret."""
    body = {"url": receiver.url(name), "event_types": EVENTS} | fields
    response = client.post(SUBSCRIPTIONS, body, format="json")
    assert response.status_code == 201, response.content
    receiver.secrets[name] = [response.json()["secret"]]
    return int(response.json()["id"])


# --- People and notices ----------------------------------------------------------------------


@dataclass
class Extra:
    felix: Member  # fr-desk coordinator, RED clearance
    bruno: Member  # be-desk officer, AMBER+STRICT clearance
    emil: Member  # be-customs officer, AMBER+STRICT clearance


@pytest.fixture
def extra(network: Network) -> Extra:
    def member(username: str, org: Any, role: str, clearance: str) -> Member:
        return accounts.member_create(
            organisation=org, username=username, role=role, clearance=clearance
        )

    return Extra(
        felix=member("felix", network.fr_desk, "coordinator", TLP.RED),
        bruno=member("bruno", network.be_desk, "desk_officer", TLP.AMBER_STRICT),
        emil=member("emil", network.be_customs, "desk_officer", TLP.AMBER_STRICT),
    )


def draft(client: APIClient, **fields: Any) -> dict[str, Any]:
    body = {
        "type": "alert",
        "title": "Mini phones in prisons",
        "summary": "Low-metal phones pass walk-through detectors.",
        "body": "Seen in three prisons.",
        "action_requested": "Check your prisons.",
        "tlp": TLP.GREEN,
        "audience_scope": "network",
    } | fields
    response = client.post(NOTICES, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft" and data["version"] == 0
    return data


def publish(client: APIClient, notice_id: int) -> dict[str, Any]:
    response = client.post(f"{NOTICES}{notice_id}/publish/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    return response.json()


@pytest.fixture
def issue(network: Network, extra: Extra, api: Api) -> Callable[..., dict[str, Any]]:
    """alice drafts, felix publishes; returns the published notice as felix sees it."""
    alice, felix = api(network.alice), api(extra.felix)

    def make(**fields: Any) -> dict[str, Any]:
        return publish(felix, draft(alice, **fields)["id"])

    return make


def sees(client: APIClient, notice_id: int) -> bool:
    """Whether the member receives the notice: detail 200 exactly when it is listed; a
    notice it may not receive answers the not-found problem."""
    detail = client.get(f"{NOTICES}{notice_id}/")
    listed = notice_id in [
        n["id"] for n in client.get(NOTICES, {"page_size": 200}).json()["results"]
    ]
    if detail.status_code == 404:
        assert detail["Content-Type"] == PROBLEM
        assert detail.json()["type"] == "urn:dix:problem:not-found"
    else:
        assert detail.status_code == 200, detail.content
        assert detail.json()["id"] == notice_id
    assert listed == (detail.status_code == 200)
    return listed


def audience(api: Api, people: dict[str, Member], notice_id: int) -> set[str]:
    return {name for name, member in people.items() if sees(api(member), notice_id)}


def everyone(network: Network, extra: Extra) -> dict[str, Member]:
    names = ("cora", "audrey", "alice", "olga", "bob", "charlie", "dave", "erin")
    people = {name: getattr(network, name) for name in names}
    return people | {"felix": extra.felix, "bruno": extra.bruno, "emil": extra.emil}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


# --- Lifecycle -------------------------------------------------------------------------------


def test_a_draft_is_seen_only_by_its_organisation_and_the_secretariat(
    network: Network, extra: Extra, api: Api
) -> None:
    notice = draft(api(network.alice))
    assert notice["reference"] == f"DIX-{timezone.now().year}-{notice['id']:06d}"
    assert notice["issuer"]["slug"] == "fr-desk"
    people = everyone(network, extra)
    assert audience(api, people, notice["id"]) == {"alice", "olga", "felix", "cora", "audrey"}


def test_a_draft_is_never_seen_more_widely_than_the_notice_it_would_become(
    network: Network, extra: Extra, api: Api
) -> None:
    alice, felix, audrey = api(network.alice), api(extra.felix), api(network.audrey)
    people = everyone(network, extra)
    # TLP:RED: the drafter and the named members only, not their RED-cleared colleagues.
    red = draft(alice, tlp=TLP.RED, recipient_members=["felix"], title="Red draft")
    assert audience(api, people, red["id"]) == {"alice", "felix"}
    assert red["id"] not in [
        n["id"] for n in audrey.get(NOTICES, {"status": "draft"}).json()["results"]
    ]
    # Who may not read it may not change, publish or acknowledge it either: 404, as for
    # a notice that does not exist.
    url = f"{NOTICES}{red['id']}/"
    assert_problem(audrey.patch(url, {"title": "Mine now"}, format="json"), 404)
    assert_problem(audrey.post(f"{url}publish/"), 404)
    assert Notice.objects.get(pk=red["id"]).title == "Red draft"
    # AMBER+STRICT to be-desk: nobody outside the would-be audience, not even the secretariat's
    # auditor (its coordinators publish any notice, so they see it).
    strict = draft(
        alice,
        tlp=TLP.AMBER_STRICT,
        audience_scope="organisations",
        audience_organisations=["be-desk"],
    )
    assert audience(api, people, strict["id"]) == {"alice", "felix", "cora"}
    assert_problem(audrey.patch(f"{NOTICES}{strict['id']}/", {"title": "x"}, format="json"), 404)
    # An edit that would hide the draft from its own editor is refused, and nothing changes.
    body = {"tlp": TLP.RED, "recipient_members": ["alice"]}
    assert_problem(felix.patch(f"{NOTICES}{strict['id']}/", body, format="json"), 400)
    assert Notice.objects.get(pk=strict["id"]).tlp == TLP.AMBER_STRICT
    publish(felix, red["id"])  # the named coordinator publishes it


def test_who_may_publish(network: Network, extra: Extra, api: Api) -> None:
    alice = api(network.alice)
    first = draft(alice)
    # The issuer's analyst sees the draft but may not publish it; outsiders do not see it.
    assert_problem(alice.post(f"{NOTICES}{first['id']}/publish/"), 403)
    assert_problem(api(network.charlie).post(f"{NOTICES}{first['id']}/publish/"), 404)
    assert_problem(api(extra.bruno).post(f"{NOTICES}{first['id']}/publish/"), 404)
    assert Notice.objects.get(pk=first["id"]).status == "draft"
    assert not NoticeVersion.objects.filter(notice_id=first["id"]).exists()

    published = publish(api(extra.felix), first["id"])  # the issuer's coordinator
    assert published["version"] == 1 and published["published_at"] is not None
    assert_problem(api(extra.felix).post(f"{NOTICES}{first['id']}/publish/"), 409)

    # The secretariat's coordinator publishes any desk's draft, even one not addressed to it.
    second = draft(alice, audience_scope="organisations", audience_organisations=["be-desk"])
    by_cora = publish(api(network.cora), second["id"])
    assert by_cora["version"] == 1
    assert NoticeVersion.objects.get(notice_id=second["id"]).published_by == network.cora


def test_an_update_is_a_new_version_and_published_versions_never_change(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    notice = issue(title="First title", body="First body")
    felix = api(extra.felix)
    url = f"{NOTICES}{notice['id']}/"
    v1_before = felix.get(f"{url}versions/1/").json()
    assert v1_before["title"] == "First title" and v1_before["change_note"] == ""

    assert_problem(felix.post(f"{url}update/", {"title": "x"}, format="json"), 400, "change_note")
    assert_problem(
        felix.post(f"{url}update/", {"change_note": "n", "tlp": TLP.CLEAR}, format="json"),
        400,
        "tlp",
    )
    assert_problem(
        api(network.alice).post(f"{url}update/", {"change_note": "n"}, format="json"), 403
    )
    assert_problem(api(network.bob).post(f"{url}update/", {"change_note": "n"}, format="json"), 403)

    response = felix.post(
        f"{url}update/",
        {"change_note": "Adds X-ray advice.", "title": "Second title", "body": "Second body"},
        format="json",
    )
    assert response.status_code == 200, response.content
    updated = response.json()
    assert (updated["version"], updated["title"], updated["reference"]) == (
        2,
        "Second title",
        notice["reference"],
    )
    versions = felix.get(f"{url}versions/").json()
    assert [(v["number"], v["title"], v["body"], v["change_note"]) for v in versions] == [
        (1, "First title", "First body", ""),
        (2, "Second title", "Second body", "Adds X-ray advice."),
    ]
    assert felix.get(f"{url}versions/1/").json() == v1_before
    assert [v["published_by"] for v in versions] == ["felix", "felix"]
    assert api(network.bob).get(url).json()["title"] == "Second title"


def test_profiles_a_member_cannot_see_are_kept_when_they_change_a_notice(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
) -> None:
    # cora (secretariat coordinator, AMBER+STRICT) sees the GREEN profile only.
    green = make_profile(tlp=TLP.GREEN, name="Green phone")
    strict = make_profile(tlp=TLP.AMBER_STRICT, name="Strict phone")
    red = make_profile(tlp=TLP.RED, members=[network.alice, extra.felix], name="Red phone")
    hidden = {strict.pk, red.pk}
    cora = api(network.cora)
    alice = api(network.alice)
    notice = draft(alice, profiles=[green.pk, strict.pk, red.pk])
    url = f"{NOTICES}{notice['id']}/"
    assert [p["id"] for p in cora.get(url).json()["profiles"]] == [green.pk]

    # Editing the draft with the list as cora reads it (and with an empty one) keeps the rest.
    assert cora.patch(url, {"profiles": [green.pk]}, format="json").status_code == 200
    assert cora.patch(url, {"profiles": []}, format="json").status_code == 200
    assert set(Notice.objects.get(pk=notice["id"]).profiles.values_list("id", flat=True)) == hidden
    # Whoever sees a profile may still take it off.
    assert alice.patch(url, {"profiles": [green.pk, red.pk]}, format="json").status_code == 200
    publish(api(extra.felix), notice["id"])

    response = cora.post(
        f"{url}update/", {"change_note": "Reworded.", "profiles": [green.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [p["id"] for p in response.json()["profiles"]] == [green.pk]
    assert {p["id"] for p in alice.get(url).json()["profiles"]} == {green.pk, red.pk}
    latest = NoticeVersion.objects.get(notice_id=notice["id"], number=2)
    assert set(latest.profiles.values_list("id", flat=True)) == {green.pk, red.pk}


def test_a_published_notice_cannot_be_edited(network: Network, extra: Extra, api: Api) -> None:
    alice = api(network.alice)
    notice = draft(alice, title="Draft title")
    url = f"{NOTICES}{notice['id']}/"
    edited = alice.patch(url, {"title": "Edited draft"}, format="json")
    assert edited.status_code == 200 and edited.json()["title"] == "Edited draft"
    publish(api(extra.felix), notice["id"])
    for client in (alice, api(extra.felix), api(network.cora)):
        assert_problem(client.patch(url, {"title": "Sneaky"}, format="json"), 409)
    assert Notice.objects.get(pk=notice["id"]).title == "Edited draft"
    assert NoticeVersion.objects.get(notice_id=notice["id"]).title == "Edited draft"


def test_withdraw_needs_a_reason(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    notice = issue()
    felix = api(extra.felix)
    url = f"{NOTICES}{notice['id']}/withdraw/"
    assert_problem(felix.post(url, {}, format="json"), 400, "reason")
    assert_problem(felix.post(url, {"reason": "   "}, format="json"), 400, "reason")
    assert_problem(api(network.alice).post(url, {"reason": "r"}, format="json"), 403)
    assert Notice.objects.get(pk=notice["id"]).status == "published"

    response = felix.post(url, {"reason": "Issued in error."}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["withdrawal_reason"]) == (
        "withdrawn",
        "Issued in error.",
    )
    assert_problem(felix.post(url, {"reason": "again"}, format="json"), 409)
    # Recipients still see it, withdrawn, with the reason.
    seen = api(network.bob).get(f"{NOTICES}{notice['id']}/").json()
    assert (seen["status"], seen["withdrawal_reason"]) == ("withdrawn", "Issued in error.")


def test_supersede_by_another_published_notice(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    old, new = issue(title="Old"), issue(title="New")
    pending = draft(api(network.alice))
    felix = api(extra.felix)
    url = f"{NOTICES}{old['id']}/supersede/"
    for successor in (pending["id"], old["id"], 999_999):
        assert_problem(
            felix.post(url, {"superseded_by": successor}, format="json"), 400, "superseded_by"
        )
    assert_problem(api(network.alice).post(url, {"superseded_by": new["id"]}, format="json"), 403)
    response = felix.post(url, {"superseded_by": new["id"]}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["superseded_by"]) == (
        "superseded",
        new["reference"],
    )
    assert (
        api(network.bob).get(f"{NOTICES}{old['id']}/").json()["superseded_by"] == new["reference"]
    )
    assert_problem(felix.post(url, {"superseded_by": new["id"]}, format="json"), 409)


# --- Audience and TLP ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"audience_scope": "network"},
            {
                "alice",
                "olga",
                "felix",
                "cora",
                "audrey",
                "bob",
                "bruno",
                "charlie",
                "dave",
                "erin",
                "emil",
            },
            id="GREEN-network",
        ),
        pytest.param(
            {"audience_scope": "organisations", "audience_organisations": ["be-desk"]},
            {"alice", "olga", "felix", "cora", "bob", "bruno"},
            id="GREEN-organisations",
        ),
        pytest.param(
            {"audience_scope": "countries", "audience_countries": ["BE"]},
            {"alice", "olga", "felix", "cora", "bob", "bruno", "erin", "emil"},
            id="GREEN-countries",
        ),
        pytest.param(
            {"audience_scope": "network", "tlp": TLP.AMBER},
            {"alice", "felix", "cora", "audrey", "bob", "bruno", "charlie", "dave", "erin", "emil"},
            id="AMBER-network",
        ),
        pytest.param(
            {
                "audience_scope": "organisations",
                "audience_organisations": ["be-desk"],
                "tlp": TLP.AMBER,
            },
            {"alice", "felix", "cora", "bob", "bruno", "dave", "erin", "emil"},
            id="AMBER-organisations",
        ),
        pytest.param(
            {
                "audience_scope": "organisations",
                "audience_organisations": ["be-desk"],
                "tlp": TLP.AMBER_STRICT,
            },
            {"alice", "felix", "cora", "bruno"},
            id="STRICT-organisations",
        ),
    ],
)
def test_who_receives_a_published_notice(
    network: Network,
    extra: Extra,
    api: Api,
    issue: Callable[..., dict[str, Any]],
    fields: dict[str, Any],
    expected: set[str],
) -> None:
    """olga (GREEN clearance) never receives AMBER; AMBER reaches the authorities a named
    organisation sponsors (erin, emil), AMBER+STRICT does not (emil, cleared for it, still
    not); charlie's desk is never named; GREEN to organisations does not reach sponsored
    authorities. The secretariat's coordinator, who may publish any notice, sees each."""
    notice = issue(**fields)
    assert audience(api, everyone(network, extra), notice["id"]) == expected


def test_a_notice_is_rendered_for_each_recipient_and_each_webhook(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
    receiver: Receiver,
) -> None:
    amber = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Amber phone")
    green = make_profile(tlp=TLP.GREEN, name="Green phone")
    bob, charlie = api(network.bob), api(network.charlie)
    subscribe(bob, receiver, "be", max_tlp=TLP.AMBER)
    subscribe(charlie, receiver, "de", max_tlp=TLP.AMBER)

    advertised = publish(
        api(extra.felix),
        draft(api(network.alice), profiles=[amber.pk, green.pk], restricted_data_available=True)[
            "id"
        ],
    )
    silent = publish(
        api(extra.felix), draft(api(network.alice), profiles=[amber.pk, green.pk])["id"]
    )

    def seen(client: APIClient, notice: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = client.get(f"{NOTICES}{notice['id']}/").json()
        return data

    for_bob, for_charlie = seen(bob, advertised), seen(charlie, advertised)
    assert sorted(p["name"] for p in for_bob["profiles"]) == ["Amber phone", "Green phone"]
    assert for_bob["restricted_data_available"] is False
    assert [p["name"] for p in for_charlie["profiles"]] == ["Green phone"]
    assert for_charlie["restricted_data_available"] is True
    assert "Amber phone" not in str(for_charlie)
    assert seen(charlie, silent)["restricted_data_available"] is False
    assert [p["id"] for p in seen(charlie, silent)["profiles"]] == [green.pk]
    # Version history leaves out what the reader may not see.
    assert charlie.get(f"{NOTICES}{advertised['id']}/versions/").json()[0]["profiles"] == [green.pk]

    assert deliver_due(time_budget=5) == 4
    for name, client in (("be", bob), ("de", charlie)):
        hits = receiver.to(name)
        assert sorted(h.payload["data"]["id"] for h in hits) == sorted(
            [advertised["id"], silent["id"]]
        )
        for hit in hits:
            assert hit.payload["type"] == "notice.published"
            expected = seen(client, hit.payload["data"])
            expected.pop("acknowledged_at")
            assert hit.payload["data"] == expected
    charlie_hit = next(h for h in receiver.to("de") if h.payload["data"]["id"] == advertised["id"])
    assert charlie_hit.payload["data"]["restricted_data_available"] is True
    assert [p["name"] for p in charlie_hit.payload["data"]["profiles"]] == ["Green phone"]


# --- Pull ------------------------------------------------------------------------------------


def results(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [n["id"] for n in response.json()["results"]]


def test_inbox_newest_first_with_filters(
    network: Network,
    extra: Extra,
    api: Api,
    issue: Callable[..., dict[str, Any]],
    make_profile: Callable[..., DeviceProfile],
) -> None:
    profile = make_profile(tlp=TLP.GREEN)
    alert = issue(profiles=[profile.pk])
    warning = issue(type="warning")
    gone = issue(type="request_for_information")
    to_belgium = issue(audience_scope="countries", audience_countries=["BE"])
    api(extra.felix).post(f"{NOTICES}{gone['id']}/withdraw/", {"reason": "r"}, format="json")
    draft(api(network.alice))  # drafts never reach bob
    bob = api(network.bob)

    # Newest change first: the withdrawal moved `gone` to the top.
    assert results(bob.get(NOTICES)) == [gone["id"], to_belgium["id"], warning["id"], alert["id"]]
    assert results(bob.get(NOTICES, {"type": "warning"})) == [warning["id"]]
    assert results(bob.get(NOTICES, {"status": "withdrawn"})) == [gone["id"]]
    assert results(bob.get(NOTICES, {"status": "published"})) == [
        to_belgium["id"],
        warning["id"],
        alert["id"],
    ]
    assert results(bob.get(NOTICES, {"profile": profile.pk})) == [alert["id"]]
    assert results(bob.get(NOTICES, {"country": "BE"})) == [to_belgium["id"]]
    assert results(bob.get(NOTICES, {"country": "DE"})) == []
    assert len(results(bob.get(NOTICES, {"country": "fr"}))) == 4
    assert_problem(bob.get(NOTICES, {"type": "memo"}), 400, "type")

    assert bob.post(f"{NOTICES}{warning['id']}/acknowledge/").status_code == 200
    assert results(bob.get(NOTICES, {"acknowledged": "true"})) == [warning["id"]]
    assert results(bob.get(NOTICES, {"acknowledged": "false"})) == [
        gone["id"],
        to_belgium["id"],
        alert["id"],
    ]
    acked = bob.get(f"{NOTICES}{warning['id']}/").json()["acknowledged_at"]
    assert acked is not None
    # be-desk acknowledged, not de-desk.
    assert results(api(network.charlie).get(NOTICES, {"acknowledged": "true"})) == []

    page = bob.get(NOTICES, {"page_size": 2}).json()
    assert [n["id"] for n in page["results"]] == [gone["id"], to_belgium["id"]]
    assert [n["id"] for n in bob.get(page["next"]).json()["results"]] == [
        warning["id"],
        alert["id"],
    ]


def test_since_returns_only_what_changed_after_the_last_pull(
    network: Network, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    first = issue(title="First")
    Notice.objects.filter(pk=first["id"]).update(changed_at=timezone.now() - timedelta(minutes=1))
    bob = api(network.bob)
    pull = bob.get(NOTICES)
    assert results(pull) == [first["id"]]
    token = pull["DIX-Since"]
    assert token

    assert results(bob.get(NOTICES, {"since": token})) == []
    second = issue(title="Second")
    again = bob.get(NOTICES, {"since": token})
    assert results(again) == [second["id"]]
    assert again["DIX-Since"]

    for bad in ("not a token!", "bm90LWEtZGF0ZQ", "MjAyNS0wMS0wMVQwMDowMDowMA"):
        # garbage, base64 of "not-a-date", base64 of a date without a time zone
        body = assert_problem(bob.get(NOTICES, {"since": bad}), 400, "since")
        assert body["type"] == "urn:dix:problem:validation-error"


def test_etag_answers_304_until_something_changes(
    network: Network, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    first = issue()
    bob = api(network.bob)
    response = bob.get(NOTICES)
    etag = response["ETag"]
    assert results(response) == [first["id"]] and etag.startswith('"')

    unchanged = bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag
    # Another member (other organisation) does not share the validator.
    assert api(network.charlie).get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 200

    second = issue()
    changed = bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag)
    assert results(changed) == [second["id"], first["id"]]
    assert changed["ETag"] != etag
    assert bob.get(NOTICES, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304

    # An acknowledgement changes what the inbox says (acknowledged_at): a new ETag.
    bob.post(f"{NOTICES}{first['id']}/acknowledge/")
    assert bob.get(NOTICES, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


# --- Receipts --------------------------------------------------------------------------------


def test_receipts_follow_received_read_acknowledged(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    notice = issue(audience_scope="organisations", audience_organisations=["be-desk"])
    url = f"{NOTICES}{notice['id']}/"
    bob, felix = api(network.bob), api(extra.felix)

    def be_desk(client: APIClient) -> dict[str, Any]:
        response = client.get(f"{url}receipts/")
        assert response.status_code == 200, response.content
        rows = {row["organisation"]: row for row in response.json()}
        return rows["be-desk"]

    assert felix.get(f"{url}receipts/").json() == []
    assert results(bob.get(NOTICES)) == [notice["id"]]
    row = be_desk(felix)
    assert row["received_at"] is not None
    assert (row["read_at"], row["acknowledged_at"], row["acknowledged_by"]) == (None, None, None)

    bob.get(url)
    row = be_desk(felix)
    assert row["read_at"] is not None and row["acknowledged_at"] is None

    ack = bob.post(f"{url}acknowledge/")
    assert ack.status_code == 200, ack.content
    assert (ack.json()["organisation"], ack.json()["acknowledged_by"]) == ("be-desk", "bob")
    # A second acknowledgement keeps the first.
    bruno_ack = api(extra.bruno).post(f"{url}acknowledge/").json()
    assert (bruno_ack["acknowledged_by"], bruno_ack["acknowledged_at"]) == (
        "bob",
        ack.json()["acknowledged_at"],
    )

    for issuer in (felix, api(network.alice), api(network.cora)):
        row = be_desk(issuer)
        assert row["acknowledged_by"] == "bob"
        assert row["received_at"] <= row["read_at"] <= row["acknowledged_at"]
        assert row["acknowledged_at"] == ack.json()["acknowledged_at"]

    # The outsider: neither the receipts nor the notice exist for him.
    charlie = api(network.charlie)
    assert_problem(charlie.get(f"{url}receipts/"), 404)
    assert_problem(charlie.post(f"{url}acknowledge/"), 404)
    assert_problem(api(network.erin).post(f"{url}acknowledge/"), 404)  # GREEN: not sponsored
    # A recipient is not the issuer.
    assert_problem(bob.get(f"{url}receipts/"), 404)
    rows = [r["organisation"] for r in felix.get(f"{url}receipts/").json()]
    assert "de-desk" not in rows and "be-customs" not in rows


def test_a_draft_cannot_be_acknowledged(network: Network, api: Api) -> None:
    notice = draft(api(network.alice))
    assert_problem(api(network.olga).post(f"{NOTICES}{notice['id']}/acknowledge/"), 409)


# --- Webhook delivery, in process ------------------------------------------------------------


def test_publish_and_withdraw_reach_each_entitled_endpoint_once(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
    receiver: Receiver,
) -> None:
    profile = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk])
    members = {
        "fr": network.alice,
        "be": network.bob,
        "be-customs": network.erin,
        "de": network.charlie,
        "eurojust": network.cora,
    }
    subs = {name: subscribe(api(m), receiver, name) for name, m in members.items()}
    subscribe(api(network.olga), receiver, "fr-green", max_tlp=TLP.GREEN)
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice),
            tlp=TLP.AMBER,
            audience_scope="organisations",
            audience_organisations=["be-desk"],
            profiles=[profile.pk],
        )["id"],
    )
    entitled = {"fr", "be", "be-customs"}
    rows = Delivery.objects.filter(notice_id=notice["id"])
    assert sorted(rows.values_list("subscription_id", flat=True)) == sorted(
        subs[name] for name in entitled
    )
    assert deliver_due(time_budget=5) == 3
    assert deliver_due(time_budget=5) == 0
    for name in entitled:
        (hit,) = receiver.to(name)
        assert set(hit.payload) == {"type", "timestamp", "data"}
        assert hit.payload["type"] == "notice.published"
        assert hit.payload["data"]["reference"] == notice["reference"]
        expected = api(members[name]).get(f"{NOTICES}{notice['id']}/").json()
        expected.pop("acknowledged_at")
        assert hit.payload["data"] == expected
        assert [p["id"] for p in hit.payload["data"]["profiles"]] == [profile.pk]
        assert hit.headers["webhook-id"] == rows.get(subscription_id=subs[name]).webhook_id
    for name in ("de", "eurojust", "fr-green"):
        assert receiver.to(name) == []
    assert set(rows.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}

    response = api(extra.felix).post(
        f"{NOTICES}{notice['id']}/withdraw/", {"reason": "Wrong model."}, format="json"
    )
    assert response.status_code == 200
    assert deliver_due(time_budget=5) == 3
    for name in entitled:
        published, withdrawn = receiver.to(name)
        assert withdrawn.payload["type"] == "notice.withdrawn"
        assert withdrawn.payload["data"]["status"] == "withdrawn"
        assert withdrawn.payload["data"]["withdrawal_reason"] == "Wrong model."
        assert withdrawn.headers["webhook-id"] != published.headers["webhook-id"]
    for name in ("de", "eurojust", "fr-green"):
        assert receiver.to(name) == []
    assert not Delivery.objects.filter(subscription_id__in=[subs["de"], subs["eurojust"]]).exists()


def test_withdrawal_reaches_earlier_recipients_even_without_that_event(
    network: Network, extra: Extra, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    subscribe(api(network.bob), receiver, "be", event_types=["notice.published"])
    subscribe(api(network.charlie), receiver, "de", event_types=["notice.published"])
    notice = issue(audience_scope="organisations", audience_organisations=["be-desk"])
    assert deliver_due(time_budget=5) == 1
    api(extra.felix).post(f"{NOTICES}{notice['id']}/withdraw/", {"reason": "r"}, format="json")
    assert deliver_due(time_budget=5) == 1
    assert [h.payload["type"] for h in receiver.to("be")] == [
        "notice.published",
        "notice.withdrawn",
    ]
    assert receiver.to("de") == []


def test_a_red_notice_never_travels_by_webhook(
    network: Network, extra: Extra, api: Api, receiver: Receiver
) -> None:
    for name, member in (("fr", network.alice), ("eurojust", network.cora), ("be", network.bob)):
        subscribe(api(member), receiver, name)
    felix = api(extra.felix)
    unnamed = felix.post(NOTICES, {"type": "alert", "title": "t", "tlp": TLP.RED}, format="json")
    assert_problem(unnamed, 400, "recipient_members")
    assert not Notice.objects.exists()
    notice = publish(felix, draft(felix, tlp=TLP.RED, recipient_members=["audrey", "alice"])["id"])
    assert notice["tlp"] == TLP.RED
    assert api(network.audrey).get(f"{NOTICES}{notice['id']}/").status_code == 200
    assert_problem(api(network.cora).get(f"{NOTICES}{notice['id']}/"), 404)
    assert not Delivery.objects.filter(notice_id=notice["id"]).exists()
    assert deliver_due(time_budget=5) == 0
    # Even an endpoint whose cap were set to RED in the database is sent nothing.
    Subscription.objects.all().update(max_tlp=TLP.RED)
    assert webhook_viewer(network.fr_desk, TLP.RED).clearance == TLP.AMBER_STRICT
    felix.post(
        f"{NOTICES}{notice['id']}/update/", {"change_note": "n", "body": "more"}, format="json"
    )
    felix.post(f"{NOTICES}{notice['id']}/withdraw/", {"reason": "r"}, format="json")
    assert not Delivery.objects.filter(notice_id=notice["id"]).exists()
    assert deliver_due(time_budget=5) == 0
    assert receiver.hits == []


def test_entitlement_is_checked_again_before_a_retry(
    network: Network, extra: Extra, api: Api, receiver: Receiver
) -> None:
    """bruno's endpoint gets an AMBER+STRICT notice while he is cleared for it; once his
    clearance is lowered the pending retry is cancelled, not sent."""
    sub = subscribe(api(extra.bruno), receiver, "be-strict", max_tlp=TLP.AMBER_STRICT)
    receiver.fail_next["be-strict"] = 1
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice),
            tlp=TLP.AMBER_STRICT,
            audience_scope="organisations",
            audience_organisations=["be-desk"],
        )["id"],
    )
    assert deliver_due(time_budget=5) == 1
    delivery = Delivery.objects.get(subscription_id=sub)
    assert (delivery.state, delivery.last_status_code) == ("pending", 500)

    type(extra.bruno).objects.filter(pk=extra.bruno.pk).update(clearance=TLP.AMBER)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver_due(time_budget=5) == 0
    delivery.refresh_from_db()
    assert delivery.state == "cancelled" and delivery.attempts == 1
    assert len(receiver.to("be-strict")) == 1
    assert notice["tlp"] == TLP.AMBER_STRICT
