"""Seizure reports through the HTTP API, for the seizure tests: a notice published through the
services (`published`), a positive report's body (`positive`), filing it (`file`), and counting
what the audit trail recorded (`reported_events`)."""

from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile, Member
from intel.models.audit import AuditEvent
from notices import services as notice_services
from notices.models import AudienceScope, Notice

SEIZURES = "/api/v1/seizures/"
PROBLEM = "application/problem+json"

Api = Callable[[Member | None], APIClient]


def stats_url(profile_id: int | str) -> str:
    return f"/api/v1/profiles/{profile_id}/seizure-stats/"


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
