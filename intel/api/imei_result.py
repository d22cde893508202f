"""The answer of an IMEI check: its serializers (for the OpenAPI schema) and `render`, which
writes the same shape as JSON text.

The answer holds every item in input order, so `render` writes the items as text from tails
made once per outcome rather than running a serializer or `json.dumps` per item;
bench/imei_check compares the three ways, and tests/test_schema_bodies.py checks the bytes
against the serializers' schema.
"""

import json
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from intel.imei import REASONS, ImeiCheck
from intel.models import TLP, DeviceClass


class ImeiCheckItemSerializer(serializers.Serializer[Any]):
    """One item of the check: whether it is valid, and the profiles its TAC matches."""

    input = serializers.CharField(help_text="The item as sent.")
    normalised = serializers.CharField(
        allow_null=True,
        help_text="Valid IMEI: its 15 digits (the check digit computed when 14 were sent). "
        "Valid IMEISV: its 16 digits. Null when invalid.",
    )
    kind = serializers.ChoiceField(
        choices=["imei", "imeisv"], allow_null=True, help_text="Null when invalid."
    )
    valid = serializers.BooleanField(help_text="Whether the item is a valid IMEI or IMEISV.")
    reason = serializers.ChoiceField(
        choices=list(REASONS),
        allow_null=True,
        help_text="Why the item is invalid; null when valid. "
        + " ".join(f"`{code}`: {text}" for code, text in REASONS.items()),
    )
    tac = serializers.CharField(
        allow_null=True, help_text="Type Allocation Code: the first 8 digits. Null when invalid."
    )
    profiles = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the profiles you may see whose TAC or TAC range holds this TAC "
        "(described once in the answer's `profiles`). Empty when invalid.",
    )


class ImeiCheckProfileSerializer(serializers.Serializer[Any]):
    """A profile that an item's TAC matches, among those you may see."""

    id = serializers.IntegerField(help_text="The profile's id.")
    name = serializers.CharField(help_text="The profile's name.")
    tlp = serializers.ChoiceField(choices=TLP.choices, help_text="The profile's TLP label.")
    device_class = serializers.ChoiceField(
        choices=DeviceClass.choices, help_text="The profile's device class (docs/vocabularies.md)."
    )
    retired = serializers.BooleanField(help_text="Whether the profile is retired.")
    url = serializers.CharField(help_text="The profile: `GET` it for the details.")


class ImeiCheckSummarySerializer(serializers.Serializer[Any]):
    """How many items were checked, valid, invalid and matched."""

    items = serializers.IntegerField(help_text="How many items were sent.")
    valid = serializers.IntegerField(help_text="How many are valid IMEIs or IMEISVs.")
    invalid = serializers.IntegerField(help_text="How many are not.")
    matched = serializers.IntegerField(help_text="Valid items matching at least one profile.")


class ImeiCheckResultSerializer(serializers.Serializer[Any]):
    """The answer of an IMEI check: the counts, a digest of the valid items, the profiles
    matched and every item."""

    summary = ImeiCheckSummarySerializer(help_text="The counts.")
    sha256 = serializers.CharField(
        help_text="SHA-256 (hex) of the valid items' normalised forms in input order, one per "
        "line, each line ending with a newline: `sha256sum` of that list. The audit trail keeps "
        "this digest and the counts, never the IMEIs."
    )
    profiles = ImeiCheckProfileSerializer(many=True, help_text="The profiles matched.")
    items = ImeiCheckItemSerializer(many=True, help_text="Every item, in input order.")


def _head(result: ImeiCheck) -> dict[str, Any]:
    """The answer without its items: the counts, the digest and the profiles matched."""
    return {
        "summary": {
            "items": result.count,
            "valid": result.valid,
            "invalid": result.invalid,
            "matched": result.matched,
        },
        "sha256": result.digest,
        "profiles": [
            {
                "id": p["id"],
                "name": p["name"],
                "tlp": p["tlp"],
                "device_class": p["device_class"],
                "retired": p["retired_at"] is not None,
                "url": reverse("profile-detail", kwargs={"pk": p["id"]}),
            }
            for p in result.profiles
        ],
    }


def as_data(result: ImeiCheck) -> dict[str, Any]:
    """The answer as dicts and lists: what `render` writes as text, in the form
    `ImeiCheckResultSerializer` and `json.dumps` take (bench/imei_check compares the three)."""
    return _head(result) | {
        "items": [
            {
                "input": raw,
                "normalised": value,
                "kind": kind,
                "valid": value is not None,
                "reason": reason,
                "tac": value[:8] if value else None,
                "profiles": result.matches.get(value[:8], []) if value else [],
            }
            for raw, (kind, value, reason) in zip(result.inputs, result.checked, strict=True)
        ]
    }


def render(result: ImeiCheck) -> bytes:
    """The answer as JSON bytes, as `ImeiCheckResultSerializer` describes it.

    The items are written as text: each is its JSON-escaped input followed by a tail that is
    the same for every item of a given outcome (kind and TAC, or reason), made once."""
    head = _head(result)
    invalid_tails: dict[str | None, str] = {}  # by reason
    valid_tails: dict[str | None, dict[str, str]] = {"imei": {}, "imeisv": {}}  # kind → TAC →
    texts = []
    for raw, (kind, value, reason) in zip(result.inputs, result.checked, strict=True):
        if value is None:
            tail = invalid_tails.get(reason)
            if tail is None:
                tail = invalid_tails[reason] = (
                    ',"normalised":null,"kind":null,"valid":false,'
                    f'"reason":{_json(reason)},"tac":null,"profiles":[]}}'
                )
            texts.append(f'{{"input":{_json_string(raw)}{tail}')
        else:
            tac = value[:8]
            by_tac = valid_tails[kind]
            tail = by_tac.get(tac)
            if tail is None:
                tail = by_tac[tac] = (
                    f'","kind":{_json(kind)},"valid":true,"reason":null,"tac":"{tac}",'
                    f'"profiles":{_json(result.matches.get(tac, []))}}}'
                )
            texts.append(f'{{"input":{_json_string(raw)},"normalised":"{value}{tail}')
    return f'{_json(head)[:-1]},"items":[{",".join(texts)}]}}'.encode()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


_json_string = json.encoder.encode_basestring_ascii  # what json.dumps does to a str, in C
