"""An invalid choice names the allowed values, and the value meant when it is a near miss,
in bodies and in filters alike."""

from tests.helpers.profiles import PROFILES, assert_problem, valid_profile


def error_for(response, field):
    body = assert_problem(response, 400, field)
    return next(error for error in body["errors"] if error["field"] == field)


def test_a_body_choice_lists_the_allowed_values(network, api):
    response = api(network.alice).post(
        PROFILES, valid_profile(metal_content="very low"), format="json"
    )

    error = error_for(response, "metal_content")
    assert error["code"] == "invalid_choice"
    assert error["detail"] == (
        '"very low" is not a valid choice; allowed: "none", "minimal", "low", "normal".'
    )


def test_a_label_without_its_prefix_suggests_the_value(network, api):
    response = api(network.alice).post(PROFILES, valid_profile(tlp="AMBER"), format="json")

    detail = error_for(response, "tlp")["detail"]
    assert '"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"' in detail
    assert detail.endswith('Did you mean "TLP:AMBER"?')


def test_another_case_or_spacing_suggests_the_value(network, api):
    response = api(network.alice).post(
        PROFILES,
        valid_profile(
            detection_signatures=[{"method": "X-Ray", "expected_outcome": "Not detected"}]
        ),
        format="json",
    )

    body = assert_problem(response, 400)
    details = {error["field"]: error["detail"] for error in body["errors"]}
    assert details["detection_signatures.0.method"].endswith('Did you mean "xray"?')
    assert details["detection_signatures.0.expected_outcome"].endswith(
        'Did you mean "not_detected"?'
    )


def test_each_item_of_a_list_of_choices_is_told(network, api):
    response = api(network.alice).post(
        PROFILES, valid_profile(network_technologies=["LTE", "6G"]), format="json"
    )

    body = assert_problem(response, 400)
    (error,) = body["errors"]
    assert error["field"].startswith("network_technologies")
    assert '"6G" is not a valid choice; allowed: "GSM", "UMTS", "LTE", "NR".' in error["detail"]


def test_a_choice_filter_lists_the_allowed_values(network, api):
    response = api(network.alice).get(PROFILES, {"tlp": "AMBER"})

    error = error_for(response, "tlp")
    assert error["code"] == "invalid_choice"
    assert "allowed:" in error["detail"]
    assert error["detail"].endswith('Did you mean "TLP:AMBER"?')


def test_no_suggestion_for_a_value_unlike_any(network, api):
    response = api(network.alice).post(
        PROFILES, valid_profile(housing_material="cardboard"), format="json"
    )

    assert "Did you mean" not in error_for(response, "housing_material")["detail"]
