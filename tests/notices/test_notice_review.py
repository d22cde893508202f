"""The review of a draft through the API: the drafter submits, the reviewers (the issuer's
coordinators, the secretariat's coordinators who may read it) find it in `to-review/`, are told
by `notice.submitted`, and publish or return it with a comment; the drafter edits and submits
again. Every step is in the audit trail."""

from typing import Any

from rest_framework.test import APIClient

from intel.models import TLP
from tests.conftest import Network
from tests.helpers.notices import NOTICES, Api, Extra, assert_problem, draft, publish
from tests.helpers.webhooks import Receiver, receiver, subscribe
from webhooks.engine import deliver_due

__all__ = ["receiver"]  # a fixture, used by name

TO_REVIEW = f"{NOTICES}to-review/"


def submit(client: APIClient, notice_id: int) -> dict[str, Any]:
    response = client.post(f"{NOTICES}{notice_id}/submit/")
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def to_review(client: APIClient) -> list[int]:
    response = client.get(TO_REVIEW)
    assert response.status_code == 200, response.content
    return [n["id"] for n in response.json()["results"]]


def audit_actions(network: Network, api: Api, notice_id: int) -> list[str]:
    events = api(network.audrey).get(
        "/api/v1/audit/", {"object_type": "notice", "object_id": str(notice_id)}
    )
    assert events.status_code == 200, events.content
    return sorted({e["action"] for e in events.json()["results"]})


def test_a_draft_goes_through_review_to_publication(
    network: Network, extra: Extra, api: Api
) -> None:
    alice, felix, cora = api(network.alice), api(extra.felix), api(network.cora)
    notice = draft(alice)
    assert notice["review"] is None
    assert to_review(felix) == []
    assert to_review(cora) == []

    submitted = submit(alice, notice["id"])
    assert submitted["status"] == "submitted"
    assert submitted["review"]["status"] == "submitted"
    assert submitted["review"]["submitted_by"] == "alice"
    assert submitted["review"]["comment"] == ""
    # The reviewers: fr-desk's coordinator and the secretariat's; not the analyst who drafted.
    assert to_review(felix) == [notice["id"]]
    assert to_review(cora) == [notice["id"]]
    assert to_review(alice) == []
    assert to_review(api(network.bob)) == []

    # Not editable while it waits.
    edit = alice.patch(f"{NOTICES}{notice['id']}/", {"title": "Changed"}, format="json")
    assert "until a reviewer returns it" in assert_problem(edit, 409)["detail"]

    # Returned with a comment, which the drafter reads on the notice.
    no_comment = felix.post(f"{NOTICES}{notice['id']}/return/", {}, format="json")
    assert_problem(no_comment, 400, "comment")
    blank = felix.post(f"{NOTICES}{notice['id']}/return/", {"comment": "  "}, format="json")
    assert_problem(blank, 400, "comment")
    returned = felix.post(
        f"{NOTICES}{notice['id']}/return/", {"comment": "Name the facility type."}, format="json"
    )
    assert returned.status_code == 200, returned.content
    seen = alice.get(f"{NOTICES}{notice['id']}/").json()
    assert seen["status"] == "draft"
    assert seen["review"]["status"] == "returned"
    assert seen["review"]["comment"] == "Name the facility type."
    assert seen["review"]["returned_by"] == "felix"
    assert seen["review"]["returned_at"] is not None
    assert to_review(felix) == []

    # The drafter edits and submits again; a reviewer publishes.
    edit = alice.patch(f"{NOTICES}{notice['id']}/", {"title": "In prisons"}, format="json")
    assert edit.status_code == 200, edit.content
    again = submit(alice, notice["id"])
    assert again["review"]["status"] == "submitted"
    assert again["review"]["returned_by"] is None
    published = publish(cora, notice["id"])
    assert published["title"] == "In prisons"
    assert published["review"] is None
    assert to_review(cora) == []

    assert audit_actions(network, api, notice["id"]) == [
        "notice.draft_edited",
        "notice.drafted",
        "notice.published",
        "notice.returned",
        "notice.submitted",
    ]


