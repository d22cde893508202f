"""The IMEI check's answer written as text (`render`) parses to its dict form (`as_data`),
the form the schema's serializers describe."""

import json

from intel.api.imei_result import as_data, render
from intel.imei import imei_check_perform
from intel.models import TLP


def test_the_text_answer_parses_to_the_dict_form(network, make_profile):
    make_profile(tlp=TLP.GREEN, name="L8star", identifiers=[{"kind": "tac", "value": "00999900"}])
    imeis = [
        "00-999900-000005-3",  # valid, matched, with separators
        "00999900000004",  # 14 digits: the check digit is computed
        "0099990000000501",  # IMEISV
        "009999000000013",  # bad check digit
        "12345",  # wrong length
        "٠٠٩٩٩٩٠٠٠٠٠٠٠١٢",  # other digits
        'quote " and \\ backslash',  # escaped in the text form
        "350000000000006",  # valid, nobody's TAC
    ]

    result = imei_check_perform(member=network.bob, imeis=imeis, source="json")

    data = as_data(result)
    assert json.loads(render(result)) == data
    assert [item["input"] for item in data["items"]] == imeis
    assert data["summary"]["matched"] == 3
