"""The pull inbox (filters, `since`, ETag) and receipts (received, read, acknowledged)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile
from notices.models import Notice
from tests.conftest import Network
from tests.helpers.notices import NOTICES, Api, Extra, assert_problem, draft

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
    alert = issue(profile_ids=[profile.pk])
    warning = issue(type="warning")
    gone = issue(type="request_for_information")
    to_belgium = issue(audience={"scope": "countries", "countries": ["BE"]})
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
    assert results(bob.get(NOTICES, {"audience_country": "BE"})) == [to_belgium["id"]]
    assert results(bob.get(NOTICES, {"audience_country": "DE"})) == []
    assert len(results(bob.get(NOTICES, {"issuer_country": "fr"}))) == 4
    assert results(bob.get(NOTICES, {"issuer_country": "BE"})) == []
    assert len(results(bob.get(NOTICES, {"issuer": "fr-desk"}))) == 4
    assert results(bob.get(NOTICES, {"issuer": "be-desk"})) == []
    renamed = assert_problem(bob.get(NOTICES, {"country": "BE"}), 400, "country")
    assert "`issuer_country` or `audience_country`" in renamed["errors"][0]["detail"]
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
    assert results(response) == [first["id"]]
    assert etag.startswith('"')

    unchanged = bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
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
    notice = issue(audience={"scope": "organisations", "organisations": ["be-desk"]})
    url = f"{NOTICES}{notice['id']}/"
    bob, felix = api(network.bob), api(extra.felix)

    def be_desk(client: APIClient) -> dict[str, Any]:
        response = client.get(f"{url}receipts/")
        assert response.status_code == 200, response.content
        rows = {row["organisation"]: row for row in response.json()["results"]}
        return rows["be-desk"]

    # The whole audience is listed before anyone pulls the notice: nothing received yet.
    before = felix.get(f"{url}receipts/").json()
    assert [r["organisation"] for r in before["results"]] == ["be-desk"]
    assert before["results"][0]["received_at"] is None
    assert before["totals"] == {
        "audience": 1,
        "received": 0,
        "read": 0,
        "acknowledged": 0,
        "reminded": 0,
    }
    assert results(bob.get(NOTICES)) == [notice["id"]]
    row = be_desk(felix)
    assert row["received_at"] is not None
    assert (row["read_at"], row["acknowledged_at"], row["acknowledged_by"]) == (None, None, None)

    bob.get(url)
    row = be_desk(felix)
    assert row["read_at"] is not None
    assert row["acknowledged_at"] is None

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
    rows = [r["organisation"] for r in felix.get(f"{url}receipts/").json()["results"]]
    assert "de-desk" not in rows
    assert "be-customs" not in rows


def test_a_draft_cannot_be_acknowledged(network: Network, api: Api) -> None:
    notice = draft(api(network.alice))
    assert_problem(api(network.olga).post(f"{NOTICES}{notice['id']}/acknowledge/"), 409)
