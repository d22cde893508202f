"""The OpenAPI description of every operation's errors: each status it can answer, typed as
`application/problem+json` with the `Problem` schema, so that generated clients parse them.

Views declare only the statuses that follow from their domain rules (403: a role or an owner
may not do this; 409: the object's state forbids it). `DixAutoSchema` adds every status that
follows from the operation's shape (see `error_statuses`) and types them all.
"""

import copy
import inspect
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from core.problems import PROBLEM_CONTENT_TYPE, ProblemSerializer
from core.vocabularies import Vocabulary, vocabularies

# A view's `responses={403: PROBLEM}`: "this operation can answer 403"; the description and
# the schema come from `document_errors`.
PROBLEM = OpenApiResponse(description="")
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer: 304 Not Modified if nothing changed.",
)

STATUS_DESCRIPTIONS = {
    400: "Invalid input (`validation-error`: `errors` names each field, body or query "
    "parameter) or a body that could not be parsed (`malformed-request`).",
    401: "No credentials (`not-authenticated`), or unknown, expired or revoked ones "
    "(`authentication-failed`).",
    403: "You see the object, but your role or organisation may not do this (`permission-denied`).",
    404: "It does not exist or you may not see it (`not-found`): the two are never told apart.",
    405: "The endpoint does not take this method (`method-not-allowed`).",
    406: "The `Accept` header asks for something DIX cannot send (`not-acceptable`).",
    409: "The object's state forbids this (`conflict`).",
    412: "`If-Match` names an older version (`precondition-failed`): read it again.",
    413: "The request body is too large (`request-too-large`).",
    415: "The body's `Content-Type` is not one this operation accepts (`unsupported-media-type`).",
    428: "A change came without `If-Match` (`precondition-required`).",
    429: "Too many requests, or too many failed authentications (`rate-limited`): wait the "
    "seconds in `Retry-After`.",
}

# Every object's `id` means the same; a serializer may still say more with `help_text`.
ID_DESCRIPTION = "The object's id."

# drf-spectacular's text for a response declared without a body or a description.
_NO_DESCRIPTION = {"", "No response body"}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": 'How to authenticate: `Bearer realm="dix"`.',
        }
    },
    429: {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before trying again.",
        }
    },
}


def error_statuses(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation answers because of its shape, not of its domain rules:

    - 400, 406 and 429 everywhere: every operation refuses an unknown query parameter or a
      body it does not take, DRF's content negotiation refuses an `Accept` no renderer
      matches, and the per-member limit and the limit on failed authentications apply to all;
    - 401 where credentials are required;
    - 404 for a path parameter (an object that does not exist or is not visible);
    - 413 and 415 for a request body;
    - 412 and 428 for an `If-Match` header (the ETag check of a conditional change).

    405 is never listed: it answers a method an endpoint does not have, so no operation of
    the document can answer it.
    """
    locations = {parameter.get("in") for parameter in operation.get("parameters", [])}
    headers = {
        parameter.get("name", "").lower()
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "header"
    }
    statuses = {400, 406, 429}
    if "requestBody" in operation:
        statuses |= {413, 415}
    if "path" in locations:
        statuses.add(404)
    if "if-match" in headers:
        statuses |= {412, 428}
    security = operation.get("security", [])
    if security and {} not in security:
        statuses.add(401)
    return statuses


def document_errors(operation: dict[str, Any], problem_schema: dict[str, Any]) -> None:
    """Every error response of `operation` as `application/problem+json` with `problem_schema`
    (the problem handler answers every error so), plus the statuses of `error_statuses`."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status_code in sorted(declared | error_statuses(operation)):
        response = responses.get(str(status_code), {})
        description = response.get("description", "")
        if description in _NO_DESCRIPTION:
            description = STATUS_DESCRIPTIONS.get(status_code, "Problem details (RFC 9457).")
        documented: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_schema}},
        }
        headers = {**_HEADERS.get(status_code, {}), **response.get("headers", {})}
        if headers:
            documented["headers"] = headers
        responses[str(status_code)] = documented
    operation["responses"] = dict(sorted(responses.items()))


def sends_blank(field: Any) -> bool:
    """A read-only choice field whose model field may be blank: DRF drops `allow_blank` from
    read-only fields, yet the stored `""` is sent, and a client whose enum lacks it fails to
    parse the whole answer."""
    if not isinstance(field, serializers.ChoiceField) or not field.read_only or field.allow_blank:
        return False
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    source = field.source
    if model is None or not isinstance(source, str) or "." in source or source in ("", "*"):
        return False
    try:
        return bool(model._meta.get_field(source).blank)
    except FieldDoesNotExist:
        return False


def own_docstring(cls: type) -> str:
    """The class's own docstring, cleaned; "" when only a base class has one."""
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


class DixAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with every error documented by `document_errors`, every
    value a read-only choice field can send in its enum, and each object described by its
    serializer's own docstring only."""

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        if sends_blank(field):
            field = copy.copy(field)
            field.allow_blank = True
        # drf-spectacular leaves this private method unannotated.
        schema: dict[str, Any] = super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )
        if getattr(field, "field_name", None) == "id" and not schema.get("description"):
            schema["description"] = ID_DESCRIPTION
        return schema

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's is untyped
        # The same rule for operations: the action's or the view's own docstring, never one
        # inherited from a base view or a mixin (extend_schema's description wins over both).
        action = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        doc = getattr(action, "__doc__", None)
        if isinstance(doc, str) and doc.strip():
            return inspect.cleandoc(doc)
        return own_docstring(type(self.view))

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        # drf-spectacular describes an object with the first docstring up its class's MRO, so
        # a serializer without one would be described by a mixin's or a base class's (written
        # for DIX's developers). Only the serializer's own docstring describes its object.
        # Private and unannotated in drf-spectacular.
        schema: dict[str, Any] = super()._map_basic_serializer(  # type: ignore[no-untyped-call]
            serializer, direction
        )
        own = own_docstring(serializer if isinstance(serializer, type) else type(serializer))
        if own:
            schema["description"] = own
        else:
            schema.pop("description", None)
        return schema

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        problem = self.resolve_serializer(ProblemSerializer, "response")
        document_errors(operation, problem.ref)
        return operation


def _vocabulary_of(values: set[str], lists: list[Vocabulary]) -> Vocabulary | None:
    """The list whose values an enum takes: the same values, else the smallest list holding
    them all (`max_tlp` takes every label but RED)."""
    holding = [item for item in lists if values <= {value.value for value in item.values}]
    return min(holding, key=lambda item: len(item.values), default=None)


def describe_enums(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook, after drf-spectacular's enum hook: each enum component that takes
    the values of a controlled list (core.vocabularies) lists them with their labels and
    descriptions, as `GET /api/v1/vocabularies/` and docs/vocabularies.md do."""
    lists = vocabularies()
    for schema in result.get("components", {}).get("schemas", {}).values():
        enum = schema.get("enum")
        if not enum or not all(isinstance(value, str) for value in enum):
            continue
        vocabulary = _vocabulary_of({value for value in enum if value}, lists)
        if vocabulary is None:
            continue
        meanings = {value.value: value for value in vocabulary.values}
        lines = [
            f"* `{value}` - {meanings[value].label}: {meanings[value].description}"
            for value in enum
            if value in meanings
        ]
        schema["description"] = f"A value of the `{vocabulary.name}` list.\n\n" + "\n".join(lines)
    return result
