"""`GET /api/v1/vocabularies/`: every controlled list a member may send, with its values'
labels and descriptions, from the same definitions as the fields that take them."""

from drf_spectacular.generators import SchemaGenerator

from core.vocabularies import gaps
from intel.models import TLP, DetectionMethod
from intel.models.children import ConcealmentVector
from seizures.models import FacilityType

VOCABULARIES = "/api/v1/vocabularies/"

# Answer codes DIX writes and no client sends (the IMEI check's `kind` and `reason`, an
# access request message's `kind`): the schema lists them with the field that carries them.
# Lists only answers carry (nothing a client writes takes them).
ANSWER_ONLY = {
    "ImeiCheckItemKindEnum",
    "ReasonEnum",
    "AccessRequestMessageKindEnum",
    "NoticeReviewStatusEnum",
    "ReasonsEnum",
    "SeizureReportStatusEnum",
    "NetworkStatsScopeEnum",
    "GroupByEnum",
}


def by_name(response):
    assert response.status_code == 200, response.content
    return {item["name"]: item for item in response.json()}


def test_every_member_reads_every_list_with_labels_and_descriptions(network, api):
    for member in (network.charlie, network.audrey, network.alice):
        lists = by_name(api(member).get(VOCABULARIES))

        for name in (
            "tlp",
            "housing_material",
            "metal_content",
            "detection_method",
            "expected_outcome",
            "concealment_stage",
            "concealment_vector",
            "supplier_role",
            "sales_channel_kind",
            "notice_type",
            "audience_scope",
            "organisation_kind",
            "role",
            "facility_type",
        ):
            assert lists[name]["values"], name
            assert all(value["description"] for value in lists[name]["values"]), name
    assert [value["value"] for value in lists["tlp"]["values"]] == TLP.values
    vectors = {value["value"]: value["label"] for value in lists["concealment_vector"]["values"]}
    assert vectors == dict(ConcealmentVector.choices)
    assert [v["value"] for v in lists["facility_type"]["values"]] == FacilityType.values


def test_one_detection_method_list_for_profiles_and_seizure_reports(network, api):
    detection = by_name(api(network.alice).get(VOCABULARIES))["detection_method"]

    assert [value["value"] for value in detection["values"]] == DetectionMethod.values
    assert "profiles: detection_signatures[].method" in detection["used_by"]
    assert "seizures: detection_method" in detection["used_by"]


def test_an_unchanged_list_answers_304_and_strangers_401(network, api):
    client = api(network.charlie)
    first = client.get(VOCABULARIES)

    again = client.get(VOCABULARIES, headers={"If-None-Match": first["ETag"]})
    anonymous = api(None).get(VOCABULARIES)

    assert again.status_code == 304
    assert anonymous.status_code == 401


def test_every_value_of_every_list_is_described():
    assert gaps() == {}


def test_every_choice_the_schema_offers_is_a_list(network, api):
    """A choice field added without registering its list (core.vocabularies) fails here;
    a field may take part of a list (`max_tlp`: every label but RED)."""
    lists = by_name(api(network.alice).get(VOCABULARIES))
    known = {frozenset(v["value"] for v in item["values"]) for item in lists.values()}
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    missing = {
        name: schema["enum"]
        for name, schema in schemas.items()
        if "enum" in schema
        and name not in ANSWER_ONLY
        and all(isinstance(value, str) for value in schema["enum"])
        and not any(set(schema["enum"]) - {""} <= values for values in known)
    }
    assert missing == {}
