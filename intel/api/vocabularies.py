"""The controlled lists of the API (`/api/v1/vocabularies/`): every value a choice field
takes, with its label and what it means, as `core.vocabularies` holds them."""

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.conditional import conditional_response, list_etag
from core.schema import IF_NONE_MATCH
from core.strict import StrictRequestMixin
from core.vocabularies import vocabularies


class VocabularyValueSerializer(serializers.Serializer[Any]):
    """One value of a controlled list."""

    value = serializers.CharField(help_text="What a client sends and reads, e.g. `xray`.")
    label = serializers.CharField(  # type: ignore[assignment]  # DRF Field.label is the field's own title; a field named "label" shadows it in the stubs only
        help_text="The value's name for a person, e.g. `X-ray`."
    )
    description = serializers.CharField(help_text="What the value means, in one line.")


class VocabularySerializer(serializers.Serializer[Any]):
    """A controlled list: the values one or more fields of the API take."""

    name = serializers.CharField(
        help_text="The list's stable name, e.g. `detection_method` (snake_case)."
    )
    title = serializers.CharField(help_text="The list's name for a person.")
    description = serializers.CharField(help_text="What the list classifies.")
    used_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="Where the API takes the list, each as `<collection>: <field path>` "
        "(`[]` marks the items of a list), e.g. `profiles: detection_signatures[].method`.",
    )
    values = VocabularyValueSerializer(
        many=True, help_text="The allowed values, in the order forms offer them."
    )


# drf-spectacular lists a `many=True` answer's example itself: this is one item.
EXAMPLE = {
    "name": "metal_content",
    "title": "Metal content",
    "description": "How much metal the whole device holds: what a metal detector has to find.",
    "fields": ["profiles: metal_content"],
    "values": [
        {"value": "none", "label": "None", "description": "No metal a detector could find."},
        {
            "value": "minimal",
            "label": "Minimal",
            "description": "Only traces (a circuit board, contacts): walk-through metal "
            "detectors usually miss it.",
        },
    ],
}


class VocabularyListView(StrictRequestMixin, APIView):
    @extend_schema(
        summary="Controlled lists (vocabularies)",
        description="Every controlled list of the API with its values, their labels and "
        "one-line descriptions: TLP labels, device classes, housing materials, metal "
        "content, detection methods and outcomes, concealment stages and vectors, supplier "
        "roles, sales channels, notice types and audience scopes, organisation kinds, member "
        "roles, facility types… An invalid value anywhere answers 400 listing the allowed "
        "ones; this is where a form finds them first. A bare array, bounded by design (one "
        "entry per list of the code), sorted by `name`; the same for every member. "
        "docs/vocabularies.md is generated from the same definitions.",
        parameters=[IF_NONE_MATCH],
        responses={200: VocabularySerializer(many=True), 304: None},
        examples=[OpenApiExample("A list", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        data = [asdict(item) for item in vocabularies()]
        body = VocabularySerializer(data, many=True).data
        return conditional_response(request, body, list_etag(body))