def test_review_steps_are_refused_out_of_turn_and_to_others(
    network: Network, extra: Extra, api: Api
) -> None:
    alice, felix = api(network.alice), api(extra.felix)
    notice = draft(alice)
    url = f"{NOTICES}{notice['id']}/"
    # Only a submitted notice is returned.
    assert_problem(felix.post(f"{url}return/", {"comment": "c"}, format="json"), 409)
    # A desk officer of the issuer does not submit; another desk does not see the draft.
    assert_problem(api(network.olga).post(f"{url}submit/"), 403)
    assert_problem(api(network.bob).post(f"{url}submit/"), 404)
    submit(alice, notice["id"])
    assert_problem(alice.post(f"{url}submit/"), 409)
    # The drafter does not review their own submission.
    assert_problem(alice.post(f"{url}return/", {"comment": "c"}, format="json"), 403)
    assert_problem(alice.post(f"{url}publish/"), 403)
    assert_problem(api(network.bob).post(f"{url}return/", {"comment": "c"}, format="json"), 404)
    # Published: no longer submitted or returned.
    publish(felix, notice["id"])
    assert_problem(alice.post(f"{url}submit/"), 409)
    assert_problem(felix.post(f"{url}return/", {"comment": "c"}, format="json"), 409)


def test_a_coordinator_still_publishes_a_draft_without_review(
    network: Network, extra: Extra, api: Api
) -> None:
    notice = draft(api(network.alice))
    assert publish(api(extra.felix), notice["id"])["status"] == "published"


def test_a_red_draft_is_reviewed_only_by_those_who_may_read_it(
    network: Network, extra: Extra, api: Api
) -> None:
    alice = api(network.alice)
    notice = draft(alice, tlp=TLP.RED, audience={"members": ["alice", "audrey"]})
    submit(alice, notice["id"])
    # felix (fr-desk coordinator) is not named: a RED draft stays hidden from him, and so
    # does its review; cora (secretariat) neither.
    assert to_review(api(extra.felix)) == []
    assert to_review(api(network.cora)) == []
    assert_problem(api(extra.felix).post(f"{NOTICES}{notice['id']}/publish/"), 404)


def test_notice_submitted_reaches_the_reviewers_organisations_only(
    network: Network, extra: Extra, api: Api, receiver: Receiver
) -> None:
    events = ["notice.submitted", "notice.published"]
    subscribe(api(extra.felix), receiver, "fr", event_types=events)
    subscribe(api(network.cora), receiver, "eurojust", event_types=events)
    subscribe(api(network.bob), receiver, "be", event_types=events)
    subscribe(api(network.charlie), receiver, "de", event_types=["notice.published"])
    notice = draft(api(network.alice))
    # A refused submission tells nobody.
    assert_problem(api(network.olga).post(f"{NOTICES}{notice['id']}/submit/"), 403)
    assert deliver_due(time_budget=5) == 0
    submit(api(network.alice), notice["id"])
    assert deliver_due(time_budget=5) == 2
    for name in ("fr", "eurojust"):
        (hit,) = receiver.to(name)
        assert hit.payload["type"] == "notice.submitted"
        assert hit.payload["data"]["id"] == notice["id"]
        assert hit.payload["data"]["status"] == "submitted"
        assert hit.payload["data"]["review"]["submitted_by"] == "alice"
    assert receiver.to("be") == []
    # The payload is the notice as the API shows it.
    expected = api(network.alice).get(f"{NOTICES}{notice['id']}/").json()
    expected.pop("acknowledged_at")
    assert receiver.to("fr")[0].payload["data"] == expected
    # Published, it reaches the network as before.
    publish(api(extra.felix), notice["id"])
    assert deliver_due(time_budget=5) == 4
    assert [h.payload["type"] for h in receiver.to("be")] == ["notice.published"]
