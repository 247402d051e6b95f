import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from executions_app.channels import channel_account_email, channel_create, task_channels_set
from executions_app.models import (
    AttemptOutcome,
    ChannelKind,
    DeliveryAttempt,
    DeliveryStatus,
    Execution,
    ExecutionStatus,
    TaskChannel,
)
from tasks_app.models import Task, TaskState
from tasks_app.services import task_update
from tests.factories import make_delivery, make_execution, make_task

pytestmark = pytest.mark.django_db


def page_url(task, suffix="") -> str:
    return f"/tasks/{task.id}{suffix}"


def row_with(html: str, needle: str) -> str:
    """The table row of `html` that contains `needle`."""
    rows = [row for row in re.split(r"<tr[ >]", html) if needle in row]
    assert len(rows) == 1, f"{len(rows)} rows contain {needle!r}"
    return rows[0].split("</tr>")[0]


# --- What the page shows -------------------------------------------------------------------------


def test_it_shows_the_task(owner_client, owner):
    task = make_task(owner, name="iPhone watch", schedule="30 8 * * 1-5", timezone="Europe/Paris")

    response = owner_client.get(page_url(task))

    assert response.status_code == 200
    text = response.text
    assert "iPhone watch" in text
    assert task.search_query in text
    assert task.condition_description in text
    assert "At 08:30, Monday through Friday, Europe/Paris" in text
    assert '<code class="muted">30 8 * * 1-5</code>' in text
    assert "(Europe/Paris)" in text
    assert "Once, the first time the condition is met" in text


def test_the_link_in_notifications_opens_it_with_or_without_a_slash(owner_client, task):
    link = f"{settings.TORALE_BASE_URL}/tasks/{task.id}"

    assert owner_client.get(link.removeprefix(settings.TORALE_BASE_URL)).status_code == 200
    assert owner_client.get(page_url(task, "/")).status_code == 200


def test_it_shows_the_run_history_with_answers_reasons_sources_and_errors(owner_client, task):
    met = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    met.grounding_sources = [{"uri": "https://www.apple.com/newsroom/", "title": "Apple Newsroom"}]
    met.save()
    failed = make_execution(task, status=ExecutionStatus.FAILED)
    failed.error_message = "Gemini rejected the API key: check GEMINI_API_KEY"
    failed.attempt_errors = [
        {"attempt": 1, "error": "Gemini is overloaded (503)", "at": "2026-03-01T09:00:01Z"},
        {"attempt": 2, "error": "The search timed out", "at": "2026-03-01T09:00:30Z"},
    ]
    failed.save()

    text = owner_client.get(page_url(task)).text

    assert "Apple announced the date." in text
    assert "The press release names a date." in text
    link = '<a href="https://www.apple.com/newsroom/" rel="noopener noreferrer nofollow">'
    assert link + "Apple Newsroom</a>" in text
    assert "Gemini rejected the API key: check GEMINI_API_KEY" in text
    assert "2 failed attempts retried" in text
    assert "Attempt 1, 1 Mar, 09:00:01 UTC: Gemini is overloaded (503)" in text
    assert "The search timed out" in text
    assert ">Met</span>" in text
    assert ">Failed</span>" in text


def test_model_output_is_escaped_and_only_web_sources_are_links(owner_client, task):
    execution = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    execution.answer = "<script>alert(1)</script>"
    execution.reasoning = '<img src=x onerror="alert(2)">'
    execution.grounding_sources = [
        {"uri": "javascript:alert(3)", "title": "<b>Click me</b>"},
        {"uri": " JaVaScRiPt:alert(4)", "title": "Spaced"},
        {"uri": "java\tscript:alert(5)", "title": "Tabbed"},
        {"uri": "data:text/html,<script>alert(6)</script>", "title": "Data"},
        {"uri": "https://example.com/a?b=1&c=2", "title": "Fine"},
    ]
    execution.save()
    task_update(
        task_id=task.id,
        user=task.owner,
        changes={"name": "<i>named</i>"},
    )

    text = owner_client.get(page_url(task)).text

    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert "<b>Click me</b>" not in text
    assert "<i>named</i>" not in text
    assert not re.search(r'<a [^>]*href="\s*(java|data)', text, re.IGNORECASE)
    assert "<script>alert(6)" not in text
    assert 'href="https://example.com/a?b=1&amp;c=2"' in text
    assert text.count("not a web link") == 4


