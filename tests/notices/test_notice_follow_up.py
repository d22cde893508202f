"""The issuer's follow-up of a notice: who it reaches (the audience preview, compared with the
webhook fan-out), receipts of the whole audience, acknowledgements saying what was done, and
one reminder per silent organisation once `respond_by` has passed."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from intel import accounts
from intel.models import TLP, AuditEvent, Organisation
from notices.tasks import send_reminders
from tests.conftest import Network
from tests.factories import OrganisationFactory
from tests.helpers.notices import NOTICES, SUBSCRIPTIONS, Api, Extra, assert_problem, draft, publish
from tests.helpers.webhooks import Receiver, receiver
from webhooks.engine import deliver_due
from webhooks.models import Delivery

__all__ = ["receiver"]  # a fixture, used by name

ALL_NOTICE_EVENTS = ["notice.published", "notice.updated", "notice.withdrawn", "notice.reminder"]


def subscribe_everyone(api: Api, receiver: Receiver) -> dict[int, str]:
    """One AMBER+STRICT endpoint per organisation of the network; subscription id -> slug."""
    subscribed = {}
    for org in Organisation.objects.all():
        member = accounts.member_create(
            organisation=org,
            username=f"hook-{org.slug}",
            role="coordinator",
            clearance=TLP.AMBER_STRICT,
        )
        body = {"url": receiver.url(org.slug), "event_types": ALL_NOTICE_EVENTS}
        response = api(member).post(SUBSCRIPTIONS, body, format="json")
        assert response.status_code == 201, response.content
        subscribed[response.json()["id"]] = org.slug
        receiver.secrets[org.slug] = [response.json()["secret"]]
    return subscribed


def reached(client: Any, notice_id: int) -> dict[str, dict[str, Any]]:
    response = client.get(f"{NOTICES}{notice_id}/audience/")
    assert response.status_code == 200, response.content
    return {row["slug"]: row for row in response.json()["results"]}


# --- Audience preview ------------------------------------------------------------------------


def test_the_preview_says_who_and_why_to_the_issuer_only(
    network: Network, extra: Extra, api: Api
) -> None:
    notice = draft(
        api(network.alice),
        tlp=TLP.AMBER,
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    preview = api(network.alice).get(f"{NOTICES}{notice['id']}/audience/").json()
    rows = {row["slug"]: row["reasons"] for row in preview["results"]}
    # AMBER reaches the authorities the issuer and the named desk sponsor.
    assert rows == {
        "be-customs": ["sponsored"],
        "be-desk": ["named"],
        "fr-desk": ["issuer"],
        "fr-prison-admin": ["sponsored"],
    }
    assert preview["totals"] == {"organisations": 4, "countries": 2}
    assert {r["slug"]: r["country"] for r in preview["results"]}["be-desk"] == "BE"
    assert reached(api(network.cora), notice["id"]) == reached(api(extra.felix), notice["id"])
    # Neither a recipient nor an outsider learns who else is told.
    publish(api(extra.felix), notice["id"])
    assert_problem(api(network.bob).get(f"{NOTICES}{notice['id']}/audience/"), 404)
    assert_problem(api(network.charlie).get(f"{NOTICES}{notice['id']}/audience/"), 404)


def test_a_red_preview_names_the_members(network: Network, extra: Extra, api: Api) -> None:
    notice = draft(
        api(network.alice),
        tlp=TLP.RED,
        audience={
            "scope": "organisations",
            "organisations": ["be-desk"],
            "members": ["audrey", "felix", "alice"],
        },
    )
    rows = reached(api(network.alice), notice["id"])
    # Members, not organisations: be-desk, in the audience, has nobody named.
    assert {slug: row["members"] for slug, row in rows.items()} == {
        "eurojust": ["audrey"],
        "fr-desk": ["alice", "felix"],
    }
    assert rows["eurojust"]["reasons"] == ["named"]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"audience": {"scope": "network"}}, id="GREEN-network"),
        pytest.param(
            {"audience": {"scope": "countries", "countries": ["BE"]}}, id="GREEN-countries"
        ),
        pytest.param(
            {"tlp": TLP.AMBER_STRICT, "audience": {"scope": "network"}}, id="AMBER+STRICT-network"
        ),
        pytest.param(
            {"audience": {"scope": "organisations", "organisations": ["be-desk", "fr-desk"]}},
            id="GREEN-organisations",
        ),
        pytest.param(
            {
                "tlp": TLP.AMBER,
                "audience": {"scope": "organisations", "organisations": ["be-desk"]},
            },
            id="AMBER-organisations",
        ),
        pytest.param(
            {"tlp": TLP.AMBER, "audience": {"scope": "countries", "countries": ["FR"]}},
            id="AMBER-countries",
        ),
    ],
)
def test_the_preview_is_who_the_fan_out_tells(
    network: Network, extra: Extra, api: Api, receiver: Receiver, fields: dict[str, Any]
) -> None:
    subscribed = subscribe_everyone(api, receiver)
    notice = draft(api(network.alice), **fields)
    preview = set(reached(api(extra.felix), notice["id"]))
    publish(api(extra.felix), notice["id"])
    told = {
        subscribed[pk]
        for pk in Delivery.objects.filter(
            notice_id=notice["id"], event_type="notice.published"
        ).values_list("subscription_id", flat=True)
    }
    assert told == preview
    assert preview  # every case reaches someone


# --- Receipts and acknowledgements -----------------------------------------------------------


def test_receipts_list_the_whole_audience_with_what_each_did(
    network: Network, extra: Extra, api: Api
) -> None:
    notice = publish(
        api(extra.felix),
        draft(api(network.alice), audience={"scope": "countries", "countries": ["BE", "DE"]})["id"],
    )
    url = f"{NOTICES}{notice['id']}/"
    api(network.charlie).get(url)
    ack = api(network.bob).post(
        f"{url}acknowledge/",
        {"outcome": "in_progress", "comment": "Cell searches planned in 4 prisons."},
        format="json",
    )
    assert ack.status_code == 200, ack.content
    assert (ack.json()["outcome"], ack.json()["comment"]) == (
        "in_progress",
        "Cell searches planned in 4 prisons.",
    )

    page = api(extra.felix).get(f"{url}receipts/", {"page_size": 2}).json()
    assert page["totals"] == {
        "audience": 3,
        "received": 2,
        "read": 2,
        "acknowledged": 1,
        "reminded": 0,
    }
    # In the order the organisations joined the network.
    assert [r["organisation"] for r in page["results"]] == ["be-desk", "de-desk"]
    desk, german = page["results"]
    assert (desk["acknowledged_by"], desk["outcome"], desk["reasons"]) == (
        "bob",
        "in_progress",
        ["scope"],
    )
    assert german["read_at"] is not None
    assert german["acknowledged_at"] is None
    rest = api(extra.felix).get(page["next"]).json()
    assert [r["organisation"] for r in rest["results"]] == ["be-customs"]
    customs = rest["results"][0]
    assert (customs["received_at"], customs["acknowledged_at"], customs["outcome"]) == (
        None,
        None,
        None,
    )

    # A later acknowledgement says how it ended; the first time and member stay.
    again = api(network.bob).post(f"{url}acknowledge/", {"outcome": "seized"}, format="json")
    assert again.json()["acknowledged_at"] == ack.json()["acknowledged_at"]
    rows = api(network.cora).get(f"{url}receipts/").json()["results"]
    desk = next(r for r in rows if r["organisation"] == "be-desk")
    assert (desk["outcome"], desk["comment"]) == ("seized", "Cell searches planned in 4 prisons.")


def test_an_acknowledgement_refuses_personal_data_and_unknown_fields(
    network: Network, extra: Extra, api: Api
) -> None:
    notice = publish(api(extra.felix), draft(api(network.alice))["id"])
    url = f"{NOTICES}{notice['id']}/acknowledge/"
    bob = api(network.bob)
    body = assert_problem(
        bob.post(url, {"comment": "The courier's phone: 06 12 34 56 78"}, format="json"),
        400,
        "comment",
    )
    assert "06 12" not in str(body)
    assert_problem(bob.post(url, {"outcome": "arrested"}, format="json"), 400, "outcome")
    assert_problem(bob.post(url, {"outcome": "seized", "seized": 3}, format="json"), 400, "seized")
    assert_problem(bob.post(url, {"comment": "x" * 2001}, format="json"), 400, "comment")
    # Nothing was recorded by the refusals.
    rows = api(extra.felix).get(f"{NOTICES}{notice['id']}/receipts/").json()
    assert rows["totals"]["acknowledged"] == 0
    assert bob.post(url).status_code == 200  # an empty body acknowledges only


# --- Reminders -------------------------------------------------------------------------------


def test_one_reminder_per_silent_organisation_after_respond_by(
    network: Network, extra: Extra, api: Api, receiver: Receiver
) -> None:
    subscribed = subscribe_everyone(api, receiver)
    respond_by = (timezone.now() - timedelta(minutes=1)).isoformat()
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice),
            respond_by=respond_by,
            audience={"scope": "countries", "countries": ["BE", "DE"]},
        )["id"],
    )
    assert notice["respond_by"] is not None
    api(network.bob).post(
        f"{NOTICES}{notice['id']}/acknowledge/", {"outcome": "seized"}, format="json"
    )

    assert send_reminders() == 2
    assert send_reminders() == 0  # once only

    rows = {
        r["organisation"]: r
        for r in api(extra.felix).get(f"{NOTICES}{notice['id']}/receipts/").json()["results"]
    }
    assert rows["be-desk"]["reminded_at"] is None
    assert rows["be-customs"]["reminded_at"] is not None
    assert rows["de-desk"]["reminded_at"] is not None
    totals = api(extra.felix).get(f"{NOTICES}{notice['id']}/receipts/").json()["totals"]
    assert (totals["reminded"], totals["acknowledged"]) == (2, 1)
    told = sorted(
        subscribed[pk]
        for pk in Delivery.objects.filter(
            notice_id=notice["id"], event_type="notice.reminder"
        ).values_list("subscription_id", flat=True)
    )
    assert told == ["be-customs", "de-desk"]
    # Delivered as the notice, as each reminded organisation may see it.
    deliver_due(time_budget=5)
    reminders = [h for h in receiver.hits if h.payload["type"] == "notice.reminder"]
    assert sorted(h.path for h in reminders) == ["be-customs", "de-desk"]
    assert {h.payload["data"]["id"] for h in reminders} == {notice["id"]}


def test_no_reminder_before_respond_by_nor_for_a_withdrawn_notice(
    network: Network, extra: Extra, api: Api
) -> None:
    later = (timezone.now() + timedelta(days=2)).isoformat()
    earlier = (timezone.now() - timedelta(hours=1)).isoformat()
    publish(api(extra.felix), draft(api(network.alice), respond_by=later)["id"])
    withdrawn = publish(api(extra.felix), draft(api(network.alice), respond_by=earlier)["id"])
    response = api(extra.felix).post(
        f"{NOTICES}{withdrawn['id']}/withdraw/", {"reason": "Issued in error."}, format="json"
    )
    assert response.status_code == 200
    assert send_reminders() == 0


def test_respond_by_can_be_moved_by_an_update(network: Network, extra: Extra, api: Api) -> None:
    notice = publish(api(extra.felix), draft(api(network.alice))["id"])
    moved = (timezone.now() - timedelta(minutes=5)).isoformat()
    response = api(extra.felix).post(
        f"{NOTICES}{notice['id']}/update/",
        {"change_note": "Answers expected now.", "respond_by": moved},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["respond_by"] is not None
    assert send_reminders() == 5  # the network but the issuer: nobody acknowledged


def test_a_respond_by_passed_a_month_ago_still_reminds_each_silent_organisation_once(
    network: Network, extra: Extra, api: Api, django_assert_num_queries: Any
) -> None:
    """The scheduler was down when `respond_by` passed: the first run after it catches up."""
    month_ago = (timezone.now() - timedelta(days=30)).isoformat()
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice),
            respond_by=month_ago,
            audience={"scope": "countries", "countries": ["BE", "DE"]},
        )["id"],
    )
    api(network.bob).post(f"{NOTICES}{notice['id']}/acknowledge/", {}, format="json")

    assert send_reminders() == 2  # be-customs and de-desk; be-desk acknowledged
    with django_assert_num_queries(1):  # done: the next runs read no notice
        assert send_reminders() == 0
    # A desk that joins after the reminders went out is reminded only when a new
    # `respond_by` passes; those reminded already are not reminded again.
    OrganisationFactory(slug="de-customs", name="German customs", country="DE")
    assert send_reminders() == 0
    moved = api(extra.felix).post(
        f"{NOTICES}{notice['id']}/update/",
        {"change_note": "Answers still expected.", "respond_by": timezone.now().isoformat()},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert send_reminders() == 1
    reminded = api(extra.felix).get(f"{NOTICES}{notice['id']}/receipts/").json()["results"]
    assert sorted(r["organisation"] for r in reminded if r["reminded_at"]) == [
        "be-customs",
        "de-customs",
        "de-desk",
    ]


# --- The follow-up reads are audited ---------------------------------------------------------


def test_reading_an_amber_audience_or_receipts_is_recorded_each_page_green_and_head_not(
    network: Network, extra: Extra, api: Api
) -> None:
    alice = api(network.alice)
    amber = publish(
        api(extra.felix),
        draft(alice, tlp=TLP.AMBER, audience={"scope": "countries", "countries": ["BE", "DE"]})[
            "id"
        ],
    )
    green = publish(api(extra.felix), draft(alice)["id"])
    mark = last_event()

    first = alice.get(
        f"{NOTICES}{amber['id']}/audience/",
        {"page_size": 1},
        HTTP_X_DIX_JUSTIFICATION="Briefing the Belgian desk",
    ).json()
    assert alice.get(first["next"]).status_code == 200
    assert alice.get(f"{NOTICES}{amber['id']}/receipts/").status_code == 200
    assert alice.head(f"{NOTICES}{amber['id']}/receipts/").status_code == 200
    assert alice.get(f"{NOTICES}{green['id']}/audience/").status_code == 200
    assert alice.get(f"{NOTICES}{green['id']}/receipts/").status_code == 200

    events = AuditEvent.objects.filter(id__gt=mark).order_by("id")
    assert [(e.action, e.object_id, e.object_tlp, e.justification) for e in events] == [
        ("notice.audience_read", str(amber["id"]), TLP.AMBER, "Briefing the Belgian desk"),
        ("notice.audience_read", str(amber["id"]), TLP.AMBER, ""),
        ("notice.receipts_read", str(amber["id"]), TLP.AMBER, ""),
    ]
    assert events[0].detail == {"reference": amber["reference"], "version": 1}


def test_a_refused_follow_up_read_records_no_read(network: Network, extra: Extra, api: Api) -> None:
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice), tlp=TLP.AMBER, audience={"scope": "countries", "countries": ["BE"]}
        )["id"],
    )
    mark = last_event()
    for path in ("audience", "receipts"):
        assert_problem(api(network.bob).get(f"{NOTICES}{notice['id']}/{path}/"), 404)
    assert not AuditEvent.objects.filter(id__gt=mark, action__endswith="_read").exists()


def last_event() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
