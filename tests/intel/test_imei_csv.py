"""The IMEI check's answer as CSV (`Accept: text/csv`): streamed, a header and one row per
item in input order, profiles named only when the member may see them, formulas defused."""

import csv
import io
from collections.abc import Callable

from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile, Member
from tests.conftest import Network

URL = "/api/v1/imei-checks/"
IMEIS = ["00-999900-000005-3", "009999000000013", "350000000000006", "=HYPERLINK(1)"]


def csv_check(client: APIClient, imeis: list[str]) -> tuple[int, str, list[list[str]]]:
    response = client.post(URL, {"imeis": imeis}, format="json", HTTP_ACCEPT="text/csv")
    assert response.streaming, "the CSV answer is streamed"
    text = b"".join(response.streaming_content).decode()
    return response.status_code, response["Content-Type"], list(csv.reader(io.StringIO(text)))


def test_the_answer_as_csv_lists_every_item_and_names_only_visible_profiles(
    network: Network,
    api: Callable[[Member], APIClient],
    make_profile: Callable[..., DeviceProfile],
) -> None:
    green = make_profile(
        tlp=TLP.GREEN,
        name="=cmd|' /C calc'!A0",
        identifiers=[{"kind": "tac", "value": "00999900"}],
    )
    annex = make_profile(
        tlp=TLP.AMBER,
        name="Restricted annex",
        recipients=[network.be_desk],
        identifiers=[{"kind": "tac_range", "range_start": "00999900", "range_end": "00999909"}],
    )

    status, content_type, rows = csv_check(api(network.bob), IMEIS)

    assert status == 200
    assert content_type.startswith("text/csv")
    assert rows[0] == [
        "input",
        "normalised",
        "kind",
        "valid",
        "reason",
        "tac",
        "matched",
        "profile_ids",
        "profile_names",
    ]
    assert rows[1] == [
        "00-999900-000005-3",
        "009999000000053",
        "imei",
        "true",
        "",
        "00999900",
        "true",
        f"{green.pk} {annex.pk}",
        "'=cmd|' /C calc'!A0 | Restricted annex",
    ]
    assert rows[2] == ["009999000000013", "", "", "false", "bad_check_digit", "", "false", "", ""]
    assert rows[3][:7] == [
        "350000000000006",
        "350000000000006",
        "imei",
        "true",
        "",
        "35000000",
        "false",
    ]
    assert rows[4][0] == "'=HYPERLINK(1)"
    assert len(rows) == 1 + len(IMEIS)

    # The German desk may not see the annex: neither its id nor its name.
    _, _, outsider = csv_check(api(network.charlie), IMEIS[:1])
    assert outsider[1][7:] == [str(green.pk), "'=cmd|' /C calc'!A0"]


def test_json_stays_the_default_and_errors_stay_problems(
    network: Network, api: Callable[[Member], APIClient]
) -> None:
    client = api(network.bob)
    assert client.post(URL, {"imeis": IMEIS}, format="json").json()["summary"]["items"] == 4

    refused = client.post(URL, {"imeis": []}, format="json", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "imeis"
