"""A member reads and chooses their own e-mail preferences through the API."""

from tests.helpers.access import problem
from tests.mail.conftest import PREFERENCES


def deliveries(body: dict) -> dict[str, str]:
    return {p["event_type"]: p["delivery"] for p in body["preferences"]}


def test_a_member_sees_the_defaults_with_every_kind_of_event(network, api, mailboxes):
    response = api(network.bob).get(PREFERENCES)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["email"] == "bob@example.org"
    chosen = deliveries(body)
    assert chosen["notice.published"] == "immediate"
    assert chosen["notice.submitted"] == "immediate"
    assert chosen["notice.reminder"] == "immediate"
    assert chosen["access_request.decided"] == "immediate"
    assert chosen["profile.updated"] == "none"
    assert chosen["seizure.reported"] == "none"
    assert "dix.test" not in chosen
    assert all(p["default"] == p["delivery"] for p in body["preferences"])


def test_a_member_chooses_and_unlisted_kinds_go_back_to_their_default(network, api, mailboxes):
    bob = api(network.bob)
    first = bob.put(
        PREFERENCES,
        {
            "preferences": [
                {"event_type": "notice.updated", "delivery": "digest"},
                {"event_type": "seizure.reported", "delivery": "immediate"},
            ]
        },
        format="json",
    )
    assert first.status_code == 200, first.content
    assert deliveries(first.json())["notice.updated"] == "digest"
    assert deliveries(bob.get(PREFERENCES).json())["seizure.reported"] == "immediate"

    second = bob.put(
        PREFERENCES,
        {"preferences": [{"event_type": "notice.published", "delivery": "none"}]},
        format="json",
    )
    assert second.status_code == 200, second.content
    now = deliveries(bob.get(PREFERENCES).json())
    assert now["notice.published"] == "none"
    assert now["notice.updated"] == "immediate"  # not listed: the default again
    assert now["seizure.reported"] == "none"
    # Only bob's own: charlie's stay the defaults.
    assert deliveries(api(network.charlie).get(PREFERENCES).json())["notice.published"] == (
        "immediate"
    )


def test_bad_preferences_are_refused_naming_the_field(network, api, mailboxes):
    bob = api(network.bob)
    bad_choice = bob.put(
        PREFERENCES,
        {"preferences": [{"event_type": "notice.published", "delivery": "weekly"}]},
        format="json",
    )
    body = problem(bad_choice, 400)
    assert "preferences" in str(body["errors"])
    assert "weekly" in str(body)
    problem(
        bob.put(
            PREFERENCES,
            {"preferences": [{"event_type": "dix.test", "delivery": "digest"}]},
            format="json",
        ),
        400,
    )
    problem(
        bob.put(
            PREFERENCES,
            {
                "preferences": [
                    {"event_type": "notice.published", "delivery": "digest"},
                    {"event_type": "notice.published", "delivery": "none"},
                ]
            },
            format="json",
        ),
        400,
        "preferences",
    )
    problem(bob.put(PREFERENCES, {"preferences": [], "email": "x@evil"}, format="json"), 400)
    problem(
        bob.put(PREFERENCES, {"preferences": [{"event_type": "notice.published"}]}, format="json"),
        400,
    )
    assert deliveries(bob.get(PREFERENCES).json())["notice.published"] == "immediate"


def test_anonymous_callers_are_refused(api, network):
    assert api(None).get(PREFERENCES).status_code == 401


def test_a_change_is_audited(network, api, mailboxes):
    bob = api(network.bob)
    bob.put(
        PREFERENCES,
        {"preferences": [{"event_type": "notice.published", "delivery": "digest"}]},
        format="json",
    )
    events = api(network.audrey).get("/api/v1/audit/", {"action": "email_preferences.changed"})
    assert events.status_code == 200, events.content
    (event,) = [e for e in events.json()["results"] if e["action"] == "email_preferences.changed"]
    assert event["actor_username"] == "bob"
    assert event["detail"]["changes"] == {"notice.published": ["immediate", "digest"]}
