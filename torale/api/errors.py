"""The one place that shapes API errors, the way FastAPI does.

Every error body is `{"detail": "..."}`; a 422 carries a list of
`{"loc": [...], "msg": "...", "type": "..."}` with pydantic's type names and messages.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response

from torale.errors import DomainError

logger = logging.getLogger(__name__)

# DRF's error codes, as pydantic names them.
_TYPE_FOR_CODE = {
    "required": "missing",
    "blank": "string_too_short",
    "min_length": "string_too_short",
    "max_length": "string_too_long",
    "invalid_choice": "literal_error",
    "not_a_dict": "dict_type",
    "invalid": "value_error",
}


class RequestValidationError(exceptions.APIException):
    """A 422 whose items are already in FastAPI's shape."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("Validation error")
        self.errors = errors


class RateLimited(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Rate limit exceeded"

    def __init__(self, decision):
        super().__init__(self.default_detail)
        self.decision = decision


def validation_items(errors: Any, loc: list[Any]) -> list[dict[str, Any]]:
    """Flatten DRF serializer errors into FastAPI items located under `loc`."""
    items: list[dict[str, Any]] = []
    if isinstance(errors, dict):
        for field, sub in errors.items():
            where = loc if field in ("non_field_errors", "__all__") else [*loc, field]
            items.extend(validation_items(sub, where))
    elif isinstance(errors, list):
        if all(isinstance(e, (str, exceptions.ErrorDetail)) for e in errors):
            for error in errors:
                code = getattr(error, "code", None) or "value_error"
                items.append(
                    {"loc": loc, "msg": str(error), "type": _TYPE_FOR_CODE.get(code, code)}
                )
        else:
            for index, sub in enumerate(errors):
                items.extend(validation_items(sub, [*loc, index]))
    else:
        items.append({"loc": loc, "msg": str(errors), "type": "value_error"})
    return items


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestValidationError):
        return Response({"detail": exc.errors}, status=422)
    if isinstance(exc, exceptions.ValidationError):
        return Response({"detail": validation_items(exc.detail, ["body"])}, status=422)
    if isinstance(exc, DomainError):
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is None:
            return Response({"detail": exc.detail}, status=exc.status_code)
        body = {"detail": exc.detail, "retry_after": retry_after}
        return Response(body, status=exc.status_code, headers={"Retry-After": str(retry_after)})
    if isinstance(exc, RateLimited):
        decision = exc.decision
        response = Response(
            {"detail": exc.default_detail, "retry_after": decision.retry_after}, status=429
        )
        response["Retry-After"] = str(decision.retry_after)
        return response
    if isinstance(exc, Http404):
        return Response({"detail": "Not Found"}, status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": "Forbidden"}, status=403)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response({"detail": detail}, status=exc.status_code, headers=headers)
    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response({"detail": "Internal Server Error"}, status=500)


API_PATH_PREFIXES = ("/api/", "/auth/")


def not_found(request, exception=None):
    """Unknown URLs under the API answer in the API's error shape; pages get the HTML 404."""
    if request.path.startswith(API_PATH_PREFIXES):
        return JsonResponse({"detail": "Not Found"}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    """A request Django refused to read (a form body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many
    fields, a bad Host): the API's error shape, or the HTML 400 page."""
    if request.path.startswith(API_PATH_PREFIXES):
        return JsonResponse({"detail": "Bad Request"}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request):
    if request.path.startswith(API_PATH_PREFIXES):
        return JsonResponse({"detail": "Internal Server Error"}, status=500)
    return defaults.server_error(request)