def test_it_shows_deliveries_and_a_failed_one_reads_failed_with_its_error(owner_client, task):
    execution = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    make_delivery(
        execution,
        status=DeliveryStatus.SENT,
        attempts=1,
        sent_at=timezone.now(),
        recipient="owner@example.com",
    )
    failed = make_delivery(
        execution,
        kind=ChannelKind.WEBHOOK,
        recipient="https://hooks.example.com/torale",
        status=DeliveryStatus.FAILED,
        attempts=6,
        attempt_limit=6,
        error_message="The receiver answered 500 (gave up after 6 attempts)",
    )
    DeliveryAttempt.objects.create(
        delivery=failed, number=6, outcome=AttemptOutcome.FAILED, status_code=500, error="HTTP 500"
    )
    make_delivery(
        execution,
        kind=ChannelKind.APPRISE,
        recipient="tgram://***/987",
        status=DeliveryStatus.SKIPPED,
        error_message="Not sent: the daily limit of 200 notifications for this account was reached",
    )

    text = owner_client.get(page_url(task)).text

    sent = row_with(text, "owner@example.com")
    assert ">Sent</span>" in sent
    assert "Delivered" in sent
    webhook = row_with(text, "https://hooks.example.com/torale")
    assert ">Failed</span>" in webhook
    assert "The receiver answered 500 (gave up after 6 attempts)" in webhook
    assert '<td data-label="Attempts">6</td>' in webhook
    assert "(HTTP 500)" in webhook
    assert "Sent" not in webhook
    assert "Delivered" not in webhook
    skipped = row_with(text, "tgram://***/987")
    assert ">Not sent</span>" in skipped
    assert "daily limit" in skipped


def test_a_delivery_being_retried_says_so(owner_client, task):
    execution = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    make_delivery(
        execution,
        status=DeliveryStatus.RETRYING,
        attempts=2,
        attempt_limit=6,
        error_message="Connection refused",
    )

    row = row_with(owner_client.get(page_url(task)).text, "owner@example.com")

    assert ">Retrying</span>" in row
    assert "2 of 6" in row
    assert "Connection refused" in row


def test_a_delivery_that_failed_at_once_does_not_read_as_waiting_for_more_attempts(
    owner_client, task
):
    execution = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    make_delivery(
        execution,
        kind=ChannelKind.WEBHOOK,
        recipient="https://hooks.example.com/gone",
        status=DeliveryStatus.FAILED,
        attempts=1,
        attempt_limit=6,
        error_message="The receiver answered 410",
    )

    row = row_with(owner_client.get(page_url(task)).text, "https://hooks.example.com/gone")

    assert '<td data-label="Attempts">1</td>' in row
    assert "1 of 6" not in row


def test_it_charts_met_not_met_and_failed_runs(owner_client, task):
    make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=False)
    make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=False)
    make_execution(task, status=ExecutionStatus.FAILED)
    make_execution(task, status=ExecutionStatus.RUNNING)

    text = owner_client.get(page_url(task)).text

    assert '<svg viewBox="0 0 600 120" role="img"' in text
    assert "1 met, 2 not met, 1 failed" in text
    assert text.count('class="chart__met"') == 1
    assert text.count('class="chart__failed"') == 1


def test_a_task_without_runs_says_what_happens_next(owner_client, task):
    text = owner_client.get(page_url(task)).text

    assert "No runs yet" in text
    assert "No finished runs in this period yet" in text
    assert "No notifications yet" in text


def test_the_history_is_paginated_ten_runs_a_page(owner_client, task):
    for _ in range(12):
        make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=False)

    first = owner_client.get(page_url(task)).text
    second = owner_client.get(page_url(task) + "?page=2").text

    assert first.count('class="run" id="run-') == 10
    assert second.count('class="run" id="run-') == 2
    assert "?page=2#history" in first


def test_a_run_in_flight_is_announced(owner_client, task):
    make_execution(task, status=ExecutionStatus.RUNNING)

    text = owner_client.get(page_url(task)).text

    assert "A run is in progress (running)" in text
    assert "Run anyway" in text


# --- Actions -------------------------------------------------------------------------------------


def test_pause_and_resume(owner_client, task):
    response = owner_client.post(page_url(task, "/pause"))

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.PAUSED
    assert task.next_run_at is None
    assert "Paused" in owner_client.get(page_url(task)).text

    owner_client.post(page_url(task, "/resume"))

    task.refresh_from_db()
    assert task.state == TaskState.ACTIVE
    assert task.next_run_at is not None


def test_a_completed_task_can_be_reactivated(owner_client, owner):
    task = make_task(owner, state="completed")

    assert "Re-activate" in owner_client.get(page_url(task)).text
    owner_client.post(page_url(task, "/resume"))

    task.refresh_from_db()
    assert task.state == TaskState.ACTIVE


