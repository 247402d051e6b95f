"""Operator admin for runs and notifications: executions (read-only history), channels and
deliveries with their attempts.

Secrets (webhook signing secrets, Apprise URLs and webhook URLs, which carry tokens) are never
shown: only each channel's display form. Actions call the same services as the API. The lists
use the estimated-count paginator: these tables grow by millions of rows.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from executions_app.channels import channel_delete_refusal
from executions_app.models import (
    Channel,
    ChannelRole,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Execution,
)
from executions_app.outbox import delivery_retry
from torale.admin import (
    SelectedObjectFilter,
    UuidSearchMixin,
    admin_change_url,
    admin_changelist_url,
)
from torale.admin_paginators import EstimatedCountPaginator
from torale.errors import Conflict
from torale.templatetags.pages import http_url


class TaskFilter(SelectedObjectFilter):
    title = "task"
    parameter_name = "task"
    related_model = "tasks_app.Task"
    field_path = "task_id"


class ExecutionOwnerFilter(SelectedObjectFilter):
    title = "owner"
    parameter_name = "owner"
    related_model = "torale.User"
    field_path = "task__owner_id"


class DeliveryOwnerFilter(SelectedObjectFilter):
    title = "owner"
    parameter_name = "owner"
    related_model = "torale.User"
    field_path = "owner_id"


# The large columns a list row never shows.
_EXECUTION_BULK = (
    "answer",
    "reasoning",
    "grounding_sources",
    "attempt_errors",
    "error_message",
    "task__last_known_state",
)


class ExecutionChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None) -> QuerySet[Execution]:
        return super().get_queryset(request, exclude_parameters).defer(*_EXECUTION_BULK)


@admin.register(Execution)
class ExecutionAdmin(UuidSearchMixin, admin.ModelAdmin):
    """Runs are history written by the workers: nothing here adds, changes or deletes one
    (a task's runs go with the task)."""

    list_display = (
        "created_at",
        "task_link",
        "owner_link",
        "trigger",
        "status",
        "condition_met",
        "attempts",
        "started_at",
        "completed_at",
    )
    list_filter = ("status", "trigger", "condition_met", TaskFilter, ExecutionOwnerFilter)
    uuid_search_fields = ("id", "task_id")
    search_help_text = "An execution's exact id, or a task's."
    date_hierarchy = "created_at"
    list_select_related = ("task", "task__owner")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "task_link",
                    "owner_link",
                    "trigger",
                    "scheduled_for",
                    "status",
                    "condition_met",
                    "notified",
                    "deliveries_link",
                )
            },
        ),
        ("Result", {"fields": ("answer", "reasoning", "sources", "error_message")}),
        (
            "Attempts",
            {
                "fields": (
                    "attempts",
                    "retries",
                    "started_at",
                    "completed_at",
                    "next_attempt_at",
                    "lease_expires_at",
                )
            },
        ),
        (
            "Model",
            {"fields": ("model_name", "prompt_tokens", "output_tokens", "total_tokens")},
        ),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (
        *(field.name for field in Execution._meta.fields),
        "task_link",
        "owner_link",
        "deliveries_link",
        "sources",
        "retries",
    )

    def get_changelist(self, request, **kwargs):
        return ExecutionChangeList

    def get_queryset(self, request) -> QuerySet[Execution]:
        return super().get_queryset(request).select_related("task", "task__owner")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj: Execution | None = None) -> bool:
        return False

    def has_delete_permission(self, request, obj: Execution | None = None) -> bool:
        return False

    @admin.display(description="task", ordering="task__name")
    def task_link(self, execution: Execution) -> str:
        return format_html('<a href="{}">{}</a>', admin_change_url(execution.task), execution.task)

    @admin.display(description="owner")
    def owner_link(self, execution: Execution) -> str:
        owner = execution.task.owner
        return format_html(
            '<a href="{}" title="Executions of this owner\'s tasks">{}</a>',
            admin_changelist_url(Execution, owner=owner.pk),
            owner,
        )

    @admin.display(description="notifications")
    def deliveries_link(self, execution: Execution) -> str:
        return format_html(
            '<a href="{}">Notifications of this run</a>',
            admin_changelist_url(Delivery, execution__id__exact=execution.pk),
        )

    @admin.display(description="sources")
    def sources(self, execution: Execution) -> str:
        """The grounding sources; model output, so only http(s) URLs become links."""
        rows = []
        for source in execution.grounding_sources or []:
            uri = str(source.get("uri", "")) if isinstance(source, dict) else str(source)
            title = str(source.get("title", "")) if isinstance(source, dict) else ""
            rows.append((http_url(uri), title or uri, uri))
        if not rows:
            return "—"
        items = format_html_join(
            "",
            "<li>{}</li>",
            (
                (
                    format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', url, text)
                    if url
                    else format_html("{} ({})", text, uri),
                )
                for url, text, uri in rows
            ),
        )
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="retries")
    def retries(self, execution: Execution) -> str:
        """The attempts that failed and were retried (the API's `retries`)."""
        entries = [entry for entry in execution.attempt_errors or [] if isinstance(entry, dict)]
        if not entries:
            return "—"
        items = format_html_join(
            "",
            "<li>attempt {} at {}: {}</li>",
            ((e.get("attempt", "?"), e.get("at", "?"), e.get("error", "")) for e in entries),
        )
        return format_html("<ul>{}</ul>", items)


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

    def has_delete_permission(self, request, obj: Channel | None = None) -> bool:
        if obj is not None and obj.role == ChannelRole.ACCOUNT_EMAIL:
            return False  # the account email is disabled, never removed
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        # The service's rules hold here too: a channel some task notifies alone stays.
        channel = self.get_object(request, object_id)
        if (
            channel is not None
            and request.method == "POST"
            and self.has_delete_permission(request, channel)
        ):
            with transaction.atomic():
                refusal = channel_delete_refusal(channel)
                if refusal is None:
                    return super().delete_view(request, object_id, extra_context)
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(admin_change_url(channel))
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        # Bulk delete would bypass those rules (and report every row deleted): one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "duration_ms", "outcome", "status_code", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(UuidSearchMixin, admin.ModelAdmin):
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
    list_filter = ("status", "kind", TaskFilter, DeliveryOwnerFilter)
    search_fields = ("recipient", "owner__username")
    uuid_search_fields = ("id", "execution_id", "task_id")
    search_help_text = "Recipient or owner's username; or the exact id of a delivery, run or task."
    list_select_related = ("owner", "task")
    date_hierarchy = "created_at"
    raw_id_fields = ("execution", "channel", "owner", "task")
    readonly_fields = [field.name for field in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_failed"]
    # Counting millions of rows for the paginator is slow; the list needs no exact total.
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    # A delivery is the record of what was sent: nobody edits or deletes it. Retrying one
    # (an action) needs the model's change permission.
    def has_change_permission(self, request, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request, obj: Delivery | None = None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description="error")
    def short_error(self, delivery: Delivery) -> str:
        text = delivery.error_message or ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.action(description="Retry the selected failed deliveries", permissions=["retry"])
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
