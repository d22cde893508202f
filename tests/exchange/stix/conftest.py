"""A demo-like network for the STIX tests: one profile of each label (all owned by fr-desk,
filed by alice, be-desk their recipient organisation, audrey named on the RED one), a
TLP:GREEN notice to the whole network naming the GREEN and AMBER profiles, a seizure report
and suppliers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from intel import services
from intel.models import TLP, DeviceProfile
from notices import services as notice_services
from notices.models import AudienceScope, Notice
from seizures import services as seizures
from seizures.models import SeizureReport
from tests.conftest import Network

OPORTIK = {
    "name": "Oportik",
    "role": "online_reseller",
    "country": "FR",
    "locality": "Drancy",
    "status": "website seized",
    "notes": "About 5,000 units sold from EUR 20.",
    "sales_channels": [
        {"kind": "webshop", "platform": "", "address": "oportik.example", "status": "", "notes": ""}
    ],
}


@dataclass
class Feed:
    profiles: dict[str, DeviceProfile]  # by TLP label
    notice: Notice
    seizure: SeizureReport


def detailed(label: str) -> dict[str, object]:
    return {
        "name": f"L8star BM10 ({label})",
        "aliases": ["thumb phone"],
        "device_class": "mini_phone",
        "manufacturer_country": "CN",
        "length_mm": "68.00",
        "width_mm": "21.00",
        "depth_mm": "12.50",
        "weight_g": "15",
        "housing_material": "mostly_plastic",
        "metal_content": "low",
        "network_technologies": ["GSM"],
        "gsm_bands": [900, 1800],
        "bluetooth": True,
        "sim_slots": 1,
        "price_amount": "20.00",
        "price_currency": "EUR",
        "legal_status": {"FR": "Banned in prisons"},
        "notes": "Passes walk-through metal detectors.",
    }


@pytest.fixture
def feed(network: Network, make_profile: Callable[..., DeviceProfile]) -> Feed:
    profiles = {}
    for label in TLP.values:
        profile = make_profile(
            tlp=label,
            recipients=[network.be_desk],
            members=[network.audrey] if label == TLP.RED else [],
            identifiers=[
                {"kind": "tac", "value": "00123456"},
                {"kind": "tac_range", "range_start": "00200000", "range_end": "00200099"},
            ],
            **detailed(label),
        )
        services.profile_update(
            profile_id=profile.pk,
            author=network.alice,
            expected_version=None,
            data=services.ProfileInput(
                fields={},
                detection_signatures=[
                    {
                        "method": "walk_through_metal_detector",
                        "expected_outcome": "usually_not_detected",
                        "evidence": "Operation Prison Break",
                        "reliability_note": "",
                    }
                ],
                concealment_methods=[
                    {"stage": "ingress", "vector": "body_cavity", "description": ""}
                ],
                suppliers=[OPORTIK],
            ),
        )
        profiles[label] = DeviceProfile.objects.get(pk=profile.pk)
    notice = notice_services.notice_create_draft(
        author=network.alice,
        data=notice_services.NoticeInput(
            fields={
                "notice_type": "alert",
                "title": "Mini phones in prisons",
                "summary": "Tiny plastic phones pass metal detectors.",
                "body": "Search cells; report back.",
                "action_requested": "Report seizures.",
                "audience_scope": AudienceScope.NETWORK,
                "tlp": TLP.GREEN,
            },
            profiles=[profiles[TLP.GREEN], profiles[TLP.AMBER]],
        ),
    )
    notice = notice_services.notice_publish(notice_id=notice.pk, author=network.cora)
    seizure = seizures.seizure_report_create(
        reporter=network.bob,
        data=seizures.SeizureInput(
            seized_on=date(2025, 5, 20),
            facility_type="prison",
            notice=notice,
            detection_method="targeted_cell_search",
            tlp=TLP.GREEN,
            lines=[
                seizures.SeizureLineInput(quantity=88, profile=profiles[TLP.GREEN]),
                seizures.SeizureLineInput(quantity=3, profile=profiles[TLP.AMBER]),
                seizures.SeizureLineInput(quantity=76, item_type="other_mobile_phone"),
            ],
        ),
    )
    return Feed(profiles=profiles, notice=Notice.objects.get(pk=notice.pk), seizure=seizure)
