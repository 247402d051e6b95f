"""Notifications API: met conditions, their sends, channels and the account webhook.

Thin views: an owner-scoped lookup, an input serializer, one service, an output serializer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from executions_app import notification_serializers as s
from executions_app.channels import (
    InvalidTarget,
    channel_create,
    channel_delete,
    channel_get_for_user,
    channel_list_for_user,
    channel_rotate_secret,
    channel_send_test,
    channel_update,
    task_channels_get,
    task_channels_set,
    webhook_config_get,
    webhook_config_put,
)
from executions_app.models import Channel, ChannelKind, DeliveryStatus
from executions_app.outbox import delivery_retry
from executions_app.selectors import (
    delivery_get_for_user,
    delivery_list_for_user,
    notification_list_for_task,
    notification_list_for_user,
)
from tasks_app.selectors import task_get_for_user
from torale.api.errors import RequestValidationError
from torale.api.params import page_params, query_choice, query_int, query_uuid, raise_if
from torale.api.schema import ErrorSerializer, responses
from torale.api.views import ToraleViewSet
from torale.errors import DomainError, NotFound

NO_WEBHOOK = "No webhook is configured"

TASK_ID = OpenApiParameter("task_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number (default 1)"),
    OpenApiParameter("limit", int, description="Results per page (default 20, max 100)"),
]


def _validated(serializer_class, data, **context) -> dict:
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@contextmanager
def _target_checked_as(field: str) -> Iterator[None]:
    """A target the channel services refuse is a 422 on the body field that carried it."""
    try:
        yield
    except InvalidTarget as exc:
        item = {"loc": ["body", field], "msg": str(exc), "type": "value_error"}
        raise RequestValidationError([item]) from None


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


# --- Notifications (met conditions) --------------------------------------------------------------


def _notification_page(request, runs_for) -> Response:
    page, limit, errors = page_params(request.query_params)
    raise_if(errors)
    runs = runs_for()
    total = runs.count()
    start = (page - 1) * limit
    rows = list(runs[start : start + limit]) if start < total else []
    return Response(
        {
            "notifications": s.NotificationOutputSerializer(rows, many=True).data,
            "total": total,
            "page": page,
            "limit": limit,
        }
    )


@extend_schema(tags=["notifications"])
class NotificationViewSet(ToraleViewSet):
    @extend_schema(
        summary="List the user's notifications (met conditions), newest first",
        parameters=PAGE_PARAMETERS,
        responses=responses({200: s.NotificationListOutputSerializer}, 422),
    )
    def list(self, request):
        return _notification_page(request, lambda: notification_list_for_user(user=request.user))

    @extend_schema(
        summary="List a task's notifications (met conditions), newest first",
        parameters=[TASK_ID, *PAGE_PARAMETERS],
        responses=responses({200: s.NotificationListOutputSerializer}, 403, 404, 422),
    )
    def list_for_task(self, request, task_id=None):
        return _notification_page(
            request, lambda: notification_list_for_task(task_id=task_id, user=request.user)
        )


# --- Sends ---------------------------------------------------------------------------------------


@extend_schema(tags=["notifications"])
class NotificationSendViewSet(ToraleViewSet):
    @extend_schema(
        summary="List notification sends (one per notification and channel), newest first",
        parameters=[
            OpenApiParameter("notification_type", str, enum=ChannelKind.values),
            OpenApiParameter("status", str, enum=DeliveryStatus.values),
            OpenApiParameter("task_id", OpenApiTypes.UUID, description="Only this task's"),
            OpenApiParameter("limit", int, description="Results (default 50, max 200)"),
            OpenApiParameter("offset", int, description="Results to skip (default 0)"),
        ],
        responses=responses({200: s.SendListOutputSerializer}, 403, 404, 422),
    )
    def list(self, request):
        params = request.query_params
        errors: list = []
        kind = query_choice(params, "notification_type", ChannelKind.values, errors=errors)
        send_status = query_choice(params, "status", DeliveryStatus.values, errors=errors)
        task_id = query_uuid(params, "task_id", errors=errors)
        limit = query_int(params, "limit", 50, ge=1, le=200, errors=errors)
        offset = query_int(params, "offset", 0, ge=0, errors=errors)
        raise_if(errors)
        sends = delivery_list_for_user(
            user=request.user, kind=kind, status=send_status, task_id=task_id
        )
        total = sends.count()
        rows = list(sends[offset : offset + limit]) if offset < total else []
        return Response({"sends": s.SendOutputSerializer(rows, many=True).data, "total": total})

    @extend_schema(
        summary="Get one send with its attempts",
        parameters=[ID],
        responses=responses({200: s.SendDetailOutputSerializer}, 404),
    )
    def retrieve(self, request, id=None):
        delivery = delivery_get_for_user(delivery_id=id, user=request.user)
        return Response(s.SendDetailOutputSerializer(delivery).data)

    @extend_schema(
        summary="Send a failed notification again",
        parameters=[ID],
        request=None,
        responses=responses(
            {
                202: s.SendDetailOutputSerializer,
                409: _error("Only a failed or skipped notification can be retried"),
            },
            404,
        ),
    )
    def retry(self, request, id=None):
        delivery = delivery_get_for_user(delivery_id=id, user=request.user)
        delivery = delivery_retry(delivery=delivery)
        return Response(
            s.SendDetailOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )


# --- The account webhook -------------------------------------------------------------------------


def _account_webhook(user, missing: type[DomainError]) -> Channel:
    channel = webhook_config_get(user=user)
    if channel is None:
        raise missing(NO_WEBHOOK)
    return channel


@extend_schema(tags=["webhooks"])
class WebhookConfigViewSet(ToraleViewSet):
    @extend_schema(
        summary="Get the account webhook (the signing secret is never shown here)",
        responses=responses({200: s.WebhookConfigOutputSerializer}),
    )
    def retrieve(self, request):
        channel = webhook_config_get(user=request.user)
        if channel is None:
            return Response(s.NO_WEBHOOK_CONFIG)
        return Response(s.WebhookConfigOutputSerializer(channel).data)

    @extend_schema(
        summary="Set the account webhook; the first set-up (or rotate_secret) shows the secret",
        request=s.WebhookConfigInputSerializer,
        responses=responses({200: s.WebhookConfigOutputSerializer}, 422),
    )
    def update(self, request):
        data = _validated(s.WebhookConfigInputSerializer, request.data)
        with _target_checked_as("url"):
            channel, secret = webhook_config_put(user=request.user, **data)
        return Response(s.WebhookConfigOutputSerializer(channel, context={"secret": secret}).data)

    @extend_schema(
        summary="Remove the account webhook",
        responses=responses({204: None, 404: _error(NO_WEBHOOK)}),
    )
    def destroy(self, request):
        channel = _account_webhook(request.user, NotFound)
        channel_delete(channel_id=channel.id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a sample event to the account webhook and report the answer",
        request=None,
        responses=responses({200: s.TestResultOutputSerializer, 400: _error(NO_WEBHOOK)}),
    )
    def test(self, request):
        channel = _account_webhook(request.user, DomainError)
        return Response(s.TestResultOutputSerializer(channel_send_test(channel=channel)).data)


# --- Channels ------------------------------------------------------------------------------------

CHANNEL_NOT_FOUND = _error("Channel not found")


@extend_schema(tags=["channels"])
class ChannelViewSet(ToraleViewSet):
    @extend_schema(
        summary="List the user's notification channels",
        responses=responses({200: s.ChannelListOutputSerializer}),
    )
    def list(self, request):
        channels = channel_list_for_user(user=request.user)
        return Response({"channels": s.ChannelOutputSerializer(channels, many=True).data})

    @extend_schema(
        summary="Add a channel; a webhook's signing secret is shown in this answer only",
        request=s.ChannelCreateInputSerializer,
        responses=responses({201: s.ChannelWithSecretOutputSerializer}, 422),
    )
    def create(self, request):
        data = _validated(s.ChannelCreateInputSerializer, request.data)
        with _target_checked_as("target"):
            channel, secret = channel_create(
                user=request.user,
                kind=data["type"],
                target=data["target"],
                name=data.get("name") or "",
                enabled=data["enabled"],
                is_default=data["is_default"],
            )
        return Response(
            s.ChannelWithSecretOutputSerializer(channel, context={"secret": secret}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Get a channel",
        parameters=[ID],
        responses=responses({200: s.ChannelOutputSerializer, 404: CHANNEL_NOT_FOUND}),
    )
    def retrieve(self, request, id=None):
        channel = channel_get_for_user(channel_id=id, user=request.user)
        return Response(s.ChannelOutputSerializer(channel).data)

    @extend_schema(
        summary="Update a channel (partial: only the fields sent change)",
        parameters=[ID],
        request=s.ChannelUpdateInputSerializer,
        responses=responses({200: s.ChannelOutputSerializer, 404: CHANNEL_NOT_FOUND}, 422),
    )
    def partial_update(self, request, id=None):
        changes = _validated(s.ChannelUpdateInputSerializer, request.data)
        with _target_checked_as("target"):
            channel = channel_update(channel_id=id, user=request.user, changes=changes)
        return Response(s.ChannelOutputSerializer(channel).data)

    @extend_schema(
        summary="Remove a channel (its past sends stay listed)",
        parameters=[ID],
        responses=responses(
            {
                204: None,
                400: _error(
                    "The account email cannot be removed; or the channel is the only one "
                    "some task notifies"
                ),
                404: CHANNEL_NOT_FOUND,
            }
        ),
    )
    def destroy(self, request, id=None):
        channel_delete(channel_id=id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a sample notification to a channel and report the answer",
        parameters=[ID],
        request=None,
        responses=responses({200: s.TestResultOutputSerializer, 404: CHANNEL_NOT_FOUND}),
    )
    def test(self, request, id=None):
        channel = channel_get_for_user(channel_id=id, user=request.user)
        return Response(s.TestResultOutputSerializer(channel_send_test(channel=channel)).data)

    @extend_schema(
        summary="Make a webhook's new signing secret (shown in this answer only)",
        parameters=[ID],
        request=None,
        responses=responses(
            {
                200: s.ChannelWithSecretOutputSerializer,
                400: _error("Only webhooks have a signing secret"),
                404: CHANNEL_NOT_FOUND,
            }
        ),
    )
    def rotate_secret(self, request, id=None):
        channel, secret = channel_rotate_secret(channel_id=id, user=request.user)
        return Response(
            s.ChannelWithSecretOutputSerializer(channel, context={"secret": secret}).data
        )


# --- A task's channels ---------------------------------------------------------------------------


def _task_channels(task) -> Response:
    chosen, channels = task_channels_get(task=task)
    return Response(
        {
            "uses_defaults": not chosen,
            "channels": s.ChannelOutputSerializer(channels, many=True).data,
        }
    )


@extend_schema(tags=["channels"])
class TaskChannelViewSet(ToraleViewSet):
    @extend_schema(
        summary="The channels a task notifies: its own choice, or the default channels",
        parameters=[TASK_ID],
        responses=responses({200: s.TaskChannelsOutputSerializer}, 403, 404),
    )
    def retrieve(self, request, task_id=None):
        return _task_channels(task_get_for_user(task_id=task_id, user=request.user))

    @extend_schema(
        summary="Choose a task's channels (an empty list returns it to the defaults)",
        parameters=[TASK_ID],
        request=s.TaskChannelsInputSerializer,
        responses=responses({200: s.TaskChannelsOutputSerializer}, 403, 404, 422),
    )
    def update(self, request, task_id=None):
        task = task_get_for_user(task_id=task_id, user=request.user)
        data = _validated(s.TaskChannelsInputSerializer, request.data, user=request.user)
        task_channels_set(task=task, user=request.user, channel_ids=data["channel_ids"])
        return _task_channels(task)
