"""Discarding a notice that was never published: its drafters and reviewers delete it, a
published notice is withdrawn instead, and each deletion is in the audit trail."""

from tests.conftest import Network
from tests.helpers.notices import NOTICES, Api, Extra, assert_problem, draft, publish


def test_the_drafter_deletes_a_draft(network: Network, api: Api) -> None:
    alice = api(network.alice)
    notice = draft(alice)
    response = alice.delete(f"{NOTICES}{notice['id']}/")
    assert response.status_code == 204, response.content
    assert_problem(alice.get(f"{NOTICES}{notice['id']}/"), 404)
    assert notice["id"] not in [n["id"] for n in alice.get(NOTICES).json()["results"]]
    events = api(network.audrey).get(
        "/api/v1/audit/", {"action": "notice.discarded", "object_id": str(notice["id"])}
    )
    (event,) = events.json()["results"]
    assert event["actor_username"] == "alice"


def test_a_reviewer_deletes_a_submitted_notice(network: Network, extra: Extra, api: Api) -> None:
    alice = api(network.alice)
    notice = draft(alice)
    assert alice.post(f"{NOTICES}{notice['id']}/submit/").status_code == 200
    assert api(network.cora).delete(f"{NOTICES}{notice['id']}/").status_code == 204
    assert_problem(api(extra.felix).get(f"{NOTICES}{notice['id']}/"), 404)


def test_others_may_not_delete_a_draft(network: Network, api: Api) -> None:
    notice = draft(api(network.alice))
    assert_problem(api(network.olga).delete(f"{NOTICES}{notice['id']}/"), 403)
    assert_problem(api(network.bob).delete(f"{NOTICES}{notice['id']}/"), 404)
    assert api(network.alice).get(f"{NOTICES}{notice['id']}/").status_code == 200


def test_a_published_notice_is_never_deleted(network: Network, extra: Extra, api: Api) -> None:
    felix = api(extra.felix)
    notice = publish(felix, draft(api(network.alice))["id"])
    refused = assert_problem(felix.delete(f"{NOTICES}{notice['id']}/"), 409)
    assert "withdraw" in refused["detail"]
    felix.post(f"{NOTICES}{notice['id']}/withdraw/", {"reason": "Wrong."}, format="json")
    assert_problem(felix.delete(f"{NOTICES}{notice['id']}/"), 409)
    assert felix.get(f"{NOTICES}{notice['id']}/").status_code == 200
