"""Operator admin for tasks, and django-celery-beat's PeriodicTask with Torale's mirrors
read-only.

Every write goes through the services the API uses: an edit is a task_update (with the API's
own validation of the fields), pause and resume are state changes through task_update, run
now is execution_request_manual, and delete is task_delete (which also removes the task's
PeriodicTask). The operator acts on the owner's behalf, so the services' owner check passes
the task's owner.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join
from django_celery_beat.admin import CrontabScheduleAdmin, PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from executions_app.models import Delivery, Execution
from executions_app.services import execution_request_manual
from tasks_app.forms import timezone_select
from tasks_app.models import Task, TaskState
from tasks_app.scheduling import periodic_task_name
from tasks_app.serializers import TaskUpdateInputSerializer
from tasks_app.services import EDITABLE_FIELDS, task_delete, task_update
from torale.admin import (
    SelectedObjectFilter,
    UuidSearchMixin,
    admin_change_url,
    admin_changelist_url,
    deletion_summary,
)
from torale.admin_paginators import EstimatedCountPaginator
from torale.errors import Conflict, DomainError

# The names of the PeriodicTasks that mirror a Task ("torale-task:<uuid>").
MIRROR_PREFIX = periodic_task_name("")
# How many task names a message lists before "and N more".
NAMES_IN_MESSAGE = 5


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _names(tasks: list[Task]) -> str:
    shown = ", ".join(f'"{task.name}"' for task in tasks[:NAMES_IN_MESSAGE])
    more = len(tasks) - NAMES_IN_MESSAGE
    return f"{shown} and {more} more" if more > 0 else shown


class TaskAdminForm(forms.ModelForm):
    """The editable fields of PUT /api/v1/tasks/{id}, validated by the API's own serializer,
    so the admin accepts exactly what the API accepts (cron, zone, lengths)."""

    # No form-level length limit: the API checks the length of the normalised expression.
    schedule = forms.CharField(help_text="Five-field cron expression, read in the time zone.")

    class Meta:
        model = Task
        fields = EDITABLE_FIELDS
        widgets = {
            "search_query": forms.Textarea(attrs={"rows": 3}),
            "condition_description": forms.Textarea(attrs={"rows": 3}),
            "timezone": timezone_select(),
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        sent = {field: cleaned[field] for field in self.changed_data if field in cleaned}
        if not sent:
            return cleaned
        serializer = TaskUpdateInputSerializer(data=sent)
        if not serializer.is_valid():
            for field, errors in serializer.errors.items():
                target = field if field in self.fields else None
                self.add_error(target, [str(error) for error in errors])
            return cleaned
        cleaned.update(serializer.validated_data)
        return cleaned

    def changes(self) -> dict:
        """The changed fields, as task_update takes them."""
        return {
            field: self.cleaned_data[field]
            for field in self.changed_data
            if field in EDITABLE_FIELDS and field in self.cleaned_data
        }


class TaskOwnerFilter(SelectedObjectFilter):
    title = "owner"
    parameter_name = "owner"
    related_model = "torale.User"
    field_path = "owner_id"


@admin.register(Task)
class TaskAdmin(UuidSearchMixin, admin.ModelAdmin):
    form = TaskAdminForm
    list_display = (
        "name",
        "owner_link",
        "state",
        "schedule",
        "timezone",
        "next_run_at",
        "created_at",
    )
    list_filter = ("state", "notify_behavior", TaskOwnerFilter)
    search_fields = ("name", "search_query", "owner__username", "owner__email")
    uuid_search_fields = ("id",)
    search_help_text = "Name, search query, owner's username or email; or a task's exact id."
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["pause", "resume", "run_now", "run_now_force"]
    readonly_fields = (
        "id",
        "owner_page_link",
        "state",
        "next_run_at",
        "periodic_task_link",
        "last_execution_link",
        "history_links",
        "last_known_state",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {"fields": ("id", "owner_page_link", "name", "search_query", "condition_description")},
        ),
        (
            "Schedule",
            {
                "description": "State changes with the Pause and Resume actions of the list.",
                "fields": (
                    "schedule",
                    "timezone",
                    "notify_behavior",
                    "state",
                    "next_run_at",
                    "periodic_task_link",
                ),
            },
        ),
        ("Runs", {"fields": ("last_execution_link", "history_links", "last_known_state")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    def has_add_permission(self, request) -> bool:
        # A task belongs to the user who describes it: users create them (API, pages).
        return False

    # --- Columns and read-only fields ---------------------------------------------------------

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, task: Task) -> str:
        """The list filtered by the task's owner."""
        return format_html(
            '<a href="{}" title="Tasks of this owner">{}</a>',
            admin_changelist_url(Task, owner=task.owner_id),
            task.owner,
        )

    @admin.display(description="owner")
    def owner_page_link(self, task: Task) -> str:
        return format_html(
            '<a href="{}">{}</a> (<a href="{}">all their tasks</a>)',
            admin_change_url(task.owner),
            task.owner,
            admin_changelist_url(Task, owner=task.owner_id),
        )

    @admin.display(description="periodic task")
    def periodic_task_link(self, task: Task) -> str:
        if task.periodic_task_id is None:
            return "—"
        periodic = task.periodic_task
        return format_html(
            '<a href="{}">{}</a> ({})',
            admin_change_url(periodic),
            periodic.name,
            "enabled" if periodic.enabled else "disabled",
        )

    @admin.display(description="last execution")
    def last_execution_link(self, task: Task) -> str:
        if task.last_execution_id is None:
            return "—"
        execution = task.last_execution
        return format_html(
            '<a href="{}">{} {}, {}</a>',
            admin_change_url(execution),
            execution.get_trigger_display(),
            execution.get_status_display().lower(),
            execution.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )

    @admin.display(description="history")
    def history_links(self, task: Task) -> str:
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            [
                (admin_changelist_url(Execution, task=task.pk), "Executions of this task"),
                (admin_changelist_url(Delivery, task=task.pk), "Notifications sent"),
            ],
        )

    # --- Edit and delete through the services -------------------------------------------------

    def save_model(self, request, obj: Task, form: TaskAdminForm, change: bool) -> None:
        changes = form.changes()
        if changes:
            task_update(task_id=obj.pk, user=obj.owner, changes=changes)

    def get_deleted_objects(self, objs, request):
        tasks = [task.pk for task in objs]
        counts = {
            "executions": Execution.objects.filter(task__in=tasks).count(),
            "deliveries": Delivery.objects.filter(task__in=tasks).count(),
            "periodic tasks": PeriodicTask.objects.filter(torale_task__in=tasks).count(),
        }
        return deletion_summary(self, request, objs, counts)

    def delete_model(self, request, obj: Task) -> None:
        task_delete(task_id=obj.pk, user=obj.owner)

    def delete_queryset(self, request, queryset: QuerySet[Task]) -> None:
        for task in queryset.select_related("owner"):
            task_delete(task_id=task.pk, user=task.owner)

    # --- Actions --------------------------------------------------------------------------

    def _move_to(self, request, queryset: QuerySet[Task], state: str, verb: str) -> None:
        moved: list[Task] = []
        already = 0
        refused: list[str] = []
        for task in queryset.select_related("owner"):
            if task.state == state:
                already += 1
                continue
            try:
                task_update(task_id=task.pk, user=task.owner, changes={"state": state})
            except DomainError as exc:  # e.g. completed -> paused
                refused.append(f'"{task.name}": {exc.detail}')
            else:
                moved.append(task)
        if moved:
            self.message_user(
                request, f"{verb} {_count(len(moved), 'task')}: {_names(moved)}.", messages.SUCCESS
            )
        if already:
            self.message_user(
                request, f"{already} were {state} already and were left alone.", messages.INFO
            )
        for reason in refused:
            self.message_user(request, f"Not {verb.lower()}: {reason}", messages.WARNING)

    @admin.action(description="Pause the selected tasks", permissions=["change"])
    def pause(self, request, queryset: QuerySet[Task]) -> None:
        self._move_to(request, queryset, TaskState.PAUSED, "Paused")

    @admin.action(description="Resume the selected tasks", permissions=["change"])
    def resume(self, request, queryset: QuerySet[Task]) -> None:
        self._move_to(request, queryset, TaskState.ACTIVE, "Resumed")

    def _run(self, request, queryset: QuerySet[Task], *, force: bool) -> None:
        started: list[tuple[Task, Execution]] = []
        busy: list[Task] = []
        for task in queryset.select_related("owner"):
            try:
                execution = execution_request_manual(task_id=task.pk, user=task.owner, force=force)
            except Conflict:
                busy.append(task)
            else:
                started.append((task, execution))
        if started:
            links = format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                [(admin_change_url(execution), task.name) for task, execution in started],
            )
            self.message_user(
                request,
                format_html("Started {}: {}.", _count(len(started), "run"), links),
                messages.SUCCESS,
            )
        if busy:
            self.message_user(
                request,
                f"Already running or pending, left alone: {_names(busy)}. Use “Run the selected "
                "tasks now, cancelling runs in flight” to replace those runs.",
                messages.WARNING,
            )

    @admin.action(description="Run the selected tasks now", permissions=["change"])
    def run_now(self, request, queryset: QuerySet[Task]) -> None:
        self._run(request, queryset, force=False)

    @admin.action(
        description="Run the selected tasks now, cancelling runs in flight", permissions=["change"]
    )
    def run_now_force(self, request, queryset: QuerySet[Task]) -> None:
        self._run(request, queryset, force=True)


