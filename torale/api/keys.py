"""API key management and the caller's identity, at /auth (outside /api/v1, as the
reference's Authentication page has it)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from torale.api.fields import ObjectSerializer, StrictCharField
from torale.api.schema import responses
from torale.api.views import ToraleViewSet
from torale.models import ApiKey
from torale.services import api_key_create, api_key_revoke
from torale.timeutils import iso_utc


class ApiKeyInfoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    key_prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()

    def to_representation(self, key: ApiKey) -> dict:
        return {
            "id": str(key.id),
            "name": key.name,
            "key_prefix": key.key_prefix,
            "created_at": iso_utc(key.created_at),
            "last_used_at": iso_utc(key.last_used_at),
            "is_active": key.is_active,
        }


class ApiKeyCreateInputSerializer(ObjectSerializer):
    name = StrictCharField(min_length=1, max_length=100)


class ApiKeyCreatedSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The secret key. It is shown only this once.")
    key_info = ApiKeyInfoSerializer()


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    created_at = serializers.DateTimeField()


@extend_schema(tags=["auth"])
class ApiKeyViewSet(ToraleViewSet):
    lookup_field = "id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        summary="List your API keys", responses=responses({200: ApiKeyInfoSerializer(many=True)})
    )
    def list(self, request):
        keys = ApiKey.objects.filter(user=request.user).order_by("-created_at")
        return Response(ApiKeyInfoSerializer(keys, many=True).data)

    @extend_schema(
        summary="Create an API key (the key is shown once)",
        request=ApiKeyCreateInputSerializer,
        responses=responses({201: ApiKeyCreatedSerializer}, 422),
    )
    def create(self, request):
        serializer = ApiKeyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = api_key_create(user=request.user, name=serializer.validated_data["name"])
        return Response(
            {"key": raw, "key_info": ApiKeyInfoSerializer(key).data}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Revoke an API key",
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=responses({204: None}, 404),
    )
    def destroy(self, request, id=None):
        api_key_revoke(user=request.user, key_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class MeViewSet(ToraleViewSet):
    @extend_schema(summary="The authenticated user", responses=responses({200: MeSerializer}))
    def retrieve(self, request):
        user = request.user
        return Response(
            {
                "id": str(user.pk),
                "username": user.username,
                "email": user.email,
                "created_at": iso_utc(user.date_joined),
            }
        )
