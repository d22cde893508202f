"""DIX intel models, split by domain."""

from intel.models.network import ApiToken, Member, Organisation, OrganisationKind, Role
from intel.models.profiles import (
    Attachment,
    ConcealmentMethod,
    DetectionSignature,
    DeviceClass,
    DeviceProfile,
    Identifier,
    IdentifierKind,
    ProfileRevision,
    SalesChannel,
    Supplier,
)
from intel.models.tlp import TLP, tlp_labels_up_to, tlp_rank

__all__ = [
    "TLP",
    "ApiToken",
    "Attachment",
    "ConcealmentMethod",
    "DetectionSignature",
    "DeviceClass",
    "DeviceProfile",
    "Identifier",
    "IdentifierKind",
    "Member",
    "Organisation",
    "OrganisationKind",
    "ProfileRevision",
    "Role",
    "SalesChannel",
    "Supplier",
    "tlp_labels_up_to",
    "tlp_rank",
]
