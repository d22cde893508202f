"""An alert notice as a STIX report."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from exchange.stix.objects.ids import SPEC_VERSION, organisation_id
from exchange.stix.objects.markings import marking_refs
from exchange.stix.objects.values import timestamp


def notice_report(
    *,
    report_stix_id: str,
    issuer_pk: int,
    reference: str,
    notice_type: str,
    title: str,
    summary: str,
    body: str,
    action_requested: str,
    label: str,
    created: datetime,
    modified: datetime,
    published: datetime,
    object_refs: Sequence[str],
    profiles: Sequence[str] = (),
    revoked_reason: str | None = None,
) -> dict[str, Any]:
    """`profiles`: one line per profile it names, so that the report stands alone in a tool
    that drops the `x-dix-device-profile` objects."""
    paragraphs = [summary.strip(), body.strip()]
    if action_requested.strip():
        paragraphs.append("Action requested: " + action_requested.strip())
    if profiles:
        paragraphs.append("Device profiles:\n" + "\n".join(f"- {line}" for line in profiles))
    if revoked_reason is not None:
        paragraphs.insert(0, f"WITHDRAWN: {revoked_reason.strip()}")
    obj: dict[str, Any] = {
        "type": "report",
        "spec_version": SPEC_VERSION,
        "id": report_stix_id,
        "created_by_ref": organisation_id(issuer_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "name": f"{reference}: {title}",
        "description": "\n\n".join(p for p in paragraphs if p) or title,
        "report_types": ["threat-report"],
        "published": timestamp(published),
        "object_refs": list(object_refs),
        "labels": [f"dix-notice-{notice_type.replace('_', '-')}"],
        "external_references": [{"source_name": "dix", "external_id": reference}],
        "object_marking_refs": marking_refs(label),
    }
    if revoked_reason is not None:
        obj["revoked"] = True
    return obj
