"""Every resource's real body, fetched through the API as a persona, validates against the
schema the OpenAPI document gives its operation, with undeclared fields refused.

The document is generated as `manage.py spectacular` generates it. Each object schema gets
`additionalProperties: false` unless it says otherwise, so a field added to a body but not to
its schema fails here; the schema's `required` lists make a field declared but not sent fail.
"""

import copy
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from PIL import Image
from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile, Member
from tests.conftest import Network
from tests.helpers.access import ask, publish

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
API = "/api/v1"

Api = Callable[[Member | None], APIClient]
# (method, path template as in the document, the response)
Fetched = list[tuple[str, str, Any]]


def strict(schema: Any) -> Any:
    """The OpenAPI 3.0 schema as JSON Schema 2020-12: `nullable` becomes a null alternative
    and every object without `additionalProperties` refuses undeclared properties."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


COMPONENTS = strict(copy.deepcopy(SCHEMA["components"]))


def response_schema(method: str, template: str, status: int) -> dict[str, Any]:
    operation = SCHEMA["paths"][template][method]
    content = operation["responses"][str(status)]["content"]
    schema: dict[str, Any] = strict(content["application/json"]["schema"])
    return schema | {"components": COMPONENTS}


def assert_valid(fetched: Fetched) -> None:
    assert fetched
    for method, template, response in fetched:
        assert response.status_code in (200, 201), (method, template, response.content)
        schema = response_schema(method, template, response.status_code)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(response.json())
        ]
        assert not errors, f"{method.upper()} {template}: {errors}"


def png(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 30, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class Scenario:
    """Bodies of each resource, fetched as the personas who may see them."""

    def __init__(self, network: Network, api: Api, make_profile: Callable[..., Any]) -> None:
        self.network, self.api, self.make_profile = network, api, make_profile

    def organisation(self) -> Fetched:
        alice = self.api(self.network.alice)
        one = f"{API}/organisations/{{id}}/"
        return [
            ("get", f"{API}/organisations/", alice.get(f"{API}/organisations/")),
            ("get", one, alice.get(f"{API}/organisations/{self.network.fr_prison.pk}/")),
        ]

    def me(self) -> Fetched:
        return [("get", f"{API}/me/", self.api(self.network.alice).get(f"{API}/me/"))]

    def email_preferences(self) -> Fetched:
        alice = self.api(self.network.alice)
        path = f"{API}/me/email-preferences/"
        chosen = {"preferences": [{"event_type": "notice.updated", "delivery": "digest"}]}
        return [
            ("get", path, alice.get(path)),
            ("put", path, alice.put(path, chosen, format="json")),
        ]

    def token(self) -> Fetched:
        alice = self.api(self.network.alice)
        issued = alice.post(f"{API}/tokens/", {"name": "sync", "expires_at": None}, format="json")
        return [
            ("post", f"{API}/tokens/", issued),
            ("get", f"{API}/tokens/", alice.get(f"{API}/tokens/")),
        ]

    def _profile(self) -> DeviceProfile:
        profile: DeviceProfile = self.make_profile(
            tlp=TLP.AMBER,
            recipients=[self.network.be_desk],
            identifiers=[{"kind": "tac", "value": "00999900"}],
            aliases=["thumb phone"],
            legal_status={"FR": "Banned in prisons."},
        )
        return profile

    def profile(self) -> Fetched:
        alice = self.api(self.network.alice)
        body = {
            "name": "Pen phone",
            "device_class": "mini_phone",
            "tlp": TLP.GREEN,
            "weight_g": "18.5",
            "identifiers": [
                {"kind": "tac_range", "range_start": "00999900", "range_end": "00999999"}
            ],
            "detection_signatures": [
                {
                    "method": "walk_through_metal_detector",
                    "expected_outcome": "usually_not_detected",
                }
            ],
            "suppliers": [
                {"name": "A shop", "role": "retailer", "sales_channels": [{"kind": "webshop"}]}
            ],
        }
        created = alice.post(f"{API}/profiles/", body, format="json")
        assert created.status_code == 201, created.content
        one = f"{API}/profiles/{created.json()['id']}/"
        etag = created["ETag"]
        changed = alice.patch(one, {"notes": "Seen twice."}, format="json", HTTP_IF_MATCH=etag)
        retired = alice.post(f"{one}retire/", {"reason": "Merged."}, format="json")
        template = f"{API}/profiles/{{id}}/"
        return [
            ("post", f"{API}/profiles/", created),
            ("patch", template, changed),
            ("post", f"{template}retire/", retired),
            ("get", template, self.api(self.network.bob).get(one)),
            ("get", f"{API}/profiles/", alice.get(f"{API}/profiles/?retired=true")),
            (
                "get",
                f"{API}/profiles/{{id}}/seizure-stats/",
                alice.get(f"{one}seizure-stats/"),
            ),
        ]

    def revision(self) -> Fetched:
        one = f"{API}/profiles/{self._profile().pk}/"
        bob = self.api(self.network.bob)
        return [
            ("get", f"{API}/profiles/{{id}}/revisions/", bob.get(f"{one}revisions/")),
            ("get", f"{API}/profiles/{{id}}/revisions/{{number}}/", bob.get(f"{one}revisions/1/")),
        ]

    def identifier(self) -> Fetched:
        one = f"{API}/profiles/{self._profile().pk}/"
        bob = self.api(self.network.bob)
        return [("get", f"{API}/profiles/{{id}}/identifiers/", bob.get(f"{one}identifiers/"))]

    def attachment(self) -> Fetched:
        one = f"{API}/profiles/{self._profile().pk}/attachments/"
        alice = self.api(self.network.alice)
        upload = {"file": png("device.png"), "kind": "photo", "title": "Front"}
        created = alice.post(one, upload, format="multipart")
        template = f"{API}/profiles/{{id}}/attachments/"
        return [
            ("post", template, created),
            ("get", template, alice.get(one)),
            ("get", f"{template}{{attachment_id}}/", alice.get(f"{one}{created.json()['id']}/")),
        ]

    def notice(self) -> Fetched:
        network, alice = self.network, self.api(self.network.alice)
        profile = self._profile()
        draft = alice.post(
            f"{API}/notices/",
            {
                "type": "alert",
                "title": "Mini phones",
                "tlp": TLP.GREEN,
                "profile_ids": [profile.pk],
            },
            format="json",
        )
        one = f"{API}/notices/{draft.json()['id']}/"
        template = f"{API}/notices/{{id}}/"
        cora = self.api(network.cora)
        return [
            ("post", f"{API}/notices/", draft),
            ("patch", template, alice.patch(one, {"summary": "Check."}, format="json")),
            ("post", f"{template}publish/", cora.post(f"{one}publish/")),
            (
                "post",
                f"{template}update/",
                cora.post(f"{one}update/", {"change_note": "More.", "body": "…"}, format="json"),
            ),
            ("get", template, self.api(network.bob).get(one)),
            ("get", template, self.api(network.charlie).get(one)),  # the profile left out
            ("get", f"{API}/notices/", self.api(network.bob).get(f"{API}/notices/")),
            ("post", f"{template}withdraw/", cora.post(f"{one}withdraw/", {"reason": "Error."})),
        ]

    def superseded_notice(self) -> Fetched:
        old, new = publish(self.network, self.api), publish(self.network, self.api)
        superseded = self.api(self.network.cora).post(
            f"{API}/notices/{old['id']}/supersede/", {"superseded_by": new["id"]}, format="json"
        )
        return [("post", f"{API}/notices/{{id}}/supersede/", superseded)]

    def notice_version(self) -> Fetched:
        notice = publish(self.network, self.api, profile_ids=[self._profile().pk])
        one = f"{API}/notices/{notice['id']}/"
        bob = self.api(self.network.bob)
        return [
            ("get", f"{API}/notices/{{id}}/versions/", bob.get(f"{one}versions/")),
            ("get", f"{API}/notices/{{id}}/versions/{{number}}/", bob.get(f"{one}versions/1/")),
        ]

    def receipt(self) -> Fetched:
        notice = publish(self.network, self.api)
        one = f"{API}/notices/{notice['id']}/"
        acknowledged = self.api(self.network.bob).post(f"{one}acknowledge/")
        receipts = self.api(self.network.alice).get(f"{one}receipts/")
        return [
            ("post", f"{API}/notices/{{id}}/acknowledge/", acknowledged),
            ("get", f"{API}/notices/{{id}}/receipts/", receipts),
        ]

    def subscription(self) -> Fetched:
        bob = self.api(self.network.bob)
        body = {"url": "http://127.0.0.1:9/hook", "event_types": ["notice.published"]}
        with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
            created = bob.post(f"{API}/subscriptions/", body, format="json")
        one = f"{API}/subscriptions/{created.json()['id']}/"
        template = f"{API}/subscriptions/{{id}}/"
        return [
            ("post", f"{API}/subscriptions/", created),
            ("get", f"{API}/subscriptions/", bob.get(f"{API}/subscriptions/")),
            ("get", template, bob.get(one)),
            ("post", f"{template}rotate-secret/", bob.post(f"{one}rotate-secret/")),
            ("patch", template, bob.patch(one, {"description": "Inbox sync"}, format="json")),
            (
                "post",
                f"{template}recover/",
                bob.post(f"{one}recover/", {"since": "2099-01-01T00:00:00Z"}, format="json"),
            ),
        ]

    def delivery(self) -> Fetched:
        bob = self.api(self.network.bob)
        body = {"url": "http://127.0.0.1:9/hook", "event_types": ["notice.published"]}
        with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
            created = bob.post(f"{API}/subscriptions/", body, format="json")
        publish(self.network, self.api)
        one = f"{API}/subscriptions/{created.json()['id']}/"
        deliveries = bob.get(f"{one}deliveries/")
        assert deliveries.json()["results"], deliveries.content
        return [("get", f"{API}/subscriptions/{{id}}/deliveries/", deliveries)]

    def access_request(self) -> Fetched:
        annex = self._profile()
        notice = publish(
            self.network, self.api, profile_ids=[annex.pk], restricted_data_available=True
        )
        charlie, alice = self.api(self.network.charlie), self.api(self.network.alice)
        fr_desk = self.network.fr_desk
        type(fr_desk).objects.filter(pk=fr_desk.pk).update(analysts_decide_access=True)
        asked = ask(charlie, "profile", annex.pk, via_notice=notice["id"])
        assert asked.status_code == 201, asked.content
        one = f"{API}/access-requests/{asked.json()['id']}/"
        template = f"{API}/access-requests/{{id}}/"
        commented = charlie.post(f"{one}comment/", {"message": "Urgent."}, format="json")
        approved = alice.post(f"{one}approve/", {"days": 10}, format="json")
        return [
            ("post", f"{API}/access-requests/", asked),
            ("post", f"{template}comment/", commented),
            ("post", f"{template}approve/", approved),
            ("get", template, charlie.get(one)),
            ("get", f"{API}/access-requests/", alice.get(f"{API}/access-requests/")),
            (
                "get",
                f"{API}/access-requests/requestable/",
                charlie.get(f"{API}/access-requests/requestable/?via_notice={notice['id']}"),
            ),
        ]

    def seizure_report(self) -> Fetched:
        profile = self.make_profile(tlp=TLP.GREEN, name="Oportik mini phone")
        notice = publish(self.network, self.api, profile_ids=[profile.pk])
        body = {
            "country": "FR",
            "seized_on": "2025-05-20",
            "facility_type": "prison",
            "facilities_searched": 66,
            "notice": notice["id"],
            "detection_method": "targeted_cell_search",
            "tacs_observed": ["00999900"],
            "lines": [{"profile": profile.pk, "quantity": 88}],
            "tlp": "TLP:GREEN",
        }
        alice = self.api(self.network.alice)
        created = alice.post(f"{API}/seizures/", body, format="json")
        return [
            ("post", f"{API}/seizures/", created),
            ("get", f"{API}/seizures/", alice.get(f"{API}/seizures/")),
            (
                "get",
                f"{API}/seizures/{{id}}/",
                alice.get(f"{API}/seizures/{created.json()['id']}/"),
            ),
        ]

    def imei_check(self) -> Fetched:
        self._profile()
        imeis = ["00-999900-000005-3", "00999900000004", "009999000000013", "0099990000000531"]
        checked = self.api(self.network.bob).post(f"{API}/imei-checks/", imeis, format="json")
        return [("post", f"{API}/imei-checks/", checked)]

    def audit_event(self) -> Fetched:
        self.api(self.network.bob).get(f"{API}/profiles/{self._profile().pk}/")
        audrey = self.api(self.network.audrey)
        events = audrey.get(f"{API}/audit/")
        first = events.json()["results"][0]["id"]
        return [
            ("get", f"{API}/audit/", events),
            ("get", f"{API}/audit/{{id}}/", audrey.get(f"{API}/audit/{first}/")),
        ]


# Schema gaps in other packages' serializers, named so that the rest of their body is checked
# once they are declared.
RESOURCES = [name for name in vars(Scenario) if not name.startswith("_")]


@pytest.mark.parametrize("resource", RESOURCES)
def test_body_validates_against_its_schema(
    resource: str, network: Network, api: Api, make_profile: Callable[..., Any]
) -> None:
    assert_valid(getattr(Scenario(network, api, make_profile), resource)())


def test_an_undeclared_field_fails() -> None:
    """The check itself: a body with one field more than its schema does not validate."""
    schema = response_schema("get", f"{API}/me/", 200)
    validator = Draft202012Validator(schema)
    errors = [e.message for e in validator.iter_errors({"unexpected": True})]
    assert any("unexpected" in message for message in errors), errors
