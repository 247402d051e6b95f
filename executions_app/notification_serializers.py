"""Notifications, sends (deliveries), channels and the account webhook, as the API shows them.

Output serializers declare their fields for the schema and build the dict directly (as the
execution serializer does). A channel never shows its target or signing secret: only its
`recipient` (the display form); the secret appears once, in the answer that created it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from executions_app.channels import TestResult
from executions_app.models import (
    AttemptOutcome,
    Channel,
    ChannelKind,
    ChannelRole,
    Delivery,
    DeliveryStatus,
    Execution,
)
from tasks_app.serializers import GroundingSourceSerializer
from torale.api.fields import (
    ObjectSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictListField,
    StrictUUIDField,
)
from torale.timeutils import iso_utc

CHANNEL_NAME_MAX_LENGTH = Channel._meta.get_field("name").max_length
TASK_CHANNELS_MAX = 50

# --- Notifications (runs whose condition was met) ------------------------------------------------


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The execution's id")
    task_id = serializers.UUIDField()
    task_name = serializers.CharField()
    condition_met = serializers.BooleanField()
    answer = serializers.CharField()
    reasoning = serializers.CharField()
    grounding_sources = GroundingSourceSerializer(many=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, execution: Execution) -> dict:
        return {
            "id": str(execution.id),
            "task_id": str(execution.task_id),
            "task_name": execution.task.name,
            "condition_met": bool(execution.condition_met),
            "answer": execution.answer,
            "reasoning": execution.reasoning,
            "grounding_sources": execution.grounding_sources or [],
            "created_at": iso_utc(execution.created_at),
        }


@extend_schema_serializer(many=False)  # an object, though its view is a `list`
class NotificationListOutputSerializer(serializers.Serializer):
    notifications = NotificationOutputSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()


# --- Sends (deliveries) --------------------------------------------------------------------------


class SendOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    task_id = serializers.UUIDField()
    execution_id = serializers.UUIDField()
    recipient = serializers.CharField(help_text="The address or URL, without its secrets")
    notification_type = serializers.ChoiceField(choices=ChannelKind.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    error_message = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, delivery: Delivery) -> dict:
        return {
            "id": str(delivery.id),
            "user_id": str(delivery.owner_id),
            "task_id": str(delivery.task_id),
            "execution_id": str(delivery.execution_id),
            "recipient": delivery.recipient,
            "notification_type": delivery.kind,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "error_message": delivery.error_message,
            "created_at": iso_utc(delivery.created_at),
        }


@extend_schema_serializer(many=False)  # an object, though its view is a `list`
class SendListOutputSerializer(serializers.Serializer):
    sends = SendOutputSerializer(many=True)
    total = serializers.IntegerField()


class AttemptOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField(allow_null=True)
    outcome = serializers.ChoiceField(choices=AttemptOutcome.choices)
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class SendDetailOutputSerializer(SendOutputSerializer):
    channel_id = serializers.UUIDField(allow_null=True, help_text="Null once it was removed")
    sent_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    attempt_log = AttemptOutputSerializer(many=True)

    def to_representation(self, delivery: Delivery) -> dict:
        return {
            **super().to_representation(delivery),
            "channel_id": str(delivery.channel_id) if delivery.channel_id else None,
            "sent_at": iso_utc(delivery.sent_at),
            "next_attempt_at": iso_utc(delivery.next_attempt_at),
            "attempt_log": [
                {
                    "number": attempt.number,
                    "started_at": iso_utc(attempt.started_at),
                    "duration_ms": attempt.duration_ms,
                    "outcome": attempt.outcome,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                }
                for attempt in delivery.attempt_log.all()
            ],
        }


# --- Channels ------------------------------------------------------------------------------------

ROLES = [role for role in ChannelRole.values if role]


class ChannelOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=ChannelKind.choices)
    role = serializers.ChoiceField(
        choices=ROLES,
        allow_null=True,
        help_text="The account's own channels; null for channels the user added",
    )
    name = serializers.CharField()
    recipient = serializers.CharField(help_text="The address or URL, without its secrets")
    enabled = serializers.BooleanField()
    is_default = serializers.BooleanField(help_text="Used by tasks that chose no channels")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, channel: Channel) -> dict:
        return {
            "id": str(channel.id),
            "type": channel.kind,
            "role": channel.role or None,
            "name": channel.name,
            "recipient": channel.recipient,
            "enabled": channel.enabled,
            "is_default": channel.is_default,
            "created_at": iso_utc(channel.created_at),
            "updated_at": iso_utc(channel.updated_at),
        }


class ChannelWithSecretOutputSerializer(ChannelOutputSerializer):
    """A channel and, in context["secret"], the signing secret just made (else null)."""

    secret = serializers.CharField(
        allow_null=True,
        help_text="Webhooks: the whsec_... signing secret. Shown only in this answer; "
        "null for other types",
    )

    def to_representation(self, channel: Channel) -> dict:
        return {**super().to_representation(channel), "secret": self.context.get("secret")}


@extend_schema_serializer(many=False)  # an object, though its view is a `list`
class ChannelListOutputSerializer(serializers.Serializer):
    channels = ChannelOutputSerializer(many=True)


class ChannelCreateInputSerializer(ObjectSerializer):
    type = StrictChoiceField(choices=ChannelKind.choices)
    target = StrictCharField(
        help_text="email: an address; webhook: an https URL; apprise: an Apprise URL"
    )
    name = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=CHANNEL_NAME_MAX_LENGTH,
        help_text="Defaults to the recipient",
    )
    enabled = StrictBooleanField(required=False, default=True)
    is_default = StrictBooleanField(required=False, default=False)


class ChannelUpdateInputSerializer(ObjectSerializer):
    """Every field optional; only the fields sent are changed."""

    name = StrictCharField(required=False, max_length=CHANNEL_NAME_MAX_LENGTH)
    enabled = StrictBooleanField(required=False)
    is_default = StrictBooleanField(required=False)
    target = StrictCharField(required=False, help_text="Not for the account email")


class TestResultOutputSerializer(serializers.Serializer):
    __test__ = False  # not a pytest test class

    success = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    duration_ms = serializers.IntegerField()
    response = serializers.CharField(help_text="The start of the receiver's answer")

    def to_representation(self, result: TestResult) -> dict:
        return {
            "success": result.success,
            "status_code": result.status_code,
            "error": result.error,
            "duration_ms": result.duration_ms,
            "response": result.response,
        }


# --- The account webhook -------------------------------------------------------------------------


class WebhookConfigOutputSerializer(serializers.Serializer):
    """The account webhook and, in context["secret"], the secret just made (else null)."""

    url = serializers.CharField(
        allow_null=True, help_text="Without credentials or query string; null when none is set"
    )
    enabled = serializers.BooleanField()
    secret = serializers.CharField(
        allow_null=True,
        help_text="The whsec_... signing secret, only in the answer that created or rotated it",
    )

    def to_representation(self, channel: Channel) -> dict:
        secret = self.context.get("secret")
        return {"url": channel.recipient, "enabled": channel.enabled, "secret": secret}


# GET /webhooks/config when none is set.
NO_WEBHOOK_CONFIG = {"url": None, "enabled": False, "secret": None}


class WebhookConfigInputSerializer(ObjectSerializer):
    url = StrictCharField(help_text="An https URL")
    enabled = StrictBooleanField(required=False, default=True)
    rotate_secret = StrictBooleanField(
        required=False, default=False, help_text="Make a new signing secret (shown once)"
    )


# --- A task's channels ---------------------------------------------------------------------------


class TaskChannelsOutputSerializer(serializers.Serializer):
    uses_defaults = serializers.BooleanField(
        help_text="True when the task chose no channels and notifies the default ones"
    )
    channels = ChannelOutputSerializer(many=True)


class TaskChannelsInputSerializer(ObjectSerializer):
    """`channel_ids` must be the caller's channels (pass context={"user": ...})."""

    channel_ids = StrictListField(
        child=StrictUUIDField(),
        max_items=TASK_CHANNELS_MAX,
        help_text=f"At most {TASK_CHANNELS_MAX}; an empty list returns the task to the defaults",
    )

    def validate_channel_ids(self, ids: list) -> list:
        owned = set(
            Channel.objects.filter(owner=self.context["user"], pk__in=ids).values_list(
                "pk", flat=True
            )
        )
        errors = {
            index: [ErrorDetail("Channel not found", code="value_error")]
            for index, pk in enumerate(ids)
            if pk not in owned
        }
        if errors:
            raise ValidationError(errors)
        return ids
