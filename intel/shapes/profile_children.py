"""Serializers of a profile's children (identifiers, signatures, concealment methods,
suppliers) and of its attachments."""

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from core.serializers import TAC_RE, StrictFieldsMixin
from intel.attachments import download_name
from intel.models import (
    Attachment,
    ConcealmentMethod,
    DetectionSignature,
    Identifier,
    IdentifierKind,
    Member,
    SalesChannel,
    Supplier,
)
from intel.models.profiles import REQUEST_SUMMARY_MAX, AttachmentKind
from intel.models.tlp import TLP


class IdentifierSerializer(StrictFieldsMixin, serializers.ModelSerializer[Identifier]):
    """`tac`: `value` is 8 digits. `tac_range`: `range_start` and `range_end` (8 digits each,
    start ≤ end); `value` is derived. `bluetooth_name`, `label_marking`: free `value`."""

    range_start = serializers.CharField(
        source="tac_start",
        required=False,
        allow_blank=True,
        help_text="`tac_range` only: the first TAC of the range (8 digits).",
    )
    range_end = serializers.CharField(
        source="tac_end",
        required=False,
        allow_blank=True,
        help_text="`tac_range` only: the last TAC of the range (8 digits, not below `range_start`).",
    )
    value = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The identifier: 8 digits for a `tac`, the name or marking otherwise; omitted for a `tac_range`, whose value DIX writes as `start-end`.",
    )

    class Meta:
        model = Identifier
        fields = ("kind", "value", "range_start", "range_end", "is_test_value", "note")
        read_only_fields = ("is_test_value",)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        value = attrs.get("value", "")
        start, end = attrs.pop("tac_start", ""), attrs.pop("tac_end", "")
        if kind != IdentifierKind.TAC_RANGE and (start or end):
            raise serializers.ValidationError(
                {"range_start": "Only a tac_range has range_start and range_end."}
            )
        if kind == IdentifierKind.TAC_RANGE and "value" in attrs:
            raise serializers.ValidationError(
                {"value": "A tac_range takes range_start and range_end, not value."}
            )
        if kind == IdentifierKind.TAC:
            if not TAC_RE.fullmatch(value):
                raise serializers.ValidationError({"value": "A TAC is exactly 8 digits."})
        elif kind == IdentifierKind.TAC_RANGE:
            for name, tac in (("range_start", start), ("range_end", end)):
                if not TAC_RE.fullmatch(tac or ""):
                    raise serializers.ValidationError({name: "A TAC is exactly 8 digits."})
            if end < start:
                raise serializers.ValidationError({"range_end": "The range ends below its start."})
            value = f"{start}-{end}"
        elif not value.strip():
            raise serializers.ValidationError({"value": "This field is required."})
        return {"kind": kind, "value": value, "note": attrs.get("note", "")}


class IdentifierReadSerializer(serializers.ModelSerializer[Identifier]):
    """Something that identifies the device model: a TAC, a TAC range, a Bluetooth name or a
    label marking."""

    range_start = serializers.CharField(
        source="tac_start",
        help_text="The first TAC the identifier matches (a `tac`: the TAC itself); empty for other kinds.",
    )
    range_end = serializers.CharField(
        source="tac_end", help_text="The last TAC the identifier matches; empty for other kinds."
    )

    class Meta:
        model = Identifier
        fields = ("id", "kind", "value", "range_start", "range_end", "is_test_value", "note")


class DetectionSignatureSerializer(
    StrictFieldsMixin, serializers.ModelSerializer[DetectionSignature]
):
    """How one detection method fares against the device, with the evidence for it."""

    class Meta:
        model = DetectionSignature
        fields = ("method", "expected_outcome", "evidence", "reliability_note")


class ConcealmentMethodSerializer(
    StrictFieldsMixin, serializers.ModelSerializer[ConcealmentMethod]
):
    """A way the device is smuggled in or hidden."""

    class Meta:
        model = ConcealmentMethod
        fields = ("stage", "vector", "description")


class SalesChannelSerializer(StrictFieldsMixin, serializers.ModelSerializer[SalesChannel]):
    """Where a supplier sells the device: a web shop, a social-media account, a marketplace."""

    class Meta:
        model = SalesChannel
        fields = ("kind", "platform", "address", "status", "notes")


class SupplierSerializer(StrictFieldsMixin, serializers.ModelSerializer[Supplier]):
    """A company that makes or sells the device, with its sales channels (never a natural
    person's data)."""

    sales_channels = SalesChannelSerializer(
        many=True,
        required=False,
        help_text="Where the supplier sells the device; when sent, replaces the whole list.",
    )

    class Meta:
        model = Supplier
        fields = ("name", "role", "country", "locality", "status", "notes", "sales_channels")


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    """A file attached to a profile (a photo, a detection protocol…), with its own label."""

    uploaded_by: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    content_url = serializers.SerializerMethodField(
        help_text="The path of the file's content: `GET` it (with your token) to download the file."
    )
    file_name = serializers.SerializerMethodField(
        help_text="The name it downloads under: the name it was uploaded with, without path, "
        "control characters or quotes, ending in an extension of its type."
    )

    class Meta:
        model = Attachment
        fields = (
            "id",
            "kind",
            "title",
            "tlp",
            "file_name",
            "request_summary",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "content_url",
        )

    def get_file_name(self, attachment: Attachment) -> str:
        return download_name(attachment.original_name, attachment.content_type, attachment.pk)

    def get_content_url(self, attachment: Attachment) -> str:
        return reverse(
            "profile-attachment-content",
            kwargs={"pk": attachment.profile_id, "attachment_id": attachment.pk},
        )


class AttachmentUploadSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A file to attach to a profile, sent as `multipart/form-data`."""

    file = serializers.FileField(help_text="A JPEG, PNG or WebP photo, or a PDF.")
    kind = serializers.ChoiceField(
        choices=AttachmentKind.choices,
        help_text="What the file is: a value of `attachment_kind` (docs/vocabularies.md).",
    )
    title = serializers.CharField(max_length=200, help_text="A short title for the file.")
    tlp = serializers.ChoiceField(
        choices=TLP.choices, required=False, help_text="Defaults to the profile's label."
    )
    request_summary = serializers.CharField(
        max_length=REQUEST_SUMMARY_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="A teaser shown to those who may request the attachment without seeing it, "
        'e.g. "detection protocol for X-ray portals, 4 pages"; without it, its kind and label.',
    )
