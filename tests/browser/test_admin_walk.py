"""An operator's walk through the Django admin in a real browser, with a real worker: log in as
a superuser, run a user's task from the Task changelist's "run now" action, then find the
runs by status with the Execution changelist's filter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from executions_app.models import Execution, ExecutionStatus, ExecutionTrigger
from tests.factories import make_execution, make_task, make_user
from tests.support.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TASKS = "/admin/tasks_app/task/"
EXECUTIONS = "/admin/executions_app/execution/"
NOT_MET = "The PS5 Pro is available for purchase at Best Buy"


@pytest.fixture
def operator(db):
    return make_user("operator", is_staff=True, is_superuser=True)


def test_an_operator_runs_a_task_from_the_admin_and_filters_executions_by_status(
    page, screenshot, operator, owner, worker, gemini
):
    watched = make_task(owner, name="PS5 Pro at Best Buy", condition_description=NOT_MET)
    broken = make_task(owner, name="A task whose last run failed")
    make_execution(broken, status=ExecutionStatus.FAILED)
    failed = Execution.objects.get(task=broken)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    screenshot(page, "admin-login")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    screenshot(page, "admin-index")

    # Run now, from the Task changelist's action.
    page.locator("#tasks_app-task").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"{TASKS}$"))
    expect(page.locator("#result_list")).to_contain_text("PS5 Pro at Best Buy")
    screenshot(page, "admin-tasks")
    page.locator(f'input.action-select[value="{watched.pk}"]').check()
    action = page.locator('select[name="action"]')
    expect(action.locator('option[value="run_now"]')).to_have_text("Run the selected tasks now")
    action.select_option("run_now")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist .success")).to_contain_text(watched.name)
    screenshot(page, "admin-tasks-run-now")

    run = wait_until(
        lambda: Execution.objects.filter(
            task=watched, trigger=ExecutionTrigger.MANUAL, status=ExecutionStatus.SUCCESS
        ).first(),
        timeout=30,
        message="the worker to finish the run started from the admin",
    )
    assert run.condition_met is False
    assert Execution.objects.filter(task=watched).count() == 1

    # Find the runs by status with the changelist's filter.
    page.goto("/admin/")
    page.locator("#executions_app-execution").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"{EXECUTIONS}$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    screenshot(page, "admin-executions")

    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Failed", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]status__exact=failed"))
    expect(rows).to_have_count(1)
    expect(rows.locator(f'a[href*="/{failed.pk}/change/"]')).to_have_count(1)
    screenshot(page, "admin-executions-failed")

    filters.get_by_role("link", name="Success", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]status__exact=success"))
    expect(rows).to_have_count(1)
    expect(rows.locator(f'a[href*="/{run.pk}/change/"]')).to_have_count(1)
    screenshot(page, "admin-executions-success")

    rows.locator(f'a[href*="/{run.pk}/change/"]').click()
    expect(page).to_have_url(re.compile(rf"{EXECUTIONS}{run.pk}/change/"))
    expect(page.locator("#content h1")).to_contain_text(re.compile("execution", re.IGNORECASE))
    screenshot(page, "admin-execution")
    assert Execution.objects.get(pk=failed.pk).status == ExecutionStatus.FAILED
