"""TAXII error messages (TAXII 2.1 §3.6.1), the one error format of `/taxii2/`.

DIX's REST API answers `application/problem+json`; TAXII clients expect the TAXII error
resource in `application/taxii+json;version=2.1` instead, so the TAXII views render their own.
"""

from typing import Any, ClassVar

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import AuthenticationLocked


class TaxiiError(Exception):
    """A refusal rendered as a TAXII error message. `error_code` is DIX's stable name for it
    (listed in docs/taxii.md)."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    error_code: ClassVar[str] = "bad-request"

    def __init__(self, description: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details = details or {}


class InvalidParameter(TaxiiError):
    status = 400
    title = "Invalid parameter"
    error_code = "invalid-parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}", details={"parameter": parameter})


class NotFound(TaxiiError):
    """Absent, or not visible to this member: the two are never told apart."""

    status = 404
    title = "Not found"
    error_code = "not-found"


class ReadOnly(TaxiiError):
    """TAXII 2.1 §5.5/§5.7: a collection the client may read but not write answers 403."""

    status = 403
    title = "Collection is read-only"
    error_code = "read-only"


def error_body(
    *, status: int, title: str, description: str, error_code: str, details: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "error_code": error_code,
        # §3.6.1: a string, equal to the HTTP status of the response.
        "http_status": str(status),
    }
    if details:
        body["details"] = details
    return body


# DRF's own exceptions, named as TAXII errors: (title, error_code).
_DRF_ERRORS: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotAuthenticated: ("Authentication required", "not-authenticated"),
    exceptions.AuthenticationFailed: ("Authentication failed", "authentication-failed"),
    exceptions.PermissionDenied: ("Not allowed", "permission-denied"),
    exceptions.NotFound: ("Not found", "not-found"),
    exceptions.MethodNotAllowed: ("Method not allowed", "method-not-allowed"),
    exceptions.NotAcceptable: ("Not acceptable", "not-acceptable"),
    exceptions.UnsupportedMediaType: ("Unsupported media type", "unsupported-media-type"),
    exceptions.ParseError: ("Malformed request", "malformed-request"),
    exceptions.Throttled: ("Too many requests", "rate-limited"),
    AuthenticationLocked: ("Too many failed authentication attempts", "authentication-locked"),
}


def taxii_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The TAXII views' exception handler: DRF's headers (`WWW-Authenticate`, `Retry-After`,
    `Allow`) with a TAXII error message as the body. Anything else is left to Django's
    handler500 (logged, no details leaked)."""
    if isinstance(exc, TaxiiError):
        return Response(
            error_body(
                status=exc.status,
                title=exc.title,
                description=exc.description,
                error_code=exc.error_code,
                details=exc.details,
            ),
            status=exc.status,
        )
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    title, code = next(
        (_DRF_ERRORS[cls] for cls in type(exc).__mro__ if cls in _DRF_ERRORS),
        ("Error", "error"),
    )
    response.data = error_body(
        status=response.status_code,
        title=title,
        description=_text(exc.detail),
        error_code=code,
        details={},
    )
    return response


def _text(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(_text(v) for v in detail)
    return str(detail)
