"""Operator admin for accounts: users and their API keys, and the pieces the apps' admins
share (filters by one owner or task, index-friendly id search, deletion summaries).

API keys are never shown: only their display prefix. The hash is not a field of any form, so
nobody can set one by hand; a key made here goes through api_key_create and is shown once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Model, Q, QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.text import capfirst

from executions_app.models import Channel, Delivery, Execution
from tasks_app.cron import INVALID_TIMEZONE, is_valid_timezone
from tasks_app.models import Task
from torale.admin_paginators import EstimatedCountPaginator
from torale.errors import NotFound
from torale.models import ApiKey, User
from torale.services import api_key_create, api_key_revoke, user_delete

# --- Shared by the apps' admins -----------------------------------------------------------


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, TypeError, AttributeError):
        return None


def admin_change_url(obj: Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def admin_changelist_url(model: type[Model], **params: object) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


class SelectedObjectFilter(admin.SimpleListFilter):
    """A filter on one related object chosen by id (`?owner=<uuid>`), reached from the links
    in the lists and on the change pages.

    The stock related-field filters list every choice, i.e. load every user; this one loads
    only the selected row, to show whose list it is and offer "All" to clear it.
    """

    # Set by subclasses: the related model ("app_label.Model") and the lookup it filters on.
    related_model: str = ""
    field_path: str = ""

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        # The admin applies (and shows) a filter only when it has choices: with a value, it
        # has that one, even when it is not an id (then it matches nothing).
        if self.value() is None:
            return []
        selected = parse_uuid(self.value())
        if selected is None:
            return [(self.value(), "not an id")]
        model = apps.get_model(self.related_model)
        obj = model._default_manager.filter(pk=selected).first()
        return [(self.value(), str(obj) if obj is not None else f"unknown ({selected})")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        selected = parse_uuid(self.value())
        if selected is None:
            return queryset.none()
        return queryset.filter(**{self.field_path: selected})


class UuidSearchMixin:
    """Search by exact id through the indexes.

    The admin's `=id` search compiles to UPPER(id::text) = UPPER(%s), which no index serves:
    on millions of rows that is a full scan. A search term that is a UUID is matched exactly
    against `uuid_search_fields`; any other term goes to the text `search_fields` (and
    matches nothing when there are none).
    """

    uuid_search_fields: tuple[str, ...] = ()

    def get_search_fields(self, request) -> tuple[str, ...]:
        # The changelist shows its search box when this is not empty.
        return tuple(self.search_fields) or tuple(f"={name}" for name in self.uuid_search_fields)

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        value = parse_uuid(search_term) if search_term.strip() else None
        if value is not None and self.uuid_search_fields:
            match = Q.create([(field, value) for field in self.uuid_search_fields], connector=Q.OR)
            return queryset.filter(match), False
        if search_term.strip() and not self.search_fields:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


def deletion_summary(
    model_admin: admin.ModelAdmin, request, objs: Iterable[Model], counts: dict[str, int]
):
    """get_deleted_objects() as counts instead of Django's list of every related row.

    Django's confirmation page names each row that cascades (a task's runs: possibly
    millions) and asks every related admin for delete permission — the Execution admin
    refuses it, since runs are history that goes only with its task. The deletion itself
    goes through the services; this only describes it.
    """
    objs = list(objs)
    opts = model_admin.model._meta
    listed = [
        format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), admin_change_url(o), o)
        for o in objs
    ]
    model_count = {opts.verbose_name_plural: len(objs)}
    model_count.update({name: n for name, n in counts.items() if n})
    allowed = all(model_admin.has_delete_permission(request, obj) for obj in objs)
    perms_needed = set() if allowed else {opts.verbose_name}
    return listed, model_count, perms_needed, []


# --- Users ----------------------------------------------------------------------------------


class TimezoneFormMixin:
    """The time zone rule of user_timezone_set (and of tasks)."""

    def clean_timezone(self) -> str:
        name = self.cleaned_data.get("timezone") or "UTC"
        if not is_valid_timezone(name):
            raise forms.ValidationError(INVALID_TIMEZONE)
        return name


class ToraleUserChangeForm(TimezoneFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class ToraleUserCreationForm(TimezoneFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


@admin.register(User)
class ToraleUserAdmin(UuidSearchMixin, UserAdmin):
    form = ToraleUserChangeForm
    add_form = ToraleUserCreationForm
    list_display = (
        "username",
        "email",
        "timezone",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "email", "first_name", "last_name")
    uuid_search_fields = ("id",)
    search_help_text = "Username, email or name; or a user's exact id."
    date_hierarchy = "date_joined"
    readonly_fields = ("id", "last_login", "date_joined", "tasks_link", "api_keys_link")
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "timezone")}),
        ("Torale", {"fields": ("tasks_link", "api_keys_link")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "timezone", "usable_password"),
            },
        ),
        (None, {"classes": ("wide",), "fields": ("password1", "password2")}),
    )
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    @admin.display(description="tasks")
    def tasks_link(self, user: User) -> str:
        return format_html(
            '<a href="{}">Tasks of {}</a>', admin_changelist_url(Task, owner=user.pk), user
        )

    @admin.display(description="API keys")
    def api_keys_link(self, user: User) -> str:
        return format_html(
            '<a href="{}">API keys of {}</a>', admin_changelist_url(ApiKey, user=user.pk), user
        )

    def get_deleted_objects(self, objs, request):
        users = [user.pk for user in objs]
        counts = {
            "tasks": Task.objects.filter(owner__in=users).count(),
            "executions": Execution.objects.filter(task__owner__in=users).count(),
            "deliveries": Delivery.objects.filter(owner__in=users).count(),
            "notification channels": Channel.objects.filter(owner__in=users).count(),
            "API keys": ApiKey.objects.filter(user__in=users).count(),
        }
        return deletion_summary(self, request, objs, counts)

    def delete_model(self, request, obj: User) -> None:
        user_delete(user=obj)

    def delete_queryset(self, request, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_delete(user=user)


# --- API keys -------------------------------------------------------------------------------


class ApiKeyActiveFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Active"), ("no", "Revoked")]

    def queryset(self, request, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class ApiKeyUserFilter(SelectedObjectFilter):
    title = "user"
    parameter_name = "user"
    related_model = "torale.User"
    field_path = "user_id"


@admin.register(ApiKey)
class ApiKeyAdmin(UuidSearchMixin, admin.ModelAdmin):
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "active")
    list_filter = (ApiKeyActiveFilter, ApiKeyUserFilter)
    search_fields = ("name", "key_prefix", "user__username", "user__email")
    uuid_search_fields = ("id", "user_id")
    search_help_text = "Name, prefix (sk_…), user's username or email; or a key's or user's id."
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    actions = ["revoke"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    @admin.display(description="active", boolean=True)
    def active(self, key: ApiKey) -> bool:
        return key.is_active

    def get_fields(self, request, obj: ApiKey | None = None):
        # key_hash is in neither tuple: it is never shown and never set by hand.
        if obj is None:
            return ("user", "name")
        return ("id", "user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj: ApiKey | None = None):
        if obj is None:
            return ()
        return ("id", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request, obj: ApiKey | None = None) -> bool:
        # Revoke instead: the row is the record that the key existed and when it was used.
        return False

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = api_key_create(user=obj.user, name=obj.name)
        # The admin goes on with `obj` (log entry, redirect): make it the row just created.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state = key._state
        request.torale_new_api_key = raw  # for response_add, and nowhere else

    def response_add(self, request, obj: ApiKey, post_url_continue=None):
        # The new key goes into this answer only: not into a message, which Django keeps in
        # a cookie or the session until it is shown.
        raw = getattr(request, "torale_new_api_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/torale/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "API key created",
                "key": obj,
                "raw_key": raw,
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke(self, request, queryset: QuerySet[ApiKey]) -> None:
        revoked = skipped = 0
        for key in queryset.select_related("user"):
            try:
                api_key_revoke(user=key.user, key_id=key.pk)
                revoked += 1
            except NotFound:  # revoked already (or meanwhile)
                skipped += 1
        self.message_user(request, f"Revoked {revoked} API keys.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} were revoked already and were left alone.", messages.WARNING
            )
