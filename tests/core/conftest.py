"""A world in which every path id of the OpenAPI document names something the caller sees, for the
strict-input tests.

Every endpoint is found in the OpenAPI schema, so a new one is covered without editing these
tests: its query parameters, its request body and examples, its read-only response fields.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings

from intel import accounts
from intel.models import TLP, AuditEvent, DeviceProfile
from tests.conftest import Network
from tests.helpers.strict_input import Api
from webhooks.models import Delivery

# --- A world in which every path id names something the caller sees -------------------------


@pytest.fixture
def world(network: Network, api: Api, make_profile: Callable[..., DeviceProfile]) -> Any:
    alice, cora, charlie = api(network.alice), api(network.cora), api(network.charlie)
    green = make_profile(tlp=TLP.GREEN, name="Green phone")
    annex = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Annex")
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        sub = alice.post(
            "/api/v1/subscriptions/",
            {"url": "http://127.0.0.1:9/hook", "event_types": ["notice.published"]},
            format="json",
        ).json()
    body = {
        "type": "alert",
        "title": "Mini phones",
        "tlp": TLP.GREEN,
        "profile_ids": [annex.pk],
        "restricted_data_available": True,
    }
    notice = alice.post("/api/v1/notices/", body, format="json").json()
    assert cora.post(f"/api/v1/notices/{notice['id']}/publish/").status_code == 200
    draft = alice.post("/api/v1/notices/", body, format="json").json()
    request = charlie.post(
        "/api/v1/access-requests/",
        {
            "target_type": "profile",
            "target_id": annex.pk,
            "via_notice": notice["id"],
            "purpose": "Check our prisons.",
            "legal_basis": "Art. 21",
            "days": 30,
        },
        format="json",
    ).json()
    report = alice.post(
        "/api/v1/seizures/",
        {
            "seized_on": "2025-05-20",
            "facility_type": "prison",
            "lines": [{"profile": green.pk, "quantity": 3}],
        },
        format="json",
    ).json()
    delivery = Delivery.objects.filter(subscription_id=sub["id"]).first()

    token = accounts.token_issue(member=network.alice, name="spare").token
    return {
        "profiles": green.pk,
        "notices": notice["id"],
        "drafts": draft["id"],
        "subscriptions": sub["id"],
        "access-requests": request["id"],
        "seizures": report["id"],
        "tokens": token.pk,
        "audit": AuditEvent.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "organisations": network.fr_desk.pk,
        "delivery": delivery.pk if delivery else 1,
    }
