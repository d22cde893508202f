"""DIX intel models, split by domain."""

from intel.models.access import (
    AccessRequest,
    AccessRequestMessage,
    AccessRequestStatus,
    Grant,
    GrantScope,
    TargetType,
)
from intel.models.audit import AuditEvent
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
    "AccessRequest",
    "AccessRequestMessage",
    "AccessRequestStatus",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "ConcealmentMethod",
    "DetectionSignature",
    "DeviceClass",
    "DeviceProfile",
    "Grant",
    "GrantScope",
    "Identifier",
    "IdentifierKind",
    "Member",
    "Organisation",
    "OrganisationKind",
    "ProfileRevision",
    "Role",
    "SalesChannel",
    "Supplier",
    "TargetType",
    "tlp_labels_up_to",
    "tlp_rank",
]
