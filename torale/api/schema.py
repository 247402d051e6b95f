"""OpenAPI pieces shared by every endpoint: the error bodies and the Bearer scheme."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ToraleAutoSchema(AutoSchema):
    def map_parsers(self) -> list[str]:
        # The parser reads every body as JSON whatever its Content-Type (`*/*`), so that
        # `curl -d` works; what clients should send, and generators should know, is JSON.
        return ["application/json"]


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorItemSerializer(serializers.Serializer):
    loc = serializers.ListField(
        child=serializers.JSONField(), help_text='e.g. ["body", "schedule"]'
    )
    msg = serializers.CharField()
    type = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    detail = ValidationErrorItemSerializer(many=True)


class RateLimitErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(default="Rate limit exceeded")
    retry_after = serializers.IntegerField()


_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid state transition"),
    401: OpenApiResponse(
        ErrorSerializer, description="Authorization header missing / Invalid API key"
    ),
    403: OpenApiResponse(ErrorSerializer, description="Not authorized to access this task"),
    404: OpenApiResponse(ErrorSerializer, description="Not found"),
    409: OpenApiResponse(ErrorSerializer, description="A run of this task is already in flight"),
    422: OpenApiResponse(ValidationErrorSerializer, description="Validation error"),
    429: OpenApiResponse(RateLimitErrorSerializer, description="Rate limit exceeded"),
    502: OpenApiResponse(ErrorSerializer, description="The search provider failed"),
    503: OpenApiResponse(ErrorSerializer, description="No search provider available"),
    504: OpenApiResponse(ErrorSerializer, description="The search provider timed out"),
}


def responses(ok: dict, *error_codes: int) -> dict:
    """`ok` plus the common 401/429 and the given error codes."""
    out = dict(ok)
    for code in (401, 429, *error_codes):
        out[code] = _ERRORS[code]
    return out


def empty(name: str):
    return inline_serializer(name=name, fields={})


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "torale.api.authentication.ApiKeyOrSessionAuthentication"
    name = ["ApiKeyAuth", "SessionAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "sk_...",
                "description": "An API key: `Authorization: Bearer sk_...`",
            },
            {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        ]
