"""Filing seizure and hit reports through the HTTP API: positive and negative reports, who
receives them, every refusal (a 400 naming the field, and nothing written), and the
`seizure.reported` outbox row."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from intel.models import DeviceProfile, Member
from intel.models.audit import AuditEvent
from notices import services as notice_services
from notices.models import AudienceScope, Notice
from seizures.models import SeizureLine, SeizureReport
from tests.conftest import Network
from tests.helpers.seizures import (
    PROBLEM,
    SEIZURES,
    Api,
    file,
    positive,
    published,
    reported_events,
)
from webhooks import services as webhook_services
from webhooks.models import Delivery

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


def test_reports_are_not_deleted_nor_amended_without_a_reason(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    report_id = file(api, network.alice, positive(mini, alert)).json()["id"]
    client = api(network.alice)

    patched = client.patch(f"{SEIZURES}{report_id}/", {"notes": "x"}, format="json")
    assert patched.status_code == 400
    assert patched.json()["errors"][0]["field"] == "reason"
    deleted = client.delete(f"{SEIZURES}{report_id}/")
    assert deleted.status_code == 405
    assert "withdraw" in deleted.json()["detail"]
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
