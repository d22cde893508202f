"""The one application error type, mapped to one error format (RFC 9457 problem details) by
`core.problems`. Services raise these; views never build error responses by hand."""

from typing import ClassVar

from rest_framework import exceptions


class ApplicationError(Exception):
    """A refusal the client can act on. `slug` becomes the stable problem `type`."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class FieldInvalid(ApplicationError):
    """One or more fields hold a value the domain refuses."""

    status = 400
    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={field: [message]})


class Forbidden(ApplicationError):
    """The member sees the object but may not do this to it."""

    status = 403
    slug = "permission-denied"
    title = "Not allowed"


class NotFound(ApplicationError):
    """Absent, or not visible to this member: the two are never told apart."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ApplicationError):
    status = 409
    slug = "conflict"
    title = "Conflict with the object's state"


class PreconditionFailed(ApplicationError):
    status = 412
    slug = "precondition-failed"
    title = "The object changed since you read it"


class PreconditionRequired(ApplicationError):
    status = 428
    slug = "precondition-required"
    title = "If-Match header required"


class AuthenticationLocked(exceptions.Throttled):
    """A credential presented from a locked address, or naming a locked account."""

    default_detail = (
        "Too many failed authentication attempts from this address or for this account."
    )
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."
    default_code = "authentication_locked"
    wait: int  # whole seconds until the lock ends: `check` always gives it
