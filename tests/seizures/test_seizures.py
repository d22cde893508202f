"""Seizure and hit reports through the HTTP API: filing positive and negative reports, every
refusal (and that a refused report leaves nothing behind), who may read what, a profile's
seizure figures, the `seizure.reported` outbox row, the audit trail, the demo's figures, and
the personal-data detector on its own.

Unless a test says otherwise, reports answer `alert`: a TLP:GREEN notice to the whole network
issued by the secretariat (eurojust), about the GREEN profile `mini`; alice (fr-desk analyst,
RED clearance) files them.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile, Member
from intel.models.audit import AuditEvent
from notices import services as notice_services
from notices.models import AudienceScope, Notice
from seizures.models import SeizureLine, SeizureReport
from seizures.personal_data import find_personal_data
from tests.conftest import Network
from webhooks import services as webhook_services
from webhooks.models import Delivery

SEIZURES = "/api/v1/seizures/"
PROBLEM = "application/problem+json"

Api = Callable[[Member | None], APIClient]


def stats_url(profile_id: int | str) -> str:
    return f"/api/v1/profiles/{profile_id}/seizure-stats/"


@pytest.fixture
def mini(make_profile: Callable[..., DeviceProfile]) -> DeviceProfile:
    return make_profile(tlp=TLP.GREEN, name="Oportik mini phone")


@pytest.fixture
def annex(make_profile: Callable[..., DeviceProfile], network: Network) -> DeviceProfile:
    """AMBER, for fr-desk and its named recipient be-desk (not de-desk)."""
    return make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Restricted annex")


def published(author: Member, publisher: Member, **fields: Any) -> Notice:
    data = {
        "notice_type": "alert",
        "title": "Mini phones in prisons",
        "summary": "Check your prisons.",
        "audience_scope": AudienceScope.NETWORK,
        "tlp": TLP.GREEN,
    }
    audience = fields.pop("audience_organisations", None)
    profiles = fields.pop("profiles", None)
    notice = notice_services.notice_create_draft(
        author=author,
        data=notice_services.NoticeInput(
            fields=data | fields, profiles=profiles, audience_organisations=audience
        ),
    )
    return notice_services.notice_publish(notice_id=notice.pk, author=publisher)


@pytest.fixture
def alert(network: Network, mini: DeviceProfile) -> Notice:
    return published(network.cora, network.cora, profiles=[mini])


def positive(mini: DeviceProfile, alert: Notice, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "country": "FR",
        "seized_on": "2025-05-20",
        "facility_type": "prison",
        "facilities_searched": 66,
        "notice": alert.pk,
        "operation": "Operation Prison Break",
        "detection_method": "targeted_cell_search",
        "concealment_method": "hollowed shoes",
        "tacs_observed": ["00999900"],
        "cash_amount": "1500.00",
        "cash_currency": "EUR",
        "notes": "About 500 cells searched on 20.05.2025; 88 + 76 phones.",
        "lines": [
            {"profile": mini.pk, "quantity": 88},
            {"item_type": "other_mobile_phone", "quantity": 76},
        ],
        "tlp": "TLP:GREEN",
    }
    return body | changes


def file(api: Api, member: Member, body: dict[str, Any]) -> Any:
    return api(member).post(SEIZURES, body, format="json")


def reported_events() -> int:
    return AuditEvent.objects.filter(action="seizure.reported").count()


# --- Filing ----------------------------------------------------------------------------------


def test_positive_report_is_filed_for_the_reporters_organisation(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    response = file(api, network.alice, positive(mini, alert))

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{SEIZURES}{body['id']}/"
    assert body["organisation"] == "fr-desk"
    assert body["reported_by"] == "alice"
    assert body["notice"] == {"id": alert.pk, "reference": alert.reference}
    assert body["lines"] == [
        {"profile": mini.pk, "item_type": "", "quantity": 88},
        {"profile": None, "item_type": "other_mobile_phone", "quantity": 76},
    ]
    assert (body["cash_amount"], body["cash_currency"]) == ("1500.00", "EUR")
    assert body["tacs_observed"] == ["00999900"]
    assert body["negative_result"] is False
    # The issuer of the notice is always a recipient.
    assert body["recipient_organisations"] == ["eurojust"]
    event = AuditEvent.objects.get(action="seizure.reported")
    assert (event.actor_username, event.object_id) == ("alice", str(body["id"]))
    # And it reads back the same.
    assert api(network.alice).get(f"{SEIZURES}{body['id']}/").json() == body


def test_negative_report_has_no_lines(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    response = file(
        api,
        network.bob,
        {
            "seized_on": "2025-06-12",
            "facility_type": "prison",
            "facilities_searched": 3,
            "notice": alert.pk,
            "negative_result": True,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["country"] == "BE"  # the reporting organisation's, when not given
    assert body["negative_result"] is True
    assert body["lines"] == []
    assert body["organisation"] == "be-desk"


def test_recipients_are_the_named_organisations_and_the_notice_issuer(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    response = file(
        api,
        network.alice,
        positive(mini, alert, recipient_organisations=["be-desk", "fr-desk"]),
    )

    assert response.status_code == 201, response.content
    assert sorted(response.json()["recipient_organisations"]) == ["be-desk", "eurojust"]


def test_auditors_do_not_report(api: Api, network: Network, mini: DeviceProfile) -> None:
    response = file(api, network.audrey, {"seized_on": "2025-05-20", "facility_type": "prison"})

    assert response.status_code == 403
    assert SeizureReport.objects.count() == 0


def test_reports_are_not_edited_or_deleted(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    report_id = file(api, network.alice, positive(mini, alert)).json()["id"]
    client = api(network.alice)

    assert client.patch(f"{SEIZURES}{report_id}/", {"notes": "x"}, format="json").status_code == 405
    assert client.delete(f"{SEIZURES}{report_id}/").status_code == 405
    assert SeizureReport.objects.get(pk=report_id).notes.startswith("About 500 cells")


# --- Refusals: 400 naming the field, nothing written -----------------------------------------

FUTURE = (timezone.now() + timedelta(days=2)).date().isoformat()

REFUSALS = {
    "future-date": ({"seized_on": FUTURE}, "seized_on"),
    "bad-currency": ({"cash_currency": "EUX"}, "cash_currency"),
    "lowercase-currency": ({"cash_currency": "eur"}, "cash_currency"),
    "currency-without-amount": ({"cash_amount": None}, "cash_amount"),
    "amount-without-currency": ({"cash_currency": ""}, "cash_currency"),
    "line-with-both": (
        {"lines": [{"profile": "MINI", "item_type": "mini_phone", "quantity": 1}]},
        "lines.0",
    ),
    "line-with-neither": ({"lines": [{"quantity": 1}]}, "lines.0"),
    "zero-quantity": ({"lines": [{"item_type": "phone", "quantity": 0}]}, "lines.0.quantity"),
    "huge-quantity": (
        {"lines": [{"item_type": "phone", "quantity": 2**40}]},
        "lines.0.quantity",
    ),
    "positive-without-lines": ({"lines": []}, "lines"),
    "negative-with-lines": ({"negative_result": True, "cash_amount": None}, "lines"),
    "negative-with-cash": ({"negative_result": True, "lines": []}, "cash_amount"),
    "bad-tac": ({"tacs_observed": ["0099990"]}, "tacs_observed"),
    "bad-country": ({"country": "XX"}, "country"),
    "bad-facility": ({"facility_type": "cell"}, "facility_type"),
    "zero-facilities": ({"facilities_searched": 0}, "facilities_searched"),
    "red-label": ({"tlp": "TLP:RED"}, "tlp"),
    "unknown-field": ({"inmate": "x"}, "inmate"),
    "unknown-recipient": ({"recipient_organisations": ["nowhere"]}, "recipient_organisations"),
    "zero-cash": ({"cash_amount": "0.00"}, "cash_amount"),
    "nan-cash": ({"cash_amount": "NaN"}, "cash_amount"),
    "notice-not-an-id": ({"notice": "DIX-2025-000001"}, "notice"),
    "lines-not-a-list": ({"lines": "88 phones"}, "lines"),
    "line-not-an-object": ({"lines": ["88 phones"]}, "lines.0"),
    "non-iso-date": ({"seized_on": "20/05/2025"}, "seized_on"),
}
PERSONAL_DATA = {
    "phone": "Courier reachable on +33 6 12 34 56 78",
    "national-phone": "called 0612345678 from the yard",
    "email": "orders went to jean.dupont@example.com",
    "imsi": "SIM 208011234567890 in the device",
}
FREE_TEXT = {
    "notes": lambda text: {"notes": text},
    "operation": lambda text: {"operation": text},
    "concealment_method": lambda text: {"concealment_method": text},
    "lines.1.item_type": lambda text: {
        "lines": [{"profile": "MINI", "quantity": 2}, {"item_type": text, "quantity": 1}]
    },
}
for _field, _make in FREE_TEXT.items():
    for _kind, _text in PERSONAL_DATA.items():
        REFUSALS[f"{_kind}-in-{_field}"] = (_make(_text), _field)


def _with_profile(body: Any, profile_id: int) -> Any:
    if isinstance(body, dict):
        return {k: _with_profile(v, profile_id) for k, v in body.items()}
    if isinstance(body, list):
        return [_with_profile(v, profile_id) for v in body]
    return profile_id if body == "MINI" else body


def assert_nothing_written() -> None:
    assert SeizureReport.objects.count() == 0
    assert SeizureLine.objects.count() == 0
    assert Delivery.objects.filter(event_type="seizure.reported").count() == 0
    assert reported_events() == 0


@pytest.mark.parametrize(("changes", "field"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_name_the_field_and_write_nothing(
    api: Api,
    network: Network,
    mini: DeviceProfile,
    alert: Notice,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = file(api, network.alice, positive(mini, alert, **_with_profile(changes, mini.pk)))

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert_nothing_written()


def test_personal_data_refusal_says_why_without_echoing_it(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    response = file(api, network.alice, positive(mini, alert, notes="Call +33 6 12 34 56 78"))

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "notes"
    assert "phone number" in error["detail"]
    assert "device data, not people" in error["detail"]
    assert "12 34 56" not in response.content.decode()


def test_label_above_clearance_is_refused(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    # olga (fr-desk) holds GREEN clearance.
    response = file(api, network.olga, positive(mini, alert, tlp="TLP:AMBER"))

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["tlp"]
    assert "above your clearance" in response.json()["detail"]
    assert_nothing_written()


def test_an_invisible_profile_is_answered_like_a_missing_one(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice, annex: DeviceProfile
) -> None:
    missing = annex.pk + 1000

    def refusal(profile_id: int) -> dict[str, Any]:
        body = positive(mini, alert, lines=[{"profile": profile_id, "quantity": 1}])
        response = file(api, network.charlie, body)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["field"] == "lines.0.profile"
        return {k: str(v).replace(str(profile_id), "ID") for k, v in response.json().items()}

    assert refusal(annex.pk) == refusal(missing)
    assert_nothing_written()
    # bob (be-desk, a recipient of the annex) may report it.
    body = positive(mini, alert, lines=[{"profile": annex.pk, "quantity": 1}], tlp="TLP:AMBER")
    assert file(api, network.bob, body).status_code == 201


def test_an_invisible_notice_is_answered_like_a_missing_one(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    only_belgium = published(
        network.cora,
        network.cora,
        audience_scope=AudienceScope.ORGANISATIONS,
        audience_organisations=[network.be_desk],
    )
    draft = notice_services.notice_create_draft(
        author=network.alice,
        data=notice_services.NoticeInput(fields={"notice_type": "alert", "title": "Draft"}),
    )
    missing = draft.pk + 1000

    def refusal(notice_id: int) -> dict[str, Any]:
        response = file(api, network.charlie, positive(mini, alert, notice=notice_id))
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["field"] == "notice"
        return {k: str(v).replace(str(notice_id), "ID") for k, v in response.json().items()}

    assert refusal(only_belgium.pk) == refusal(draft.pk) == refusal(missing)
    assert_nothing_written()
    # Its own organisation sees the draft, but a report answers published notices only.
    response = file(api, network.alice, positive(mini, alert, notice=draft.pk))
    assert response.status_code == 400
    assert "published" in response.json()["detail"]
    assert_nothing_written()


def test_todays_date_is_accepted(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    today = timezone.now().date().isoformat()

    assert file(api, network.alice, positive(mini, alert, seized_on=today)).status_code == 201


# --- Who reads what --------------------------------------------------------------------------


@pytest.fixture
def amber_report(api: Api, network: Network, mini: DeviceProfile, alert: Notice) -> int:
    """fr-desk's AMBER report, sent to be-desk (and eurojust, the notice's issuer)."""
    body = positive(mini, alert, tlp="TLP:AMBER", recipient_organisations=["be-desk"])
    response = file(api, network.alice, body)
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def test_the_outsider_cannot_read_a_foreign_amber_report(
    api: Api, network: Network, amber_report: int
) -> None:
    charlie = api(network.charlie)

    hidden = charlie.get(f"{SEIZURES}{amber_report}/")
    missing = charlie.get(f"{SEIZURES}{amber_report + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert charlie.get(SEIZURES).json()["results"] == []
    assert charlie.get(f"{SEIZURES}999999999999999999999999/").status_code == 404


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", True), ("bob", True), ("dave", True), ("erin", True), ("charlie", False)],
)
def test_amber_report_audience(
    api: Api, network: Network, amber_report: int, who: str, sees: bool
) -> None:
    client = api(getattr(network, who))

    assert (client.get(f"{SEIZURES}{amber_report}/").status_code == 200) is sees
    assert ([r["id"] for r in client.get(SEIZURES).json()["results"]] == [amber_report]) is sees


def test_reading_an_amber_report_is_audited(
    api: Api, network: Network, amber_report: int, mini: DeviceProfile, alert: Notice
) -> None:
    green = file(api, network.alice, positive(mini, alert, facility_type="border")).json()["id"]

    api(network.bob).get(f"{SEIZURES}{amber_report}/")
    api(network.bob).get(f"{SEIZURES}{green}/")

    reads = AuditEvent.objects.filter(action="seizure_report.read")
    assert [(e.actor_username, e.object_id) for e in reads] == [("bob", str(amber_report))]


def test_lines_of_profiles_the_reader_may_not_see_are_left_out(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice, annex: DeviceProfile
) -> None:
    lines = [{"profile": annex.pk, "quantity": 5}, {"profile": mini.pk, "quantity": 7}]
    report = file(api, network.alice, positive(mini, alert, lines=lines)).json()["id"]

    seen_by = {
        who: api(getattr(network, who)).get(f"{SEIZURES}{report}/").json()["lines"]
        for who in ("bob", "charlie")
    }
    assert [line["profile"] for line in seen_by["bob"]] == [annex.pk, mini.pk]
    assert [line["profile"] for line in seen_by["charlie"]] == [mini.pk]


def test_a_notice_the_reader_may_not_see_is_not_named(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    only_belgium = published(
        network.cora,
        network.cora,
        audience_scope=AudienceScope.ORGANISATIONS,
        audience_organisations=[network.be_desk],
    )
    report = file(api, network.bob, positive(mini, alert, notice=only_belgium.pk)).json()["id"]

    assert api(network.bob).get(f"{SEIZURES}{report}/").json()["notice"]["id"] == only_belgium.pk
    assert api(network.charlie).get(f"{SEIZURES}{report}/").json()["notice"] is None


def test_list_filters(api: Api, network: Network, mini: DeviceProfile, alert: Notice) -> None:
    file(api, network.alice, positive(mini, alert))
    file(api, network.alice, positive(mini, alert, seized_on="2025-07-01", facility_type="postal"))
    file(
        api,
        network.bob,
        {"seized_on": "2025-06-12", "facility_type": "prison", "negative_result": True},
    )
    client = api(network.charlie)

    def found(query: str) -> list[tuple[str, str]]:
        response = client.get(f"{SEIZURES}?{query}")
        assert response.status_code == 200, response.content
        return sorted((r["country"], r["seized_on"]) for r in response.json()["results"])

    assert found("country=be") == [("BE", "2025-06-12")]
    assert found("facility_type=postal") == [("FR", "2025-07-01")]
    assert found(f"notice={alert.pk}") == [("FR", "2025-05-20"), ("FR", "2025-07-01")]
    assert found(f"profile={mini.pk}") == [("FR", "2025-05-20"), ("FR", "2025-07-01")]
    assert found("seized_from=2025-06-01&seized_until=2025-06-30") == [("BE", "2025-06-12")]
    assert found("negative_result=true") == [("BE", "2025-06-12")]
    assert found("organisation=be-desk") == [("BE", "2025-06-12")]
    assert found("notice=9999999") == []  # well-formed, missing: matches nothing
    assert client.get(f"{SEIZURES}?notice=99999999999999999999999").status_code == 400
    assert client.get(f"{SEIZURES}?seized_from=yesterday").status_code == 400
    first = client.get(f"{SEIZURES}?page_size=2").json()
    assert len(first["results"]) == 2
    assert first["next"] is not None
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None


# --- A profile's seizure figures -------------------------------------------------------------


def test_stats_of_an_invisible_profile_are_not_found(
    api: Api, network: Network, annex: DeviceProfile
) -> None:
    charlie = api(network.charlie)

    hidden = charlie.get(stats_url(annex.pk))
    assert hidden.status_code == 404
    assert hidden.json() == charlie.get(stats_url(annex.pk + 1000)).json()
    assert charlie.get(stats_url("99999999999999999999999")).status_code == 404
    assert charlie.get(stats_url("abc")).status_code == 404
    assert api(network.bob).get(stats_url(annex.pk)).status_code == 200


def test_stats_count_only_the_reports_the_member_may_see(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    file(api, network.alice, positive(mini, alert, lines=[{"profile": mini.pk, "quantity": 10}]))
    file(
        api,
        network.alice,
        positive(
            mini,
            alert,
            facility_type="storage",
            seized_on="2025-06-03",
            lines=[{"profile": mini.pk, "quantity": 5}],
            tlp="TLP:AMBER",
            recipient_organisations=["be-desk"],
        ),
    )
    file(
        api,
        network.bob,
        {
            "seized_on": "2025-06-12",
            "facility_type": "prison",
            "notice": alert.pk,
            "negative_result": True,
        },
    )

    for_bob = api(network.bob).get(stats_url(mini.pk)).json()
    for_charlie = api(network.charlie).get(stats_url(mini.pk)).json()

    assert for_bob == {
        "profile": mini.pk,
        "totals": {"reports": 3, "negative_reports": 1, "quantity": 15},
        "by_country_month": [
            {
                "country": "FR",
                "month": "2025-05",
                "reports": 1,
                "negative_reports": 0,
                "quantity": 10,
            },
            {
                "country": "BE",
                "month": "2025-06",
                "reports": 1,
                "negative_reports": 1,
                "quantity": 0,
            },
            {
                "country": "FR",
                "month": "2025-06",
                "reports": 1,
                "negative_reports": 0,
                "quantity": 5,
            },
        ],
    }
    # The AMBER report (sent to be-desk) is not charlie's to see: it changes bob's figures only.
    assert for_charlie["totals"] == {"reports": 2, "negative_reports": 1, "quantity": 10}
    assert [row["month"] for row in for_charlie["by_country_month"]] == ["2025-05", "2025-06"]


# --- The outbox --------------------------------------------------------------------------------


def test_the_notice_issuers_subscription_gets_a_delivery(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    def subscribe(member: Member, events: list[str]) -> Any:
        return webhook_services.subscription_create(
            member=member, fields={"url": "https://hooks.example.org/dix", "event_types": events}
        ).subscription

    issuer = subscribe(network.cora, ["seizure.reported"])
    not_interested = subscribe(network.cora, ["notice.published"])
    outsider = subscribe(network.charlie, ["seizure.reported"])

    report_id = file(api, network.alice, positive(mini, alert)).json()["id"]

    deliveries = Delivery.objects.filter(event_type="seizure.reported")
    assert [(d.subscription_id, d.seizure_report_id) for d in deliveries] == [
        (issuer.pk, report_id)
    ]
    assert not Delivery.objects.filter(subscription__in=[not_interested, outsider]).exists()


# --- The demo ----------------------------------------------------------------------------------


def test_demo_figures_for_the_mini_phone(db: None) -> None:
    call_command("load_demo", "--quiet")
    call_command("load_demo", "--quiet")  # running it again adds nothing

    assert SeizureReport.objects.count() == 3
    mini = DeviceProfile.objects.get(
        name="Ultra-compact low-metal mini phone distributed by Oportik"
    )
    analyst = Member.objects.get(username="fr-analyst")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer dix_demo_fr_analyst_7c41e2b8aa")

    stats = client.get(stats_url(mini.pk)).json()

    france = [row for row in stats["by_country_month"] if row["country"] == "FR"]
    assert france == [
        {"country": "FR", "month": "2025-05", "reports": 2, "negative_reports": 0, "quantity": 588}
    ]
    belgium = [row for row in stats["by_country_month"] if row["country"] == "BE"]
    assert belgium[0]["negative_reports"] == 1
    reports = client.get(SEIZURES).json()["results"]
    # The founding case's figures, each where the reporting put it: 88 mini phones and 76
    # other phones in the prisons; 500 phones and EUR 70,000 in the storage building.
    prisons = [r for r in reports if r["facility_type"] == "prison" and not r["negative_result"]]
    assert [(r["country"], r["seized_on"], r["lines"]) for r in prisons] == [
        (
            "FR",
            "2025-05-20",
            [
                {"profile": mini.pk, "item_type": "", "quantity": 88},
                {"profile": None, "item_type": "other_mobile_phone", "quantity": 76},
            ],
        )
    ]
    assert prisons[0]["cash_amount"] is None
    storage = next(r for r in reports if r["facility_type"] == "storage")
    assert storage["lines"] == [{"profile": mini.pk, "item_type": "", "quantity": 500}]
    assert (storage["cash_amount"], storage["cash_currency"]) == ("70000.00", "EUR")
    assert {r["reported_by"] for r in reports} == {analyst.username, "be-officer"}


# --- The personal-data detector ------------------------------------------------------------------

PERSONAL = [
    "+33 6 12 34 56 78",
    "call +33612345678 now",
    "0612345678",
    "06 12 34 56 78",
    "06.12.34.56.78",
    "06-12-34-56-78",
    "0033 6 12 34 56 78",
    "+44 20 7946 0958",
    "+1 (202) 555-0143",
    "+33 (0)6 12 34 56 78",
    "020 7946 0958",
    "(020) 7946 0958",
    "0170/1234567",
    "07700 900123",
    "tel:0470 12 34 56",
    "x@y.fr",
    "contact jean.dupont@example.com please",
    "208011234567890",
    "IMSI 310150123456789",
    "IMEI 490154203237518",
]
NOT_PERSONAL = [
    "2025-05-20",
    "20/05/2025",
    "20.05.2025",
    "01 05 2025 88",
    "01/05/2025 500 phones",
    "searched 66 prisons on 20.05.2025, 500 cells",
    "88 mini phones and 76 other phones",
    "EUR 70,000.00",
    "70 000 EUR",
    "TAC 00999900",
    "TACs 35123456, 35123457",
    "00999900 00999901",
    "00999900-00999999",
    "01326300 12 units",
    "00999900 123 units",
    "between 12:00 and 14:30",
    "version 0.9.1",
    "other_mobile_phone",
    "hidden in shoes @ the gate",
    "",
]


@pytest.mark.parametrize("text", PERSONAL)
def test_detector_finds_personal_data(text: str) -> None:
    assert find_personal_data(text) is not None


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_detector_lets_device_data_pass(text: str) -> None:
    assert find_personal_data(text) is None


def test_detector_says_what_and_where() -> None:
    finding = find_personal_data("Seen at 06 12 34 56 78")
    assert finding is not None
    assert (finding.kind, finding.offset, finding.reason) == ("phone", 8, "a phone number")
    imsi = find_personal_data("SIM: 208011234567890")
    assert imsi is not None
    assert imsi.kind == "imsi"
    assert find_personal_data("a@b.org and +33612345678") == find_personal_data("a@b.org")
