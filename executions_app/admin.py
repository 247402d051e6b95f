"""Operator admin for notifications: channels and deliveries with their attempts.

Secrets (webhook signing secrets, Apprise URLs and webhook URLs, which carry tokens) are never
shown: only each channel's display form. Actions call the same services as the API.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet

from executions_app.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus
from executions_app.outbox import delivery_retry
from torale.errors import Conflict


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "role", "owner", "target_display", "enabled", "is_default")
    list_filter = ("kind", "role", "enabled", "is_default")
    search_fields = ("name", "target_display", "owner__username", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    # target and secret are encrypted secrets: not a field of this form at all.
    fields = (
        "id",
        "owner",
        "kind",
        "role",
        "name",
        "target_display",
        "enabled",
        "is_default",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("id", "owner", "kind", "role", "target_display", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        # A channel's target must pass the address checks: users add them through the API.
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "duration_ms", "outcome", "status_code", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "recipient",
        "status",
        "attempts",
        "owner",
        "task",
        "short_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("=id", "=execution__id", "=task__id", "recipient", "owner__username")
    list_select_related = ("owner", "task")
    date_hierarchy = "created_at"
    raw_id_fields = ("execution", "channel", "owner", "task")
    readonly_fields = [field.name for field in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_failed"]
    # Counting millions of rows for the paginator is slow; the list needs no exact total.
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="error")
    def short_error(self, delivery: Delivery) -> str:
        text = delivery.error_message or ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.action(description="Retry the selected failed deliveries")
    def retry_failed(self, request, queryset: QuerySet[Delivery]) -> None:
        retried = skipped = 0
        for delivery in queryset.filter(status=DeliveryStatus.FAILED):
            try:
                delivery_retry(delivery=delivery)
                retried += 1
            except Conflict:
                skipped += 1
        skipped += queryset.exclude(status=DeliveryStatus.FAILED).count()
        self.message_user(request, f"Queued {retried} deliveries again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} were not failed and were left alone.", messages.WARNING
            )
