"""An execution: one search-and-evaluate run of a task, and everything it produced."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


IN_FLIGHT_STATUSES = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.RETRYING)


class ExecutionTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Manual"
    IMMEDIATE = "immediate", "Immediate"


class Execution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey("tasks_app.Task", on_delete=models.CASCADE, related_name="executions")
    trigger = models.CharField(max_length=10, choices=ExecutionTrigger.choices)
    # The cron slot this run belongs to; null for manual and immediate runs.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    condition_met = models.BooleanField(null=True, blank=True)
    answer = models.TextField(blank=True, default="")
    reasoning = models.TextField(blank=True, default="")
    grounding_sources = models.JSONField(default=list, blank=True)
    notified = models.BooleanField(default=False)
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: no error)
    attempts = models.PositiveIntegerField(default=0)
    # When a `retrying` run may be tried again.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Until when the worker that claimed this run owns it. Past it, the reaper gives the run
    # to another worker (or fails it): a worker that died never leaves a run hanging.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # One entry per failed attempt that was retried: {"attempt", "error", "at"}.
    attempt_errors = models.JSONField(default=list, blank=True)
    model_name = models.CharField(max_length=100, blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A cron slot runs once, however many times beat publishes it.
            models.UniqueConstraint(
                fields=["task", "scheduled_for"],
                condition=Q(scheduled_for__isnull=False),
                name="execution_one_per_slot",
            ),
        ]
        indexes = [
            # A task's history, newest first (GET /tasks/{id}/executions).
            models.Index(fields=["task", "-created_at", "-id"], name="execution_task_created"),
            # Runs still in flight: the 409 check on execute and the reaper's scan.
            models.Index(
                fields=["status", "updated_at"],
                condition=Q(status__in=["pending", "running", "retrying"]),
                name="execution_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.trigger} {self.status}"

    @property
    def result(self) -> dict | None:
        if self.status != ExecutionStatus.SUCCESS:
            return None
        return {
            "answer": self.answer,
            "reasoning": self.reasoning,
            "condition_met": self.condition_met,
        }

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES
