"""The relationships around a profile: its family (`derived-from`) and its suppliers."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from exchange.stix.objects.ids import (
    SPEC_VERSION,
    organisation_id,
    parent_relationship_id,
    profile_id,
    supplier_id,
    supplier_relationship_id,
)
from exchange.stix.objects.markings import marking_refs
from exchange.stix.objects.values import choice_label, compact, timestamp
from intel.models.children import SupplierRole

SUPPLIER_SECTORS: dict[str, list[str]] = {
    SupplierRole.MANUFACTURER: ["manufacturing"],
    SupplierRole.WHOLESALER: ["retail"],
    SupplierRole.RETAILER: ["retail"],
    SupplierRole.ONLINE_RESELLER: ["retail"],
    SupplierRole.MARKETPLACE_SELLER: ["retail"],
}


def parent_relationship(
    *,
    child_pk: int,
    parent_pk: int,
    incarnation: int,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    label: str,
    revoked: bool = False,
) -> dict[str, Any]:
    """The profile belongs to the family `parent_pk` (`derived-from`, between two objects of
    one type). Sent only to members who see both profiles; revoked when the parent changes."""
    obj: dict[str, Any] = {
        "type": "relationship",
        "spec_version": SPEC_VERSION,
        "id": parent_relationship_id(child_pk, parent_pk, incarnation),
        "created_by_ref": organisation_id(owner_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "relationship_type": "derived-from",
        "source_ref": profile_id(child_pk),
        "target_ref": profile_id(parent_pk),
        "object_marking_refs": marking_refs(label),
    }
    if revoked:
        obj["revoked"] = True
    return obj


# --- Suppliers ---------------------------------------------------------------------------------


def supplier_identity(
    *,
    key: str,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    supplier: Mapping[str, Any],
    label: str,
    revoked: bool = False,
) -> dict[str, Any]:
    role = str(supplier.get("role") or SupplierRole.UNKNOWN)
    where = ", ".join(str(p) for p in (supplier.get("locality"), supplier.get("country")) if p)
    description = choice_label(SupplierRole, role) + (f" in {where}" if where else "") + "."
    if supplier.get("status"):
        description += f" Status: {supplier['status']}."
    if supplier.get("notes"):
        description += " " + str(supplier["notes"]).strip()
    channels = [
        " ".join(
            str(p)
            for p in (
                c.get("kind"),
                c.get("platform"),
                c.get("address"),
                f"({c['status']})" if c.get("status") else "",
            )
            if p
        )
        for c in supplier.get("sales_channels") or []
    ]
    obj = compact(
        {
            "type": "identity",
            "spec_version": SPEC_VERSION,
            "id": supplier_id(key),
            "created_by_ref": organisation_id(owner_pk),
            "created": timestamp(created),
            "modified": timestamp(modified),
            "name": str(supplier.get("name") or "Unnamed supplier"),
            "description": description,
            "identity_class": "organization",
            "sectors": SUPPLIER_SECTORS.get(role),
            "contact_information": "; ".join(channels),
            "object_marking_refs": marking_refs(label),
        }
    )
    if revoked:
        obj["revoked"] = True
    return obj


def supplier_relationship(
    *,
    key: str,
    profile_pk: int,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    supplier: Mapping[str, Any],
    profile_name: str,
    label: str,
    revoked: bool = False,
) -> dict[str, Any]:
    """`related-to` (the verb every STIX consumer accepts), its description saying how."""
    role = choice_label(SupplierRole, str(supplier.get("role") or SupplierRole.UNKNOWN)).lower()
    obj: dict[str, Any] = {
        "type": "relationship",
        "spec_version": SPEC_VERSION,
        "id": supplier_relationship_id(key),
        "created_by_ref": organisation_id(owner_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "relationship_type": "related-to",
        "description": f"{supplier.get('name')} ({role}) supplies {profile_name}.",
        "source_ref": supplier_id(key),
        "target_ref": profile_id(profile_pk),
        "object_marking_refs": marking_refs(label),
    }
    if revoked:
        obj["revoked"] = True
    return obj
