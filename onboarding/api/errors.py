"""Errors as RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..services import StaleObjectError

PROBLEM_TYPE = "about:blank"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it."
    default_code = "precondition_failed"

    def __init__(self, changed: dict[str, dict[str, object]], etag: str):
        super().__init__()
        self.changed = changed
        self.etag = etag


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = (
        "Send If-Match with the object's ETag (from your last GET), so that a change "
        "someone made meanwhile is not overwritten."
    )
    default_code = "precondition_required"


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_field_errors(value) for value in detail]
    return str(detail)


def problem(status_code: int, title: str, detail: str = "", **extra: object) -> Response:
    body = {"type": PROBLEM_TYPE, "title": title, "status": status_code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status=status_code, content_type="application/problem+json")


def problem_details(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler, answering every error as a problem document."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, StaleObjectError):
        exc = PreconditionFailed(
            {
                name: {"yours": str(yours), "saved": str(saved)}
                for name, (yours, saved) in exc.changed.items()
            },
            etag=f'"{exc.current.version}"',
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    title = {
        400: "Invalid request",
        401: "Not signed in",
        403: "Not allowed",
        404: "Not found",
        405: "Method not allowed",
        406: "Not acceptable",
        412: "Changed since you read it",
        415: "Unsupported media type",
        428: "If-Match required",
        429: "Too many requests",
    }.get(response.status_code, "Error")
    extra: dict[str, object] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["errors"] = _field_errors(exc.detail)
        detail = "Some fields are not valid: see errors."
    else:
        detail = str(exc.detail) if hasattr(exc, "detail") else ""
    if isinstance(exc, PreconditionFailed):
        extra["changed"] = exc.changed
    body = problem(response.status_code, title, detail, **extra)
    for header, value in response.items():
        if header.lower() in ("www-authenticate", "retry-after", "allow"):
            body[header] = value
    if isinstance(exc, PreconditionFailed):
        body["ETag"] = exc.etag
    return body
