"""The task pages: dashboard, create, task page, edit, and the task's actions.

Views are thin: a form, one service (the same ones the API calls), then a redirect or a
page. Domain errors become messages; someone else's task is a 404 (torale.pages.owned_page).
Suggest and preview work without JavaScript (a form post); the page's script calls the same
services through the JSON API instead, so the page stays responsive while they run.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from executions_app.channels import channel_list_for_user, task_channels_get, task_channels_set
from executions_app.page_selectors import (
    delivery_list_for_task,
    execution_history_for_task,
    execution_outcomes_by_day,
)
from executions_app.services import execution_request_manual
from tasks_app.evaluation import task_preview, task_suggest
from tasks_app.forms import (
    SuggestForm,
    TaskChannelsForm,
    TaskCreateForm,
    TaskEditForm,
    TaskForm,
)
from tasks_app.models import NotifyBehavior, Task, TaskState
from tasks_app.selectors import task_get_for_user, task_list_for_user, task_state_counts
from tasks_app.services import EDITABLE_FIELDS, task_create, task_delete, task_update
from torale.errors import Conflict, InvalidStateTransition, ProviderError
from torale.inflight import TooManyInFlight
from torale.pages import owned_page

TASKS_PER_PAGE = 20
RUNS_PER_PAGE = 10
SENDS_PER_PAGE = 20
CHART_DAYS = 30
RUN_CONFLICT = (
    "A run of this task is already queued or running. Wait for it to finish, or use "
    "“Run anyway” to cancel it and start a new one."
)
PREVIEW_NEEDS = "Fill in the search query and the condition to preview them."


def _task_url(task_id) -> str:
    return reverse("task-detail", kwargs={"task_id": task_id})


# --- Dashboard -----------------------------------------------------------------------------------


@login_required
def dashboard(request):
    state = request.GET.get("state")
    state = state if state in TaskState.values else None
    tasks = task_list_for_user(user=request.user, state=state)
    page = Paginator(tasks, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    counts = task_state_counts(user=request.user)
    return render(
        request,
        "tasks/dashboard.html",
        {
            "page": page,
            "state": state,
            "total": sum(counts.values()),
            "filters": [(value, label, counts[value]) for value, label in TaskState.choices],
        },
    )


# --- Create and edit -----------------------------------------------------------------------------


def _run_preview(request, form: TaskForm) -> tuple[dict | None, str | None]:
    """Preview the form's query and condition: (result, error in words).

    Only those two fields matter for a preview: the other fields' errors are dropped, so
    a half-filled form is not covered in complaints about its schedule.
    """
    form.is_valid()
    for field in list(form.errors):
        if field not in ("search_query", "condition_description"):
            del form.errors[field]
    query = form.cleaned_data.get("search_query")
    condition = form.cleaned_data.get("condition_description")
    if not (query and condition):
        return None, PREVIEW_NEEDS
    try:
        preview = task_preview(
            user=request.user, search_query=query, condition_description=condition
        )
        return preview, None
    except (ProviderError, TooManyInFlight) as exc:
        return None, exc.detail


def _run_suggest(request, *, current_task: dict | None) -> tuple[SuggestForm, dict | None, str]:
    """(the bound suggest form, the suggested fields or None, an error in words or "")."""
    suggest_form = SuggestForm(request.POST)
    if not suggest_form.is_valid():
        return suggest_form, None, ""
    try:
        suggestion = task_suggest(
            user=request.user, prompt=suggest_form.cleaned_data["prompt"], current_task=current_task
        )
    except (ProviderError, TooManyInFlight) as exc:
        return suggest_form, None, exc.detail
    return suggest_form, suggestion, ""


def _form_page(request, *, form, suggest_form, task=None, **context):
    return render(
        request,
        "tasks/task_form.html",
        {"form": form, "suggest_form": suggest_form, "task": task, **context},
    )


@login_required
def task_create_page(request):
    initial = {"timezone": request.user.timezone, "notify_behavior": NotifyBehavior.ONCE.value}
    if request.method != "POST":
        return _form_page(request, form=TaskCreateForm(initial=initial), suggest_form=SuggestForm())
    action = request.POST.get("action", "save")
    if action == "suggest":
        suggest_form, suggestion, error = _run_suggest(request, current_task=None)
        form = TaskCreateForm(initial={**initial, **(suggestion or {})})
        return _form_page(
            request,
            form=form,
            suggest_form=suggest_form,
            suggest_error=error,
            suggested=suggestion is not None,
        )
    form = TaskCreateForm(request.POST)
    if action == "preview":
        preview, error = _run_preview(request, form)
        return _form_page(
            request, form=form, suggest_form=SuggestForm(), preview=preview, preview_error=error
        )
    if not form.is_valid():
        return _form_page(request, form=form, suggest_form=SuggestForm())
    task = task_create(owner=request.user, **form.task_fields())
    note = " Its first run is on its way." if form.cleaned_data["run_immediately"] else ""
    messages.success(request, f"Task “{task.name}” created.{note}")
    return redirect(_task_url(task.pk))


def _task_values(task: Task) -> dict:
    return {field: getattr(task, field) for field in EDITABLE_FIELDS}


@owned_page
def task_edit_page(request, task_id):
    task = task_get_for_user(task_id=task_id, user=request.user)
    initial = _task_values(task)
    if request.method != "POST":
        return _form_page(
            request, form=TaskEditForm(initial=initial), suggest_form=SuggestForm(), task=task
        )
    action = request.POST.get("action", "save")
    if action == "suggest":
        current = {k: v for k, v in initial.items() if k != "timezone"}
        suggest_form, suggestion, error = _run_suggest(request, current_task=current)
        form = TaskEditForm(initial={**initial, **(suggestion or {})})
        return _form_page(
            request,
            form=form,
            suggest_form=suggest_form,
            task=task,
            suggest_error=error,
            suggested=suggestion is not None,
        )
    form = TaskEditForm(request.POST, initial=initial)
    if action == "preview":
        preview, error = _run_preview(request, form)
        return _form_page(
            request,
            form=form,
            suggest_form=SuggestForm(),
            task=task,
            preview=preview,
            preview_error=error,
        )
    if not form.is_valid():
        return _form_page(request, form=form, suggest_form=SuggestForm(), task=task)
    changes = form.changes()
    if changes:
        task = task_update(task_id=task.pk, user=request.user, changes=changes)
        messages.success(request, "Changes saved.")
    else:
        messages.info(request, "Nothing to save: no field changed.")
    return redirect(_task_url(task.pk))


# --- The task page -------------------------------------------------------------------------------


@owned_page
def task_detail_page(request, task_id):
    task = task_get_for_user(task_id=task_id, user=request.user)
    runs = Paginator(execution_history_for_task(task=task), RUNS_PER_PAGE)
    sends = Paginator(delivery_list_for_task(task=task), SENDS_PER_PAGE)
    chosen, task_channels = task_channels_get(task=task)
    channels = channel_list_for_user(user=request.user)
    channels_form = TaskChannelsForm(
        channels=channels,
        initial={
            "mode": TaskChannelsForm.CHOSEN if chosen else TaskChannelsForm.USE_DEFAULTS,
            # Ticked: what the task notifies now (its defaults when it chose none).
            "channels": [str(c.pk) for c in task_channels],
        },
    )
    return render(
        request,
        "tasks/task_detail.html",
        {
            "task": task,
            "runs": runs.get_page(request.GET.get("page")),
            "sends": sends.get_page(request.GET.get("sends")),
            "chart_days": execution_outcomes_by_day(task=task, days=CHART_DAYS),
            "chart_span": CHART_DAYS,
            "uses_own_channels": chosen,
            "task_channels": task_channels,
            "channels_form": channels_form,
        },
    )


def _state_refusal(exc: InvalidStateTransition) -> str:
    """The service's refusal in the page's words (the API keeps the reference's)."""
    if exc.current == TaskState.COMPLETED and exc.requested == TaskState.PAUSED:
        return (
            "This task has completed: it stopped after notifying you once, as it was set to, "
            "so there is nothing to pause. Resume it to watch again."
        )
    return f"This task cannot go from {exc.current} to {exc.requested}."


def _change_state(request, task_id, state: str, done: str):
    try:
        task = task_update(task_id=task_id, user=request.user, changes={"state": state})
    except InvalidStateTransition as exc:
        messages.error(request, _state_refusal(exc))
        return redirect(_task_url(task_id))
    messages.success(request, done.format(name=task.name))
    return redirect(_task_url(task.pk))


@require_POST
@owned_page
def task_pause(request, task_id):
    return _change_state(
        request, task_id, TaskState.PAUSED, "Paused “{name}”: no runs until you resume it."
    )


@require_POST
@owned_page
def task_resume(request, task_id):
    return _change_state(
        request, task_id, TaskState.ACTIVE, "“{name}” is active again and runs on its schedule."
    )


@require_POST
@owned_page
def task_run(request, task_id):
    force = request.POST.get("force") == "1"
    try:
        execution_request_manual(task_id=task_id, user=request.user, force=force)
    except Conflict:
        messages.error(request, RUN_CONFLICT)
        return redirect(_task_url(task_id))
    messages.success(request, "Run queued. Its result appears in the history below.")
    return redirect(_task_url(task_id) + "#history")


@owned_page
def task_delete_page(request, task_id):
    task = task_get_for_user(task_id=task_id, user=request.user)
    if request.method == "POST":
        task_delete(task_id=task.pk, user=request.user)
        messages.success(request, f"Deleted “{task.name}” and its history.")
        return redirect("dashboard")
    return render(request, "tasks/task_delete.html", {"task": task})


@require_POST
@owned_page
def task_channels_page(request, task_id):
    task = task_get_for_user(task_id=task_id, user=request.user)
    form = TaskChannelsForm(request.POST, channels=channel_list_for_user(user=request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_task_url(task.pk) + "#channels")
    task_channels_set(task=task, user=request.user, channel_ids=form.channel_ids())
    messages.success(
        request,
        "This task now notifies the chosen channels."
        if form.channel_ids()
        else "This task now notifies your default channels.",
    )
    return redirect(_task_url(task.pk) + "#channels")