def test_an_impossible_state_change_is_explained(owner_client, owner):
    task = make_task(owner, state="completed")

    response = owner_client.post(page_url(task, "/pause"), follow=True)

    assert "This task has completed: it stopped after notifying you once" in response.text
    task.refresh_from_db()
    assert task.state == TaskState.COMPLETED


def test_state_changes_need_a_post(owner_client, task):
    assert owner_client.get(page_url(task, "/pause")).status_code == 405
    task.refresh_from_db()
    assert task.state == TaskState.ACTIVE


def test_run_now_queues_a_manual_run(owner_client, task):
    response = owner_client.post(page_url(task, "/run"), follow=True)

    execution = Execution.objects.get(task=task)
    assert execution.trigger == "manual"
    assert execution.status == "pending"
    assert "Run queued" in response.text
    assert "A run is in progress (queued)" in response.text


def test_run_now_while_a_run_is_in_flight_explains_and_starts_nothing(owner_client, task):
    running = make_execution(task, status=ExecutionStatus.RUNNING)

    response = owner_client.post(page_url(task, "/run"), follow=True)

    assert "already queued or running" in response.text
    assert "Run anyway" in response.text
    assert list(Execution.objects.filter(task=task)) == [running]


def test_run_anyway_cancels_the_run_in_flight_and_starts_anew(owner_client, task):
    running = make_execution(task, status=ExecutionStatus.RUNNING)

    owner_client.post(page_url(task, "/run"), {"force": "1"})

    running.refresh_from_db()
    assert running.status == ExecutionStatus.CANCELLED
    assert Execution.objects.filter(task=task, status="pending").count() == 1


def test_edit_shows_the_task_and_saves_changes(owner_client, task):
    form = owner_client.get(page_url(task, "/edit"))
    assert form.status_code == 200
    assert form.context["form"]["search_query"].value() == task.search_query

    response = owner_client.post(
        page_url(task, "/edit"),
        {
            "name": "Renamed",
            "search_query": task.search_query,
            "condition_description": task.condition_description,
            "schedule": "15 7 * * *",
            "timezone": "Asia/Tokyo",
            "notify_behavior": "always",
        },
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.name, task.schedule, task.timezone, task.notify_behavior) == (
        "Renamed",
        "15 7 * * *",
        "Asia/Tokyo",
        "always",
    )


def test_edit_with_errors_changes_nothing(owner_client, task):
    response = owner_client.post(
        page_url(task, "/edit"),
        {
            "name": "",
            "search_query": "short",
            "condition_description": task.condition_description,
            "schedule": "not cron",
            "timezone": "UTC",
            "notify_behavior": "once",
        },
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "search_query", "schedule"}
    before = task.updated_at
    task.refresh_from_db()
    assert task.name == "Owner's task"
    assert task.updated_at == before


def test_suggest_on_the_edit_page_refines_the_current_task(owner_client, task, gemini):
    response = owner_client.post(
        page_url(task, "/edit"), {"action": "suggest", "prompt": "check twice a day"}
    )

    assert response.status_code == 200
    assert "Suggestion filled in below" in response.text
    assert "<current_task>" in gemini.requests[0]["body"]["contents"][0]["parts"][0]["text"]
    task.refresh_from_db()
    assert task.name == "Owner's task"


def test_delete_asks_first_then_deletes(owner_client, task):
    confirm = owner_client.get(page_url(task, "/delete"))

    assert confirm.status_code == 200
    assert "This cannot be undone" in confirm.text
    assert Task.objects.filter(pk=task.pk).exists()

    response = owner_client.post(page_url(task, "/delete"), follow=True)

    assert not Task.objects.filter(pk=task.pk).exists()
    assert response.redirect_chain[-1][0] == "/"
    assert "Deleted “Owner&#x27;s task”" in response.text
    assert owner_client.get(page_url(task)).status_code == 404


# --- Channels ------------------------------------------------------------------------------------


def test_it_shows_the_channels_a_task_notifies(owner_client, owner, task):
    text = owner_client.get(page_url(task)).text

    assert "This task notifies your default channels" in text
    assert "Email: Account email" in text
    assert "owner@example.com" in text


def test_a_task_on_its_defaults_shows_them_ticked(owner_client, owner, task):
    channel_create(user=owner, kind=ChannelKind.EMAIL, target="team@example.com", name="Team")
    account_email = channel_account_email(user=owner)

    form = owner_client.get(page_url(task)).context["channels_form"]

    assert form["mode"].value() == "defaults"
    # The account email is the only default; the added channel is not used, so not ticked.
    assert form["channels"].value() == [str(account_email.pk)]


