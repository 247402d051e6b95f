"""A task: what a user watches for, how often, and what happened last time."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.timezone import now as utc_now

from torale.errors import InvalidStateTransition


class TaskState(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


class NotifyBehavior(models.TextChoices):
    ONCE = "once", "Once"
    ALWAYS = "always", "Always"


# The only state changes a user or a run may make (companion-apis.md).
ALLOWED_TRANSITIONS = {
    (TaskState.ACTIVE, TaskState.PAUSED),
    (TaskState.PAUSED, TaskState.ACTIVE),
    (TaskState.ACTIVE, TaskState.COMPLETED),
    (TaskState.COMPLETED, TaskState.ACTIVE),
}

NAME_MAX_LENGTH = 200
TEXT_MIN_LENGTH = 10
TEXT_MAX_LENGTH = 500
SCHEDULE_MAX_LENGTH = 100


class Task(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks"
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    search_query = models.CharField(max_length=TEXT_MAX_LENGTH)
    condition_description = models.CharField(max_length=TEXT_MAX_LENGTH)
    schedule = models.CharField(max_length=SCHEDULE_MAX_LENGTH, help_text="Cron expression")
    notify_behavior = models.CharField(
        max_length=10, choices=NotifyBehavior.choices, default=NotifyBehavior.ONCE
    )
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.ACTIVE)
    # IANA zone in which the cron expression is read (DST included).
    timezone = models.CharField(max_length=64, default="UTC")
    # The next cron instant (UTC) while active, else null. The scheduler dispatches rows whose
    # next_run_at has passed, so its work per tick is proportional to what is due.
    next_run_at = models.DateTimeField(null=True, blank=True)
    # The django-celery-beat mirror of this task's schedule. The Task is the source of truth:
    # an operator deleting the PeriodicTask leaves the Task intact and the next sync recreates it.
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="torale_task",
    )
    # {"answer": ..., "timestamp": ...} of the newest successful run; the evaluator reads it
    # so that old news is not reported as new.
    last_known_state = models.JSONField(null=True, blank=True)
    last_execution = models.ForeignKey(
        "executions_app.Execution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=utc_now, editable=False)
    updated_at = models.DateTimeField(default=utc_now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The task list: one owner's tasks, newest first (GET /tasks).
            models.Index(fields=["owner", "-created_at", "-id"], name="task_owner_created"),
            # The same list filtered by state (?active=true / false).
            models.Index(
                fields=["owner", "state", "-created_at", "-id"], name="task_owner_state_created"
            ),
            # The scheduler's tick: active tasks whose next cron instant has passed.
            models.Index(
                fields=["next_run_at"],
                condition=models.Q(state="active"),
                name="task_due",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def transition_to(self, new_state: str) -> bool:
        """Move to `new_state`; returns False when already there.

        Raises InvalidStateTransition for a change the state machine does not allow.
        The caller saves, inside the transaction that locked the row.
        """
        current = TaskState(self.state)
        target = TaskState(new_state)
        if current == target:
            return False
        if (current, target) not in ALLOWED_TRANSITIONS:
            raise InvalidStateTransition(current.value, target.value)
        self.state = target.value
        return True

    @property
    def is_active(self) -> bool:
        return self.state == TaskState.ACTIVE
