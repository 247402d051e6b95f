"""The execution object of companion-apis.md."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from executions_app.models import Execution, ExecutionStatus, ExecutionTrigger
from tasks_app.serializers import GroundingSourceSerializer
from torale.timeutils import iso_utc


class ExecutionResultSerializer(serializers.Serializer):
    answer = serializers.CharField()
    reasoning = serializers.CharField()
    condition_met = serializers.BooleanField()


class RetrySerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    error = serializers.CharField()
    at = serializers.DateTimeField()


class ExecutionOutputSerializer(serializers.Serializer):
    """Fields document the schema; to_representation builds the dict directly (list pages)."""

    id = serializers.UUIDField()
    task_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ExecutionStatus.values)
    trigger = serializers.ChoiceField(choices=ExecutionTrigger.values)
    scheduled_for = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    condition_met = serializers.BooleanField(allow_null=True)
    result = ExecutionResultSerializer(allow_null=True)
    grounding_sources = GroundingSourceSerializer(many=True)
    notified = serializers.BooleanField()
    error_message = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    retries = RetrySerializer(many=True, help_text="Failed attempts that were retried")
    created_at = serializers.DateTimeField()

    def to_representation(self, execution: Execution) -> dict:
        success = execution.status == ExecutionStatus.SUCCESS
        return {
            "id": str(execution.id),
            "task_id": str(execution.task_id),
            "status": execution.status,
            "trigger": execution.trigger,
            "scheduled_for": iso_utc(execution.scheduled_for),
            "started_at": iso_utc(execution.started_at),
            "completed_at": iso_utc(execution.completed_at),
            "condition_met": execution.condition_met if success else None,
            "result": execution.result,
            "grounding_sources": execution.grounding_sources or [],
            "notified": execution.notified,
            "error_message": execution.error_message
            if execution.status == ExecutionStatus.FAILED
            else None,
            "attempts": execution.attempts,
            "retries": execution.attempt_errors or [],
            "created_at": iso_utc(execution.created_at),
        }


@extend_schema_serializer(many=False)  # an object, though its view is a `list`
class ExecutionListOutputSerializer(serializers.Serializer):
    executions = ExecutionOutputSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