def test_a_task_can_choose_its_channels_and_go_back_to_the_defaults(owner_client, owner, task):
    hook, _ = channel_create(
        user=owner, kind=ChannelKind.EMAIL, target="team@example.com", name="Team"
    )

    owner_client.post(page_url(task, "/channels"), {"mode": "chosen", "channels": [str(hook.pk)]})

    assert list(TaskChannel.objects.filter(task=task).values_list("channel_id", flat=True)) == [
        hook.pk
    ]
    assert "This task notifies its own choice of channels" in owner_client.get(page_url(task)).text

    owner_client.post(page_url(task, "/channels"), {"mode": "defaults"})

    assert not TaskChannel.objects.filter(task=task).exists()


def test_choosing_no_channel_is_refused(owner_client, task):
    response = owner_client.post(page_url(task, "/channels"), {"mode": "chosen"}, follow=True)

    assert "Choose at least one channel" in response.text
    assert not TaskChannel.objects.filter(task=task).exists()


def test_a_task_cannot_use_another_users_channel(owner_client, task, other_user):
    theirs = channel_account_email(user=other_user)

    response = owner_client.post(
        page_url(task, "/channels"), {"mode": "chosen", "channels": [str(theirs.pk)]}
    )

    assert response.status_code == 302
    assert not TaskChannel.objects.filter(task=task).exists()


# --- Someone else's task -------------------------------------------------------------------------

ACTIONS = [
    ("get", ""),
    ("get", "/edit"),
    ("post", "/edit"),
    ("post", "/pause"),
    ("post", "/resume"),
    ("post", "/run"),
    ("get", "/delete"),
    ("post", "/delete"),
    ("post", "/channels"),
]


def snapshot(task: Task) -> tuple:
    row = Task.objects.filter(pk=task.pk).values().first()
    return (
        row,
        list(Execution.objects.filter(task_id=task.pk).values_list("id", "status")),
        list(TaskChannel.objects.filter(task_id=task.pk).values_list("channel_id", flat=True)),
    )


@pytest.mark.parametrize(("method", "suffix"), ACTIONS)
@pytest.mark.parametrize("state", ["active", "paused"])
def test_another_users_task_page_and_actions_answer_404_and_change_nothing(
    owner_client, owner, other_user, method, suffix, state
):
    theirs = make_task(other_user, name="Someone else's task", state=state)
    make_execution(theirs, status=ExecutionStatus.SUCCESS, condition_met=True)
    mine = channel_account_email(user=owner)
    task_channels_set(
        task=theirs, user=other_user, channel_ids=[channel_account_email(user=other_user).pk]
    )
    before = snapshot(theirs)
    data = {
        "name": "Hijacked",
        "search_query": "hijacked query text",
        "condition_description": "hijacked condition text",
        "schedule": "* * * * *",
        "timezone": "UTC",
        "notify_behavior": "always",
        "force": "1",
        "mode": "chosen",
        "channels": [str(mine.pk)],
    }

    response = getattr(owner_client, method)(page_url(theirs, suffix), data)

    assert response.status_code == 404
    assert "Someone else" not in response.text
    assert "Not found" in response.text
    assert snapshot(theirs) == before


@pytest.mark.parametrize(("method", "suffix"), ACTIONS)
def test_without_a_login_every_action_goes_to_the_login_page(client, task, method, suffix):
    before = snapshot(task)

    response = getattr(client, method)(page_url(task, suffix))

    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login?next=")
    assert snapshot(task) == before


def test_an_unknown_or_malformed_id_is_not_found(owner_client):
    assert owner_client.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert owner_client.get("/tasks/not-a-uuid").status_code == 404


def test_actions_need_the_csrf_token(owner, task):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    for suffix in ("/pause", "/run", "/delete"):
        assert browser.post(page_url(task, suffix)).status_code == 403

    task.refresh_from_db()
    assert task.state == TaskState.ACTIVE
    assert not Execution.objects.filter(task=task).exists()


def test_times_are_shown_in_the_users_time_zone(owner_client, owner, task):
    owner.timezone = "Asia/Kolkata"
    owner.save()
    execution = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=False)
    execution.completed_at = execution.created_at = timezone.now().replace(
        hour=10, minute=0, second=0, microsecond=0
    ) - timedelta(days=1)
    execution.save()

    text = owner_client.get(page_url(task)).text

    assert "15:30 IST" in text
