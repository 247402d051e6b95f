"""Someone else's task, attacked from a real logged-in browser session with a valid CSRF token:
the page's form actions answer 404 and the JSON API (as the page's script calls it) 403, and
nothing changes. (The pages' GETs are covered with Django's test client in
tests/tasks_app/pages/test_task_page.py; this checks what a browser really sends.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from executions_app.channels import channel_account_email
from executions_app.models import Delivery, Execution, ExecutionStatus, TaskChannel
from tasks_app.models import Task, TaskState
from tests.factories import make_execution, make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBMIT_FORM = """([url, fields]) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = url;
  for (const [name, value] of fields) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""

CALL_API = """async ([method, url, body]) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const headers = {Accept: "application/json", "X-CSRFToken": token};
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined,
  });
  return [response.status, await response.text()];
}"""


def snapshot(task: Task) -> tuple:
    return (
        Task.objects.filter(pk=task.pk).values().first(),
        list(Execution.objects.filter(task_id=task.pk).values_list("id", "status", "attempts")),
        list(TaskChannel.objects.filter(task_id=task.pk).values_list("channel_id", flat=True)),
        Delivery.objects.filter(execution__task_id=task.pk).count(),
    )


def post_form(page: Page, url: str, fields: list[tuple[str, str]]):
    """Submit a form the way a browser does, with the session's CSRF token: the answer."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    with page.expect_navigation() as navigation:
        page.evaluate(SUBMIT_FORM, [url, [("csrfmiddlewaretoken", token), *fields]])
    return navigation.value


def call_api(page: Page, method: str, url: str, body: dict | None = None) -> tuple[int, str]:
    return page.evaluate(CALL_API, [method, url, body])


@pytest.fixture
def theirs(other_user):
    """Two tasks of another user, one active and one paused, each with a run behind it."""
    active = make_task(other_user, name="Someone else's task")
    paused = make_task(other_user, name="Someone else's paused task", state=TaskState.PAUSED)
    for task in (active, paused):
        make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    return active, paused


def test_another_users_task_actions_answer_404_or_403_and_change_nothing(
    page, page_problems, screenshot, log_in, owner, theirs
):
    # Chromium logs every 4xx answer of a navigation or fetch as a console error.
    page_problems.expect(r"status of 40[34]")
    active, paused = theirs
    mine = make_task(owner, name="My own task")
    before = {task.pk: snapshot(task) for task in theirs}
    my_channel = str(channel_account_email(user=owner).pk)
    edit = [
        ("action", "save"),
        ("name", "Hijacked"),
        ("search_query", "hijacked query text"),
        ("condition_description", "hijacked condition text"),
        ("schedule", "* * * * *"),
        ("timezone", "UTC"),
        ("notify_behavior", "always"),
    ]
    attempts = [
        (active, "/pause", []),
        (paused, "/resume", []),
        (active, "/run", []),
        (active, "/run", [("force", "1")]),
        (active, "/edit", edit),
        (active, "/channels", [("mode", "chosen"), ("channels", my_channel)]),
        (active, "/delete", []),
        (paused, "/delete", []),
    ]

    log_in(page, "owner")
    for task, action, fields in attempts:
        page.goto(f"/tasks/{mine.pk}")
        response = post_form(page, f"/tasks/{task.pk}{action}", fields)
        assert response.status == 404, (action, response.status)
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("Someone else")
    screenshot(page, "not-found")

    page.goto(f"/tasks/{mine.pk}")
    api = f"/api/v1/tasks/{active.pk}"
    for method, url, body in [
        ("GET", api, None),
        ("POST", f"{api}/execute", None),
        ("POST", f"{api}/execute?force=true", None),
        ("PATCH", api, {"state": "paused", "name": "Hijacked"}),
        ("PUT", f"/api/v1/tasks/{paused.pk}", {"state": "active"}),
        ("DELETE", api, None),
        ("GET", f"{api}/executions", None),
    ]:
        status, text = call_api(page, method, url, body)
        assert status == 403, (method, url, status, text)
        assert "Someone else" not in text

    assert {task.pk: snapshot(task) for task in theirs} == before

    # The same session and token do work on the user's own task: the 404s above were not
    # a refused CSRF token or an ended session.
    page.goto(f"/tasks/{mine.pk}")
    response = post_form(page, f"/tasks/{mine.pk}/pause", [])
    assert response.status == 200 and page.url.endswith(f"/tasks/{mine.pk}")
    expect(page.get_by_text("Paused “My own task”")).to_be_visible()
    assert Task.objects.get(pk=mine.pk).state == TaskState.PAUSED
    status, _ = call_api(page, "PATCH", f"/api/v1/tasks/{mine.pk}", {"state": "active"})
    assert status == 200
    assert Task.objects.get(pk=mine.pk).state == TaskState.ACTIVE
