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
from intel.models.authenticators import Authenticator
from intel.models.children import (
    ConcealmentMethod,
    DetectionMethod,
    DetectionSignature,
    Identifier,
    IdentifierKind,
    SalesChannel,
    Supplier,
)
from intel.models.network import ApiToken, Member, Organisation, OrganisationKind, Role
from intel.models.profiles import Attachment, DeviceClass, DeviceProfile, ProfileRevision
from intel.models.tlp import TLP

__all__ = [
    "TLP",
    "AccessRequest",
    "AccessRequestMessage",
    "AccessRequestStatus",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Authenticator",
    "ConcealmentMethod",
    "DetectionMethod",
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
]
