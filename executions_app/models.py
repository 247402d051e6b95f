"""An execution: one search-and-evaluate run of a task, and everything it produced."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from torale.crypto import EncryptedTextField


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
            # Every run, newest first: the admin's list and its date drill-down.
            models.Index(fields=["-created_at", "-id"], name="execution_created"),
            # Runs still in flight: the 409 check on execute and the reaper's scan.
            models.Index(
                fields=["status", "updated_at"],
                condition=Q(status__in=["pending", "running", "retrying"]),
                name="execution_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.trigger}, {self.status})"

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


# --- Notifications ---------------------------------------------------------------------------


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    APPRISE = "apprise", "Apprise"


class ChannelRole(models.TextChoices):
    """The two channels every account can have, found by role; the others are the user's own."""

    NONE = "", "Added by the user"
    ACCOUNT_EMAIL = "account_email", "Account email"
    ACCOUNT_WEBHOOK = "account_webhook", "Account webhook"


class Channel(models.Model):
    """Where a user's notifications go: an email address, a webhook or an Apprise URL.

    A task sends to the channels it selected (TaskChannel), or, when it selected none, to its
    owner's enabled default channels: the account email unless the user changed that.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_channels"
    )
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    role = models.CharField(max_length=20, choices=ChannelRole.choices, blank=True, default="")
    name = models.CharField(max_length=100)
    # email: the address ("" for the account email: the user's address at send time);
    # webhook: the URL; apprise: the Apprise URL. Encrypted: URLs often carry tokens.
    target = EncryptedTextField(blank=True, default="")
    # What lists and logs show of the target: never a token.
    target_display = models.CharField(max_length=300, blank=True, default="")
    # Webhooks: the `whsec_...` signing secret, shown to its owner once.
    secret = EncryptedTextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "role"], condition=~Q(role=""), name="channel_one_per_role"
            ),
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="channel_owner_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def recipient(self) -> str:
        """Where it sends, as users may see it (reads `owner` for the account email)."""
        if self.role == ChannelRole.ACCOUNT_EMAIL:
            return self.owner.email
        return self.target_display


class TaskChannel(models.Model):
    """A task's own choice of channels; a task with none uses its owner's defaults."""

    task = models.ForeignKey(
        "tasks_app.Task", on_delete=models.CASCADE, related_name="channel_choices"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="task_choices")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "channel"], name="task_channel_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} -> {self.channel_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Retrying"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # Not attempted: the owner's daily notification limit was reached.
    SKIPPED = "skipped", "Skipped"


DELIVERY_OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING)


class Delivery(models.Model):
    """The outbox: one notification of one execution to one channel, sent exactly once.

    Created in the transaction that records the met condition; its id is the idempotency key
    receivers see (webhook `id` and `webhook-id`, the email's Message-ID).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="deliveries")
    # Null once the channel is removed: the history of what was sent stays.
    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    # Denormalised from the execution, so the user's send list needs no join.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    task = models.ForeignKey("tasks_app.Task", on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # The channel's target as shown to users (an address, a URL without its secrets).
    recipient = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Attempts allowed in all; an operator's "retry" of a failed delivery raises it.
    attempt_limit = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: no error)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "channel"], name="delivery_one_per_execution_channel"
            ),
        ]
        indexes = [
            # The user's sends, newest first (GET /notifications/sends), and the daily cap.
            models.Index(fields=["owner", "-created_at", "-id"], name="delivery_owner_created"),
            models.Index(fields=["task", "-created_at", "-id"], name="delivery_task_created"),
            # Every delivery, newest first: the admin's list.
            models.Index(fields=["-created_at", "-id"], name="delivery_created"),
            # Deliveries still open: the reaper's scan.
            models.Index(
                fields=["status", "updated_at"],
                condition=Q(status__in=["pending", "sending", "retrying"]),
                name="delivery_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"


class AttemptOutcome(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SENT = "sent", "Sent"
    RETRY = "retry", "Failed, will retry"
    FAILED = "failed", "Failed"
    # The worker stopped mid-send; whether the receiver got it is unknown.
    INTERRUPTED = "interrupted", "Interrupted"


class DeliveryAttempt(models.Model):
    """One try of a delivery: recorded when it starts, completed when it ends."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=AttemptOutcome.choices, default=AttemptOutcome.IN_PROGRESS
    )
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: no error)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"
