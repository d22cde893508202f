"""Every error as `application/problem+json` (RFC 9457).

Body: `type` (a stable URN per kind of problem, listed in docs/errors.md), `title`, `status`,
`detail`, and for input errors `errors`: one entry per field with its dotted path, a JSON
pointer into the request body, a machine code and a message.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import ApplicationError, AuthenticationLocked

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger("dix.api")

_DRF_SLUGS: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ValidationError: ("validation-error", "Invalid input"),
    exceptions.ParseError: ("malformed-request", "The request body could not be parsed"),
    exceptions.UnsupportedMediaType: ("unsupported-media-type", "Unsupported media type"),
    exceptions.NotAuthenticated: ("not-authenticated", "Authentication required"),
    exceptions.AuthenticationFailed: ("authentication-failed", "Authentication failed"),
    exceptions.PermissionDenied: ("permission-denied", "Not allowed"),
    exceptions.NotFound: ("not-found", "Not found"),
    exceptions.MethodNotAllowed: ("method-not-allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not-acceptable", "Not acceptable"),
    exceptions.Throttled: ("rate-limited", "Too many requests"),
    AuthenticationLocked: ("authentication-locked", "Too many failed authentication attempts"),
}


class ProblemFieldErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """One entry of a problem's `errors`: one failing field (see `field_errors`)."""

    field = serializers.CharField(
        help_text="Dotted path of the field (`identifiers.1.value`); `body` for the whole body."
    )
    pointer = serializers.CharField(
        help_text="The same path as a JSON pointer into the body (`#/identifiers/1/value`), "
        "`#` for the whole body, or the query parameter's name."
    )
    code = serializers.CharField(help_text="Machine code: `required`, `invalid`, `max_length`…")
    detail = serializers.CharField(help_text="The message for that field.")


class ProblemSerializer(serializers.Serializer[dict[str, Any]]):
    """Problem details (RFC 9457): the body of every error, as `application/problem+json`."""

    type = serializers.CharField(
        help_text="`urn:dix:problem:<slug>`, one per kind of problem (docs/errors.md). "
        "Program against this."
    )
    title = serializers.CharField(help_text="Short human summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    detail = serializers.CharField(help_text="What went wrong this time, in words.")
    # DRF's metaclass moves declared fields off the class: `Serializer.errors` stays DRF's.
    errors = ProblemFieldErrorSerializer(  # type: ignore[assignment]
        many=True,
        required=False,
        help_text="Input errors only: one entry per failing field.",
    )


def problem_type(slug: str) -> str:
    return f"urn:dix:problem:{slug}"


def problem_body(
    *, slug: str, title: str, status_code: int, detail: str, errors: list[dict[str, str]] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def field_errors(detail: Any, path: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Flatten DRF's nested error structure into one entry per failing field."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            out += field_errors(value, (*path, str(key)))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [_entry(path, item) for item in detail]
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                out += field_errors(item, (*path, str(index)))
            else:
                out.append(_entry(path, item))
        return out
    return [_entry(path, detail)]


def _entry(path: tuple[str, ...], message: Any) -> dict[str, str]:
    names = [p for p in path if p != "non_field_errors"]
    return {
        "field": ".".join(names) or "body",
        "pointer": "#/" + "/".join(names) if names else "#",
        "code": str(getattr(message, "code", "invalid")),
        "detail": str(message),
    }


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: application errors, DRF errors and Django's 404/403."""
    if isinstance(exc, ApplicationError):
        errors = [
            {"field": f, "pointer": "#/" + f.replace(".", "/"), "code": "invalid", "detail": m}
            for f, messages in exc.errors.items()
            for m in messages
        ]
        response = Response(
            problem_body(
                slug=exc.slug,
                title=exc.title,
                status_code=exc.status,
                detail=exc.detail,
                errors=errors,
            ),
            status=exc.status,
        )
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, PermissionDenied):
            exc = exceptions.PermissionDenied()
        handled = exception_handler(exc, context)
        if handled is None:
            return None
        response = handled
        assert isinstance(exc, exceptions.APIException)
        slug, title = _slug_for(exc)
        errors = None
        if isinstance(exc, exceptions.ValidationError):
            errors = field_errors(exc.detail)
            detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors)
        elif isinstance(exc, exceptions.ParseError):
            detail = str(exc.detail)
            errors = [{"field": "body", "pointer": "#", "code": "parse_error", "detail": detail}]
        else:
            detail = str(exc.detail)
        response.data = problem_body(
            slug=slug,
            title=title,
            status_code=response.status_code,
            detail=detail,
            errors=errors,
        )
    request = context.get("request")
    if not isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _slug_for(exc: exceptions.APIException) -> tuple[str, str]:
    for cls in type(exc).__mro__:
        if cls in _DRF_SLUGS:
            return _DRF_SLUGS[cls]
    return ("error", "Error")


def _plain_problem(status_code: int, slug: str, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem_body(slug=slug, title=title, status_code=status_code, detail=detail, errors=None),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's handler404: unknown URLs answer like unknown objects."""
    return _plain_problem(status.HTTP_404_NOT_FOUND, "not-found", "Not found", "Not found.")


def server_error_view(request: HttpRequest) -> JsonResponse:
    """Django's handler500: no stack trace, no HTML, a stable body."""
    return _plain_problem(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        "server-error",
        "Internal error",
        "The server failed to answer; the error has been logged.",
    )


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's handler400, reached by requests refused before any view runs."""
    if isinstance(exception, RequestDataTooBig):
        return _plain_problem(
            413,
            "request-too-large",
            "Request body too large",
            f"The request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; "
            "send files as multipart uploads.",
        )
    return _plain_problem(400, "malformed-request", "Bad request", "The request was malformed.")


def permission_denied_view(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return _plain_problem(403, "permission-denied", "Not allowed", "Not allowed.")
