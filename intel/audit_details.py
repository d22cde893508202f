"""What an audit event's `detail` may carry: the allowed keys of every action, in one place.

An event names its object by type, id and label; its `detail` adds what an auditor needs to
understand the action (versions, changed field *names*, counts, entitlements, delivery
figures) and, for access requests, what their authors wrote for the record: the legal basis,
the case reference, the question and answer of an information round (the purpose and the
reason of a decision, withdrawal or revocation are the event's `justification`). It never
carries the content of a profile or notice (titles, bodies, specs, notes): every auditor
reads the trail whatever their clearance (docs/audit.md, "What an event carries").

`record` checks each event's keys against `DETAIL_KEYS`: with `DIX_AUDIT_STRICT_DETAIL` (on
in tests and with `DEBUG`) an unknown key is refused, so a new field cannot slip content into
the trail unnoticed; in production it is left out of the event and logged.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# The query parameters an auditor sent: names the strict request parsing already allowed.
ANY_QUERY_PARAMETER = None

_ORGANISATION_ENTITLEMENTS = frozenset(
    {"kind", "sponsor", "country", "analysts_decide_access", "delegates_access_to_secretariat"}
)
_MEMBER_ENTITLEMENTS = frozenset(
    {"organisation", "role", "clearance", "is_active", "is_staff", "is_superuser"}
)
_ADMIN_WRITE = frozenset({"via", "fields", "entitlements"})
_ACCESS_REQUEST = frozenset({"target_type", "target_id", "owner", "organisation"})
_GRANT = frozenset(
    {"access_request", "target_type", "target_id", "organisation", "member", "scope", "expires_at"}
)
_NOTICE_WRITE = frozenset(
    {"reference", "version", "status", "fields", "deliveries", "superseded_by"}
)
_PROFILE_WRITE = frozenset({"version", "fields"})
_TOKEN = frozenset({"member", "member_id", "name", "key_prefix", "expires_at"})

DETAIL_KEYS: dict[str, frozenset[str] | None] = {
    # Detail reads (AMBER and above) and refused reads.
    "profile.read": frozenset({"version", "via"}),
    "profile.revision_read": frozenset({"revision", "via"}),
    "attachment.read": frozenset({"profile", "via"}),
    "attachment.downloaded": frozenset({"profile", "sha256", "via"}),
    "notice.read": frozenset({"reference", "version", "via"}),
    "notice.version_read": frozenset({"reference", "version", "via"}),
    # The issuer's follow-up: who a notice reaches, and who received, read, acknowledged it.
    "notice.audience_read": frozenset({"reference", "version"}),
    "notice.receipts_read": frozenset({"reference", "version"}),
    "seizure_report.read": frozenset({"via", "versions"}),
    "read.denied": frozenset(),
    # Profiles.
    "profile.created": _PROFILE_WRITE,
    "profile.updated": _PROFILE_WRITE,
    "profile.retired": _PROFILE_WRITE,
    "attachment.added": frozenset({"profile", "kind", "sha256"}),
    # Notices.
    "notice.drafted": _NOTICE_WRITE,
    "notice.draft_edited": _NOTICE_WRITE,
    "notice.published": _NOTICE_WRITE,
    "notice.updated": _NOTICE_WRITE,
    "notice.withdrawn": _NOTICE_WRITE,
    "notice.superseded": _NOTICE_WRITE,
    "notice.acknowledged": _NOTICE_WRITE | {"outcome"},
    "notice.acknowledgement_changed": _NOTICE_WRITE | {"outcome"},
    # The review (the reviewer's comment is notice content: not carried).
    "notice.submitted": _NOTICE_WRITE,
    "notice.returned": _NOTICE_WRITE,
    "notice.discarded": _NOTICE_WRITE,
    "notice.reminded": frozenset({"reference", "version", "organisation", "deliveries"}),
    # Access requests: the purpose and a decision's reason are the event's justification.
    "access_request.created": _ACCESS_REQUEST
    | {"legal_basis", "case_reference", "days", "expires_at", "on_behalf_of", "via_notice"},
    "access_request.routed": _ACCESS_REQUEST | {"message", "routed_to", "deliveries"},
    "access_request.commented": _ACCESS_REQUEST | {"message"},
    "access_request.info_requested": _ACCESS_REQUEST | {"message"},
    "access_request.answered": _ACCESS_REQUEST | {"message"},
    "access_request.approved": _ACCESS_REQUEST
    | {"grant", "scope", "expires_at", "beneficiary", "named_member"},
    "access_request.denied": _ACCESS_REQUEST,
    "access_request.withdrawn": _ACCESS_REQUEST,
    "grant.revoked": _GRANT,
    "grant.expired": _GRANT,
    # Seizures, IMEI checks, exports.
    "seizure.amended": frozenset({"version", "fields", "deliveries"}),
    "seizure.withdrawn": frozenset({"version", "deliveries"}),
    "seizure.reported": frozenset(
        {
            "country",
            "seized_on",
            "negative_result",
            "notice",
            "lines",
            "recipient_organisations",
            "deliveries",
        }
    ),
    "imei_check.performed": frozenset(
        {"source", "count", "valid", "invalid", "matched", "sha256", "profiles"}
    ),
    "stix.export": frozenset({"format", "bundle", "objects"}),
    "taxii.export": frozenset({"collection", "endpoint", "count", "object_id"}),
    # Webhooks.
    "subscription.created": frozenset({"organisation", "host", "event_types", "max_tlp"}),
    "subscription.updated": frozenset({"organisation", "fields", "enabled", "host"}),
    "subscription.deleted": frozenset({"organisation", "host"}),
    "subscription.secret_rotated": frozenset({"organisation", "previous_secret_expires_at"}),
    "subscription.disabled": frozenset({"organisation", "reason"}),
    "subscription.deliveries_recovered": frozenset({"organisation", "since", "requeued"}),
    "subscription.tested": frozenset({"organisation", "delivery", "status_code", "succeeded"}),
    "delivery.resent": frozenset({"subscription", "webhook_id", "event_type"}),
    # The network: tokens, organisations, members (directory facts, not intelligence).
    "token.issued": _TOKEN,
    "token.revoked": _TOKEN,
    "organisation.created": _ORGANISATION_ENTITLEMENTS | _ADMIN_WRITE | {"slug"},
    "organisation.changed": _ORGANISATION_ENTITLEMENTS | _ADMIN_WRITE | {"slug"},
    "organisation.entitlements_changed": _ORGANISATION_ENTITLEMENTS | _ADMIN_WRITE | {"slug"},
    "organisation.deleted": _ORGANISATION_ENTITLEMENTS | _ADMIN_WRITE | {"slug"},
    "organisation.access_policy_changed": frozenset({"slug", "entitlements"}),
    "member.created": _MEMBER_ENTITLEMENTS | _ADMIN_WRITE | {"username"},
    "member.changed": _MEMBER_ENTITLEMENTS | _ADMIN_WRITE | {"username"},
    "member.entitlements_changed": _MEMBER_ENTITLEMENTS | _ADMIN_WRITE | {"username"},
    "member.deleted": _MEMBER_ENTITLEMENTS | _ADMIN_WRITE | {"username"},
    "member.password_changed": frozenset({"via"}),
    # The portal's sign-in: an invitation link printed, the password set through it, an
    # authenticator enrolled or removed by a superuser (none carries a secret).
    "member.invited": frozenset({"username", "valid_days"}),
    "member.password_set": frozenset(),
    "member.second_factor_enrolled": frozenset(),
    "member.second_factor_reset": frozenset({"username"}),
    "email_preferences.changed": frozenset({"changes"}),
    # The platform itself.
    "retention.run": frozenset({"counts", "cutoffs"}),
    "authentication.failed": frozenset(
        {"path", "credential", "member", "key_prefix", "token_state"}
    ),
    "authentication.locked": frozenset(
        {"scope", "subject", "failures", "window_seconds", "locked_until"}
    ),
    "authentication.unlocked": frozenset({"address", "account", "was_locked"}),
    "audit.searched": ANY_QUERY_PARAMETER,
    "audit.exported": ANY_QUERY_PARAMETER,
}


class UnknownDetailKey(ValueError):
    """An event's detail holds a key its action does not allow (`DETAIL_KEYS`)."""


def checked_detail(action: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """`detail` with only the keys `action` allows. Strict (tests, DEBUG): an unknown action
    or key raises `UnknownDetailKey`; otherwise it is left out and logged."""
    allowed = DETAIL_KEYS.get(action, frozenset())
    if allowed is ANY_QUERY_PARAMETER:
        return dict(detail)
    unknown = sorted(set(detail) - allowed)  # an undeclared action carries no detail
    if not unknown:
        return dict(detail)
    problem = f"Audit action {action!r} may not carry detail keys {unknown}"
    if settings.DIX_AUDIT_STRICT_DETAIL:
        raise UnknownDetailKey(f"{problem}: declare them in intel/audit_details.py.")
    log.warning("%s: left out of the event.", problem)
    return {key: value for key, value in detail.items() if key in allowed}
