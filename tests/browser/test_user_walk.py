"""A newcomer's first visit, in a real browser, with a real worker and a real SMTP server:
sign up → describe a task → Suggest → Preview → save → Run now → the result and the email →
pause → delete. Every page on the way is screenshotted, two of them at phone width too."""

from __future__ import annotations

import email
import email.policy
import re
import time

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from executions_app.models import Delivery, DeliveryStatus, Execution, ExecutionStatus
from tasks_app.models import Task, TaskState
from tests.support.processes import wait_until
from tests.support.receivers import SmtpReceiver
from torale.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPT = "Tell me when Apple announces the release date of the next iPhone"
USERNAME = "newcomer"
ADDRESS = "newcomer@example.org"
PASSWORD = "a-long-walk-through-torale"
TASK_PAGE = re.compile(r"/tasks/[0-9a-f-]{36}$")


def phone_screenshot(new_page, page: Page, screenshot, name: str) -> None:
    """The same page, same session, in a 390 px wide window: its first screen, then all."""
    phone = new_page(phone=True, storage_state=page.context.storage_state())
    phone.goto(page.url.split("#")[0])
    screenshot(phone, f"{name}-top", full_page=False)
    screenshot(phone, name)
    phone.context.close()


def sign_up(page: Page, screenshot) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")

    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    screenshot(page, "signup")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Email").fill(ADDRESS)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/tasks/new$"))
    expect(page.get_by_text(f"Welcome, {USERNAME}.")).to_be_visible()


def create_through_suggest_and_preview(page: Page, screenshot) -> str:
    """Suggest fills the form, Preview shows an answer, Create saves: the task page's URL."""
    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.get_by_role("heading", name="Nothing is being watched yet")).to_be_visible()
    screenshot(page, "dashboard-empty")

    page.get_by_role("link", name="Create your first task").click()
    expect(page.get_by_role("heading", name="New task")).to_be_visible()
    screenshot(page, "create-form")

    page.get_by_label("What should Torale watch for you?").fill(PROMPT)
    page.get_by_role("button", name="Suggest", exact=True).click()
    expect(page.locator("#suggest-progress")).to_have_text(
        "Suggestion filled in below. Check it, preview it, then save.", timeout=30_000
    )
    for label in ("Name", "Search query", "Condition", "Schedule (cron)"):
        expect(page.get_by_label(label, exact=True)).not_to_have_value("")
    screenshot(page, "suggest-filled")

    # Every met condition should notify, so that the task stays active and can be paused.
    page.get_by_label("Always: tell me every time the condition is met").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-progress")).to_have_text("Preview ready.", timeout=30_000)
    preview = page.locator("#preview-box")
    expect(preview).to_contain_text("Condition met")
    expect(preview.get_by_text("Sources", exact=True)).to_be_visible()
    assert preview.locator("ul.sources a").count() == 2
    screenshot(page, "preview-shown")
    assert not Task.objects.exists()  # a preview saves nothing

    page.get_by_role("button", name="Create task").click()
    expect(page).to_have_url(TASK_PAGE)
    expect(page.get_by_text("created.")).to_be_visible()
    expect(page.get_by_text("No runs yet.")).to_be_visible()
    screenshot(page, "task-new")
    return page.url


def run_now_and_see_the_result(page: Page, screenshot, smtp: SmtpReceiver) -> Task:
    page.get_by_role("button", name="Run now").click()
    progress = page.locator("#run-progress")
    expect(progress).to_contain_text("Done: the condition is met.", timeout=60_000)
    screenshot(page, "run-finished")
    page.get_by_role("button", name="Show it in the history").click()

    task = Task.objects.get(owner__username=USERNAME)
    run = Execution.objects.get(task=task)
    assert run.status == ExecutionStatus.SUCCESS and run.condition_met
    history = page.locator("#history")
    expect(history.locator(".run").first).to_contain_text("Met")
    expect(history).to_contain_text(run.answer)
    expect(history).to_contain_text("run by hand")

    # The email is sent by the worker after the run's commit: wait for the real one.
    wait_until(lambda: smtp.messages, timeout=30, message="the email to reach the SMTP server")
    [raw] = smtp.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == ADDRESS
    assert message["Subject"] == f"Condition met: {task.name}"
    text = message.get_body(("plain",)).get_content()
    assert f"{settings.TORALE_BASE_URL}/tasks/{task.id}" in text
    delivery = wait_until(
        lambda: Delivery.objects.filter(execution=run, status=DeliveryStatus.SENT).first(),
        timeout=15,
        message="the delivery to be recorded as sent",
    )

    page.reload()
    row = page.locator("#notifications tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator('[data-label="Recipient"]')).to_have_text(ADDRESS)
    expect(row.locator('[data-label="Status"]')).to_have_text("Sent")
    expect(row.locator('[data-label="Details"]')).to_contain_text("Delivered")
    assert delivery.recipient == ADDRESS
    screenshot(page, "task-result-and-delivery")
    return task


def test_a_newcomer_signs_up_creates_runs_pauses_and_deletes_a_task(
    page, new_page, screenshot, worker, smtp, gemini
):
    started = time.monotonic()
    sign_up(page, screenshot)
    task_url = create_through_suggest_and_preview(page, screenshot)
    task = run_now_and_see_the_result(page, screenshot, smtp)
    phone_screenshot(new_page, page, screenshot, "task-result-and-delivery-phone")

    page.get_by_role("link", name="Tasks", exact=True).click()
    card = page.locator(".task-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(task.name)
    expect(card).to_contain_text("Active")
    expect(card).to_contain_text("Met")
    screenshot(page, "dashboard-with-task")
    phone_screenshot(new_page, page, screenshot, "dashboard-with-task-phone")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Notification channels")).to_be_visible()
    expect(page.locator("main")).to_contain_text(ADDRESS)
    screenshot(page, "settings")

    page.goto(task_url)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Paused “")).to_be_visible()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_text("Not scheduled while paused")).to_be_visible()
    task.refresh_from_db()
    assert task.state == TaskState.PAUSED and task.next_run_at is None
    screenshot(page, "task-paused")

    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=f"Delete “{task.name}”?")).to_be_visible()
    screenshot(page, "delete-confirm")
    page.get_by_role("button", name="Delete the task").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Deleted “{task.name}” and its history.")).to_be_visible()
    screenshot(page, "dashboard-after-delete")
    assert not Task.objects.filter(pk=task.pk).exists()
    assert User.objects.get(username=USERNAME).email == ADDRESS

    # Suggest 1 call, preview 2 (search, evaluation), the run 2.
    assert len(gemini.requests) == 5
    assert time.monotonic() - started < 90