# --- django-celery-beat -------------------------------------------------------------------------


def is_task_mirror(periodic: PeriodicTask | None) -> bool:
    return periodic is not None and periodic.name.startswith(MIRROR_PREFIX)


class MirrorFilter(admin.SimpleListFilter):
    title = "Torale task mirror"
    parameter_name = "torale_mirror"

    def lookups(self, request, model_admin):
        return [("yes", "Mirrors of Torale tasks"), ("no", "Other periodic tasks")]

    def queryset(self, request, queryset: QuerySet[PeriodicTask]) -> QuerySet[PeriodicTask]:
        if self.value() == "yes":
            return queryset.filter(name__startswith=MIRROR_PREFIX)
        if self.value() == "no":
            return queryset.exclude(name__startswith=MIRROR_PREFIX)
        return queryset


class ToralePeriodicTaskForm(PeriodicTaskForm):
    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name.startswith(MIRROR_PREFIX):
            raise forms.ValidationError(
                f'Names starting with "{MIRROR_PREFIX}" belong to Torale tasks, which make '
                "their own periodic tasks."
            )
        return name


class FollowsTasksMixin:
    """Read-only (no change, no delete) for the rows that Torale tasks keep in step
    (`follows_a_task`): an edit would make them disagree with their task."""

    def follows_a_task(self, obj) -> bool:
        raise NotImplementedError

    def has_change_permission(self, request, obj=None) -> bool:
        return not self.follows_a_task(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self.follows_a_task(obj) and super().has_delete_permission(request, obj)


class ToralePeriodicTaskAdmin(FollowsTasksMixin, PeriodicTaskAdmin):
    """django-celery-beat's admin, with the `torale-task:<uuid>` mirrors read-only.

    A mirror follows its Task: the Task is the source of truth (its next run, its state) and
    the mirror is rewritten on every task change, so an edit here would be silently undone
    and a delete would only hide the task from Celery tooling. The bulk actions leave mirrors
    alone for the same reason.
    """

    form = ToralePeriodicTaskForm
    list_display = (*PeriodicTaskAdmin.list_display, "torale_task_link")
    list_filter = ["enabled", MirrorFilter, "one_off", "task", "start_time", "last_run_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request) -> QuerySet[PeriodicTask]:
        return super().get_queryset(request).select_related("torale_task")

    def follows_a_task(self, obj: PeriodicTask | None) -> bool:
        return is_task_mirror(obj)

    def get_fieldsets(self, request, obj: PeriodicTask | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if not is_task_mirror(obj):
            return fieldsets
        note = (
            "This periodic task mirrors a Torale task, which is the source of truth: it is "
            "rewritten whenever the task changes. Change, pause, resume, run or delete the "
            "task instead."
        )
        return ((None, {"description": note, "fields": ("torale_task_link",)}), *fieldsets)

    def get_readonly_fields(self, request, obj: PeriodicTask | None = None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "torale_task_link") if is_task_mirror(obj) else fields

    @admin.display(description="Torale task")
    def torale_task_link(self, periodic: PeriodicTask) -> str:
        task = getattr(periodic, "torale_task", None)
        if task is None:
            return "—"
        return format_html('<a href="{}">{}</a>', admin_change_url(task), task.name)

    def _without_mirrors(self, request, queryset: QuerySet[PeriodicTask]) -> QuerySet:
        mirrors = queryset.filter(name__startswith=MIRROR_PREFIX).count()
        if mirrors:
            self.message_user(
                request,
                f"{mirrors} mirrors of Torale tasks were left alone: use the Task actions "
                "(pause, resume, run now) instead.",
                messages.WARNING,
            )
        return queryset.exclude(name__startswith=MIRROR_PREFIX)

    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request, queryset):
        others = self._without_mirrors(request, queryset)
        if others.exists():
            super().enable_tasks(request, others)

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request, queryset):
        others = self._without_mirrors(request, queryset)
        if others.exists():
            super().disable_tasks(request, others)

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        others = self._without_mirrors(request, queryset)
        if others.exists():
            super().toggle_tasks(request, others)

    @admin.action(description="Run selected tasks", permissions=["change"])
    def run_tasks(self, request, queryset):
        others = self._without_mirrors(request, queryset)
        if others.exists():
            super().run_tasks(request, others)


class ToraleCrontabScheduleAdmin(FollowsTasksMixin, CrontabScheduleAdmin):
    """django-celery-beat's crontabs, read-only while a task mirror uses one.

    Mirrors share a crontab row per (expression, zone); editing it would make every mirror
    that shares it disagree with its task (which keeps its own schedule). Change the tasks.
    """

    def follows_a_task(self, obj: CrontabSchedule | None) -> bool:
        if obj is None:
            return False
        # Asked several times while one page renders: one query per crontab object.
        if not hasattr(obj, "_torale_mirrored"):
            mirrors = obj.periodictask_set.filter(name__startswith=MIRROR_PREFIX)
            obj._torale_mirrored = mirrors.exists()
        return obj._torale_mirrored

    def get_fields(self, request, obj: CrontabSchedule | None = None):
        fields = super().get_fields(request, obj)
        return (*fields, "torale_note") if self.follows_a_task(obj) else fields

    def get_readonly_fields(self, request, obj: CrontabSchedule | None = None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "torale_note") if self.follows_a_task(obj) else fields

    @admin.display(description="Torale")
    def torale_note(self, crontab: CrontabSchedule) -> str:
        return (
            "Used by mirrors of Torale tasks, which follow their task's schedule: change the "
            "schedule on the task instead."
        )


# django_celery_beat comes before tasks_app in INSTALLED_APPS, so its admins are registered.
for model, model_admin in (
    (PeriodicTask, ToralePeriodicTaskAdmin),
    (CrontabSchedule, ToraleCrontabScheduleAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
