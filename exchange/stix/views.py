"""STIX 2.1 export endpoints: one profile or one notice as a bundle, and the JSON schema of the
`x-dix-device-profile` extension (docs/stix.md).

Kept apart from the profile and notice viewsets: these answer in STIX, not in DIX's JSON,
and negotiate their own media type.
"""

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import PROBLEM
from core.strict import StrictRequestMixin, parse_id
from exchange.stix import bundles
from exchange.stix.objects import PROFILE_EXTENSION_ID, SCHEMA_FILE, TLP_MARKING_IDS, tlp_marking
from intel import audit
from intel.api.base import member_of
from intel.api.visible import refuse_read
from intel.models import DeviceProfile
from notices.models import Notice

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


class StixRenderer(JSONRenderer):
    media_type = STIX_MEDIA_TYPE
    format = "stix"


class StixNegotiation(DefaultContentNegotiation):
    """STIX with or without its version parameter (a versionless type means the latest,
    2.1), or plain JSON. DRF's own matching would refuse `application/stix+json` without
    `;version=2.1` with a 406."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        offered = list(renderers)
        stix = next(r for r in offered if isinstance(r, StixRenderer))
        plain = next(r for r in offered if not isinstance(r, StixRenderer))
        chosen = request.query_params.get("format")  # `?format=stix|json`, as DRF offers
        if chosen in (stix.format, plain.format):
            return (stix, STIX_MEDIA_TYPE) if chosen == stix.format else (plain, plain.media_type)
        ranges = []
        for position, item in enumerate(request.META.get("HTTP_ACCEPT", "*/*").split(",")):
            base, *params = (part.strip() for part in item.split(";"))
            options = dict(p.split("=", 1) for p in params if "=" in p)
            try:
                quality = float(options.get("q", "1"))
            except ValueError:
                quality = 1.0
            ranges.append((-quality, position, base.lower(), options.get("version")))
        for quality, _, base, version in sorted(ranges):
            if quality == 0:
                continue
            if base in ("application/stix+json", "application/*", "*/*") and version in (
                None,
                "2.1",
            ):
                return stix, STIX_MEDIA_TYPE
            if base == "application/json":
                return plain, plain.media_type
        raise exceptions.NotAcceptable(
            f"This endpoint answers {STIX_MEDIA_TYPE} (or application/json)."
        )


BUNDLE_EXAMPLE = {
    "type": "bundle",
    "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
    "objects": [
        {
            "type": "x-dix-device-profile",
            "spec_version": "2.1",
            "id": "x-dix-device-profile--65a0252a-a6c7-57b9-8396-83bb707adb7d",
            "created_by_ref": "identity--6330226d-ab5d-5fd4-b4fe-0bc55d7fa712",
            "created": "2025-05-20T08:06:34.834Z",
            "modified": "2025-05-21T10:00:00.000Z",
            "name": "L8star BM10",
            "description": "Mini phone; 68 x 21 x 12.5 mm; 15 g; mostly plastic housing.",
            "device_class": "mini_phone",
            "tac_ranges": [{"start": "00123456", "end": "00123456"}],
            "revision": 2,
            "object_marking_refs": [TLP_MARKING_IDS["TLP:GREEN"]],
            "extensions": {PROFILE_EXTENSION_ID: {"extension_type": "new-sdo"}},
        },
        tlp_marking("TLP:GREEN"),
    ],
}
STIX_RESPONSE = {
    (200, STIX_MEDIA_TYPE): OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="A STIX 2.1 bundle.",
        examples=[OpenApiExample("Bundle", value=BUNDLE_EXAMPLE)],
    ),
    (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The same."),
}


class _BundleView(StrictRequestMixin, APIView):
    renderer_classes = [StixRenderer, JSONRenderer]
    content_negotiation_class = StixNegotiation

    def _answer(
        self, request: Request, body: dict[str, Any], *, object_type: str, pk: int, tlp: str
    ) -> Response:
        audit.record(
            action="stix.export",
            actor=member_of(request),
            object_type=object_type,
            object_id=pk,
            object_tlp=tlp,
            detail={"format": "stix-2.1", "bundle": body["id"], "objects": len(body["objects"])},
        )
        return Response(body)


class ProfileStixView(_BundleView):
    @extend_schema(
        summary="A profile as a STIX 2.1 bundle",
        description="The profile as an `x-dix-device-profile` object (a STIX 2.1 extension: "
        "see docs/stix.md) with what it names, as you may see it: the owner's identity, its "
        "TLP 2.0 marking, the extension definition, its suppliers (identities) and their "
        "relationships, and sightings from the seizure reports you may see. Ids are stable "
        "across exports. `Accept: application/stix+json;version=2.1` (or `application/json`). "
        "Each export is recorded in the audit trail. 404 if you may not see the profile.",
        responses=STIX_RESPONSE,
    )
    def get(self, request: Request, pk: str) -> Response:
        profile_pk = parse_id(pk)
        body = bundles.profile_bundle(member_of(request), profile_pk)
        if body is None:
            refuse_read(DeviceProfile, profile_pk, member=member_of(request), object_type="profile")
        tlp = DeviceProfile.objects.values_list("tlp", flat=True).get(pk=profile_pk)
        return self._answer(request, body, object_type="profile", pk=profile_pk, tlp=tlp)


class NoticeStixView(_BundleView):
    @extend_schema(
        summary="A notice as a STIX 2.1 bundle",
        description="The notice's latest published version as a STIX `report` (revoked once "
        "withdrawn) with the profiles it names that you may see, their owners' and the "
        "issuer's identities, the TLP 2.0 markings in use and the extension definition. "
        "`Accept: application/stix+json;version=2.1` (or `application/json`). Each export "
        "is recorded in the audit trail. 404 if you may not see the notice; 409 for a draft.",
        responses={**STIX_RESPONSE, 409: PROBLEM},
    )
    def get(self, request: Request, pk: str) -> Response:
        notice_pk = parse_id(pk)
        body = bundles.notice_bundle(member_of(request), notice_pk)
        if body is None:
            refuse_read(Notice, notice_pk, member=member_of(request), object_type="notice")
        tlp = Notice.objects.values_list("tlp", flat=True).get(pk=notice_pk)
        return self._answer(request, body, object_type="notice", pk=notice_pk, tlp=tlp)


@cache
def _profile_schema() -> dict[str, Any]:
    with SCHEMA_FILE.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


class ProfileSchemaView(StrictRequestMixin, APIView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="JSON schema of the x-dix-device-profile STIX object",
        description="The JSON Schema (draft 2020-12) the `schema` of DIX's STIX extension "
        "definition points at: the profile object's properties. Load it into "
        "stix2-validator with `--schemas` to validate DIX's profiles.",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The JSON schema.")},
    )
    def get(self, request: Request) -> Response:
        return Response(_profile_schema())
