"""Filing a device profile through the HTTP API: refused input answers a problem naming the field
and leaves nothing behind; a valid one answers 201 with its ETag and revision 1."""

import pytest

from intel.models import TLP, DeviceProfile, Identifier, ProfileRevision
from tests.helpers.profiles import PROFILES, assert_problem, valid_profile

# --- Refused input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (valid_profile(manufacturer_country="XX"), "manufacturer_country"),
        (valid_profile(identifiers=[{"kind": "tac", "value": "0099990"}]), "identifiers.0.value"),
        (
            valid_profile(
                identifiers=[
                    {"kind": "tac", "value": "35999900"},
                    {"kind": "tac_range", "range_start": "00999909", "range_end": "00999900"},
                ]
            ),
            "identifiers.1.range_end",
        ),
        (valid_profile(weight_g="-3.5"), "weight_g"),
        (valid_profile(device_class="walkie_talkie"), "device_class"),
        (valid_profile(colour="black"), "colour"),
        (valid_profile(tlp="TLP:PURPLE"), "tlp"),
        (valid_profile(recipient_organisations=["no-such-desk"]), "recipient_organisations"),
    ],
    ids=[
        "unknown-country",
        "seven-digit-tac",
        "range-end-below-start",
        "negative-weight",
        "unknown-device-class",
        "unknown-field",
        "unknown-tlp",
        "unknown-recipient",
    ],
)
def test_refused_profile_input_names_the_field_and_writes_nothing(
    network, api, make_profile, payload, field
):
    make_profile(tlp=TLP.GREEN)  # the database is not empty: "unchanged" means something
    before = (DeviceProfile.objects.count(), ProfileRevision.objects.count())
    identifiers_before = Identifier.objects.count()

    response = api(network.alice).post(PROFILES, payload, format="json")

    body = assert_problem(response, 400, field)
    assert body["type"] == "urn:dix:problem:validation-error"
    error = next(e for e in body["errors"] if e["field"] == field)
    assert error["pointer"] == "#/" + field.replace(".", "/")
    assert error["detail"]
    assert (DeviceProfile.objects.count(), ProfileRevision.objects.count()) == before
    assert Identifier.objects.count() == identifiers_before


def test_malformed_json_is_a_problem_naming_the_body(network, api):
    response = api(network.alice).post(
        PROFILES, data='{"name": "L8star", "device_class": ', content_type="application/json"
    )

    body = assert_problem(response, 400, "body")
    assert body["type"] == "urn:dix:problem:malformed-request"
    assert DeviceProfile.objects.count() == 0
    assert ProfileRevision.objects.count() == 0


def test_valid_create_answers_201_with_etag_and_revision_1(network, api):
    response = api(network.alice).post(
        PROFILES,
        valid_profile(
            manufacturer_country="CN",
            weight_g="12",
            aliases=["thumb phone"],
            identifiers=[{"kind": "tac_range", "range_start": "00999900", "range_end": "00999909"}],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"]["slug"] == "fr-desk"
    assert body["weight_g"] == "12.00"
    assert body["version"] == 1
    assert body["identifiers"][0]["value"] == "00999900-00999909"
    assert body["identifiers"][0]["is_test_value"] is True
    assert response["ETag"].startswith(f'"{body["id"]}.1.')
    revision = ProfileRevision.objects.get(profile_id=body["id"])
    assert (revision.number, revision.action, revision.author) == (1, "created", network.alice)
