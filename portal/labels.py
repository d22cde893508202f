"""What a member reads for a controlled value: `submitted` becomes "Submitted for review",
in French "Soumis à validation".

The labels are the lists' own (each list's `TextChoices`, as `GET /api/v1/vocabularies/`
gives them), translated by the portal's catalogue. `makemessages` reads only the portal's
files, so the labels of the lists a page shows are marked for it below; a test
(tests/portal/test_labels.py) fails when a list has a label that is not.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext, gettext_noop

from intel.models import (
    AccessRequestMessage,
    AccessRequestStatus,
    DetectionMethod,
    DeviceClass,
    GrantScope,
    IdentifierKind,
    TargetType,
)
from intel.models.children import (
    ConcealmentStage,
    ConcealmentVector,
    ExpectedOutcome,
    SalesChannelKind,
    SupplierRole,
)
from intel.models.profiles import HousingMaterial, MetalContent
from notices.models import AcknowledgementOutcome, NoticeStatus, NoticeType
from seizures.models import FacilityType

# The lists whose values the portal's pages show, by the name a template gives
# (`{{ notice.status|vocabulary:"notice_status" }}`).
LISTS: dict[str, type[TextChoices]] = {
    "device_class": DeviceClass,
    "housing_material": HousingMaterial,
    "metal_content": MetalContent,
    "notice_status": NoticeStatus,
    "notice_type": NoticeType,
    "acknowledgement_outcome": AcknowledgementOutcome,
    "access_request_status": AccessRequestStatus,
    "access_request_message_kind": AccessRequestMessage.Kind,
    "target_type": TargetType,
    "grant_scope": GrantScope,
    "identifier_kind": IdentifierKind,
    "detection_method": DetectionMethod,
    "expected_outcome": ExpectedOutcome,
    "concealment_stage": ConcealmentStage,
    "concealment_vector": ConcealmentVector,
    "supplier_role": SupplierRole,
    "sales_channel_kind": SalesChannelKind,
    "facility_type": FacilityType,
}

# Values the API writes in words of its own, with no list of choices behind them.
OWN: dict[str, dict[str, str]] = {
    "grant_state": {
        "active": gettext_noop("active"),
        "expired": gettext_noop("expired"),
        "revoked": gettext_noop("revoked"),
    },
    "revision_action": {
        "created": gettext_noop("created"),
        "updated": gettext_noop("updated"),
        "retired": gettext_noop("retired"),
    },
}

MARKED = (
    gettext_noop("Mini phone"),
    gettext_noop("Feature phone"),
    gettext_noop("Smartphone"),
    gettext_noop("Phone disguised as another object"),
    gettext_noop("SIM card"),
    gettext_noop("Accessory (charger, earpiece…)"),
    gettext_noop("Mostly plastic"),
    gettext_noop("Plastic"),
    gettext_noop("Metal"),
    gettext_noop("Mixed"),
    gettext_noop("None"),
    gettext_noop("Minimal"),
    gettext_noop("Low"),
    gettext_noop("Normal"),
    gettext_noop("Draft"),
    gettext_noop("Submitted for review"),
    gettext_noop("Published"),
    gettext_noop("Superseded"),
    gettext_noop("Withdrawn"),
    gettext_noop("Alert"),
    gettext_noop("Update"),
    gettext_noop("Request for information"),
    gettext_noop("Warning"),
    gettext_noop("Checked, none found"),
    gettext_noop("Devices seized"),
    gettext_noop("Checks in progress"),
    gettext_noop("Not applicable to us"),
    gettext_noop("Pending a decision"),
    gettext_noop("More information requested"),
    gettext_noop("Approved"),
    gettext_noop("Denied"),
    gettext_noop("Withdrawn by the requester"),
    gettext_noop("Answer from the requester"),
    gettext_noop("Comment"),
    gettext_noop("Routed by the secretariat to the owner"),
    gettext_noop("Device profile"),
    gettext_noop("Notice"),
    gettext_noop("Attachment"),
    gettext_noop("The object (a profile with its identifiers, signatures and history)"),
    gettext_noop("A profile and its attachments"),
    gettext_noop("IMEI TAC (8 digits)"),
    gettext_noop("IMEI TAC range"),
    gettext_noop("Bluetooth name"),
    gettext_noop("Label marking"),
    gettext_noop("Walk-through metal detector"),
    gettext_noop("Hand-held metal detector"),
    gettext_noop("Entrance security gate"),
    gettext_noop("Pat-down and basic X-ray"),
    gettext_noop("X-ray"),
    gettext_noop("Body scanner"),
    gettext_noop("RF emission detection"),
    gettext_noop("Non-linear junction detector"),
    gettext_noop("Detection dog"),
    gettext_noop("Search by hand"),
    gettext_noop("Targeted cell search"),
    gettext_noop("Other"),
    gettext_noop("Detected"),
    gettext_noop("Usually detected"),
    gettext_noop("Reduced detection"),
    gettext_noop("Usually not detected"),
    gettext_noop("Not detected"),
    gettext_noop("Not detected (vendor claim)"),
    gettext_noop("Reported ineffective"),
    gettext_noop("Unknown"),
    gettext_noop("Getting it in"),
    gettext_noop("Hiding it inside"),
    gettext_noop("Body cavity"),
    gettext_noop("Projected over the wall"),
    gettext_noop("Drone drop"),
    gettext_noop("Insider (staff)"),
    gettext_noop("Visitor hand-over"),
    gettext_noop("Post or parcel"),
    gettext_noop("Hollowed object"),
    gettext_noop("Furniture or bedding"),
    gettext_noop("Building fixture"),
    gettext_noop("Manufacturer"),
    gettext_noop("Wholesaler"),
    gettext_noop("Retailer"),
    gettext_noop("Online reseller"),
    gettext_noop("Marketplace seller"),
    gettext_noop("Web shop"),
    gettext_noop("Social media"),
    gettext_noop("Online marketplace"),
    gettext_noop("Physical shop"),
    gettext_noop("Prison"),
    gettext_noop("Storage building"),
    gettext_noop("Border crossing"),
    gettext_noop("Postal or parcel service"),
)


def label(list_name: str, value: object) -> str:
    """`value`'s label in the list `list_name`, in the active language; the value itself when
    the list does not have it (a value newer than the page)."""
    text = str(value)
    if list_name in OWN:
        words = OWN[list_name].get(text)
    else:
        words = dict(LISTS[list_name].choices).get(text)
    return gettext(words) if words else text
