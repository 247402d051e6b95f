"""Task input validation (the reference's rules) and the task object it returns."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from tasks_app.cron import (
    INVALID_CRON,
    INVALID_TIMEZONE,
    InvalidCron,
    is_valid_timezone,
    normalize_cron,
)
from tasks_app.models import (
    NAME_MAX_LENGTH,
    SCHEDULE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TEXT_MIN_LENGTH,
    NotifyBehavior,
    Task,
    TaskState,
)
from torale.api.fields import (
    ObjectSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
)
from torale.timeutils import iso_utc


def _text_field(**kwargs) -> StrictCharField:
    return StrictCharField(min_length=TEXT_MIN_LENGTH, max_length=TEXT_MAX_LENGTH, **kwargs)


class CronField(StrictCharField):
    pydantic_types = {**StrictCharField.pydantic_types, "blank": "value_error"}

    def __init__(self, **kwargs):
        # croniter accepts expressions longer than the column (long lists of values); the
        # length is checked on the normalized expression, which is what gets stored.
        kwargs.setdefault("max_length", SCHEDULE_MAX_LENGTH)
        super().__init__(**kwargs)
        self.error_messages["blank"] = INVALID_CRON

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return normalize_cron(text)
        except InvalidCron as exc:
            raise ValidationError(str(exc), code="value_error") from None


class TimezoneField(StrictCharField):
    pydantic_types = {**StrictCharField.pydantic_types, "blank": "value_error"}

    def __init__(self, **kwargs):
        super().__init__(max_length=64, **kwargs)
        self.error_messages["blank"] = INVALID_TIMEZONE

    def to_internal_value(self, data):
        name = super().to_internal_value(data)
        if not is_valid_timezone(name):
            raise ValidationError(INVALID_TIMEZONE, code="value_error")
        return name


class TaskCreateInputSerializer(ObjectSerializer):
    name = StrictCharField(required=False, allow_null=True, max_length=NAME_MAX_LENGTH)
    search_query = _text_field()
    condition_description = _text_field()
    schedule = CronField()
    notify_behavior = StrictChoiceField(
        choices=NotifyBehavior.values, required=False, default=NotifyBehavior.ONCE
    )
    timezone = TimezoneField(required=False, default="UTC")
    run_immediately = StrictBooleanField(required=False, default=False)


class TaskUpdateInputSerializer(ObjectSerializer):
    """Every field optional; only the fields sent are changed."""

    name = StrictCharField(required=False, max_length=NAME_MAX_LENGTH)
    search_query = _text_field(required=False)
    condition_description = _text_field(required=False)
    schedule = CronField(required=False)
    notify_behavior = StrictChoiceField(choices=NotifyBehavior.values, required=False)
    timezone = TimezoneField(required=False)
    state = StrictChoiceField(choices=TaskState.values, required=False)
    # The reference's advice "set is_active: false" to pause: an alias of `state`.
    is_active = StrictBooleanField(
        required=False, write_only=True, help_text="false pauses the task, true resumes it"
    )

    def validate(self, attrs: dict) -> dict:
        if "is_active" not in attrs:
            return attrs
        state = TaskState.ACTIVE if attrs.pop("is_active") else TaskState.PAUSED
        if attrs.setdefault("state", state) != state:
            raise serializers.ValidationError({"is_active": f"contradicts state {attrs['state']}"})
        return attrs


class LastExecutionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    condition_met = serializers.BooleanField(allow_null=True)
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class LastKnownStateSerializer(serializers.Serializer):
    answer = serializers.CharField()
    timestamp = serializers.DateTimeField()


class TaskOutputSerializer(serializers.Serializer):
    """The reference's Task object. The fields document the schema; to_representation builds
    the dict directly because this serializer sits on the hottest paths of the API."""

    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    name = serializers.CharField()
    search_query = serializers.CharField()
    condition_description = serializers.CharField()
    schedule = serializers.CharField()
    timezone = serializers.CharField(help_text="IANA zone in which the schedule is read")
    notify_behavior = serializers.ChoiceField(choices=NotifyBehavior.values)
    state = serializers.ChoiceField(choices=TaskState.values)
    last_known_state = LastKnownStateSerializer(allow_null=True)
    last_execution_id = serializers.UUIDField(allow_null=True)
    last_execution = LastExecutionSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, task: Task) -> dict:
        last = task.last_execution
        return {
            "id": str(task.id),
            "user_id": str(task.owner_id),
            "name": task.name,
            "search_query": task.search_query,
            "condition_description": task.condition_description,
            "schedule": task.schedule,
            "timezone": task.timezone,
            "notify_behavior": task.notify_behavior,
            "state": task.state,
            "last_known_state": task.last_known_state,
            "last_execution_id": str(task.last_execution_id) if task.last_execution_id else None,
            "last_execution": None
            if last is None
            else {
                "id": str(last.id),
                "condition_met": last.condition_met,
                "status": last.status,
                "started_at": iso_utc(last.started_at),
                "completed_at": iso_utc(last.completed_at),
            },
            "created_at": iso_utc(task.created_at),
            "updated_at": iso_utc(task.updated_at),
        }


@extend_schema_serializer(many=False)  # an object, though its view is a `list`
class TaskListOutputSerializer(serializers.Serializer):
    tasks = TaskOutputSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()


class ExecuteOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    execution_id = serializers.UUIDField()


class PreviewInputSerializer(ObjectSerializer):
    search_query = _text_field()
    condition_description = _text_field()


class GroundingSourceSerializer(serializers.Serializer):
    uri = serializers.CharField()
    title = serializers.CharField(allow_blank=True)


class PreviewOutputSerializer(serializers.Serializer):
    condition_met = serializers.BooleanField()
    answer = serializers.CharField()
    reasoning = serializers.CharField()
    grounding_sources = GroundingSourceSerializer(many=True)


class SuggestCurrentTaskSerializer(ObjectSerializer):
    """Context for a refinement; lenient, since it is only a hint to the model."""

    name = StrictCharField(required=False, allow_blank=True, max_length=NAME_MAX_LENGTH)
    search_query = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    condition_description = StrictCharField(
        required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH
    )
    schedule = StrictCharField(required=False, allow_blank=True, max_length=200)
    notify_behavior = StrictChoiceField(choices=NotifyBehavior.values, required=False)


class SuggestInputSerializer(ObjectSerializer):
    prompt = StrictCharField(min_length=1, max_length=2000)
    current_task = SuggestCurrentTaskSerializer(required=False, allow_null=True)


class SuggestOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    search_query = serializers.CharField()
    condition_description = serializers.CharField()
    schedule = serializers.CharField()
    notify_behavior = serializers.ChoiceField(choices=NotifyBehavior.values)
