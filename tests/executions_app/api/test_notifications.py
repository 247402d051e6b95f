import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions_app.models import Execution, ExecutionStatus
from tests.factories import make_execution, make_task

pytestmark = pytest.mark.django_db

NOTIFICATION_FIELDS = {
    "id",
    "task_id",
    "task_name",
    "condition_met",
    "answer",
    "reasoning",
    "grounding_sources",
    "created_at",
}
SOURCES = [{"uri": "https://www.apple.com/newsroom", "title": "Apple Newsroom"}]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def task_url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}/notifications"


def met(task, minutes: int) -> Execution:
    """A successful run whose condition was met, created `minutes` after T0."""
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    Execution.objects.filter(pk=run.pk).update(
        created_at=T0 + timedelta(minutes=minutes), grounding_sources=SOURCES
    )
    return run


def ids(body) -> list[str]:
    return [n["id"] for n in body["notifications"]]


def test_it_lists_only_the_runs_whose_condition_was_met_newest_first(api, task):
    older = met(task, 1)
    make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=False)
    make_execution(task, status=ExecutionStatus.FAILED)
    make_execution(task, status=ExecutionStatus.RUNNING)
    newer = met(task, 2)

    response = api.get(task_url(task.id))

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["limit"]) == (2, 1, 20)
    assert ids(body) == [str(newer.id), str(older.id)]
    assert body["notifications"][0] == {
        "id": str(newer.id),
        "task_id": str(task.id),
        "task_name": "Owner's task",
        "condition_met": True,
        "answer": "Apple announced the date.",
        "reasoning": "The press release names a date.",
        "grounding_sources": SOURCES,
        "created_at": "2026-03-01T09:02:00Z",
    }


def test_runs_created_at_the_same_instant_keep_a_stable_order(api, task):
    runs = [met(task, 5) for _ in range(3)]

    body = api.get(task_url(task.id)).json()

    assert ids(body) == sorted((str(r.id) for r in runs), reverse=True)


def test_it_paginates(api, task):
    runs = [met(task, minute) for minute in range(5)]

    second = api.get(task_url(task.id), {"page": 2, "limit": 2}).json()
    past_the_end = api.get(task_url(task.id), {"page": 4, "limit": 2}).json()

    assert (second["total"], second["page"], second["limit"]) == (5, 2, 2)
    assert ids(second) == [str(runs[2].id), str(runs[1].id)]
    assert past_the_end["notifications"] == [] and past_the_end["total"] == 5


def test_the_account_list_spans_the_callers_tasks_and_no_one_elses(api, owner, task, foreign_task):
    second_task = make_task(owner, name="Second task")
    first = met(task, 1)
    second = met(second_task, 2)
    met(foreign_task, 3)

    response = api.get("/api/v1/notifications")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert ids(body) == [str(second.id), str(first.id)]
    assert [n["task_name"] for n in body["notifications"]] == ["Second task", "Owner's task"]
    assert all(set(n) == NOTIFICATION_FIELDS for n in body["notifications"])


def test_the_account_list_paginates(api, task):
    runs = [met(task, minute) for minute in range(3)]

    body = api.get("/api/v1/notifications/", {"limit": 1, "page": 3}).json()

    assert (body["total"], body["page"], body["limit"]) == (3, 3, 1)
    assert ids(body) == [str(runs[0].id)]


@pytest.mark.parametrize(
    ("params", "field", "type_"),
    [
        ({"limit": 101}, "limit", "less_than_equal"),
        ({"limit": 0}, "limit", "greater_than_equal"),
        ({"page": 0}, "page", "greater_than_equal"),
        ({"page": "two"}, "page", "int_parsing"),
    ],
)
@pytest.mark.parametrize("path", ["task", "account"])
def test_it_rejects_bad_paging(api, task, params, field, type_, path):
    url = task_url(task.id) if path == "task" else "/api/v1/notifications"

    response = api.get(url, params)

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (["query", field], type_)


def test_another_users_task_is_forbidden(other_api, task):
    met(task, 1)

    response = other_api.get(task_url(task.id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}


def test_another_user_sees_none_of_the_owners_notifications(other_api, task):
    met(task, 1)

    body = other_api.get("/api/v1/notifications").json()

    assert body["notifications"] == [] and body["total"] == 0


@pytest.mark.parametrize("task_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_task_is_not_found(api, task_id):
    response = api.get(task_url(task_id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_the_lists_need_a_key(anon_api, task):
    assert anon_api.get(task_url(task.id)).status_code == 401
    response = anon_api.get("/api/v1/notifications")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authorization header missing"}


def test_answers_carry_the_rate_limit_headers(api, task):
    response = api.get("/api/v1/notifications")

    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        response.headers
    )


@pytest.mark.parametrize("path", ["task", "account"])
def test_the_query_count_does_not_grow_with_the_page(api, owner, task, path):
    for minute in range(30):
        met(make_task(owner) if minute % 2 else task, minute)
    url = task_url(task.id) if path == "task" else "/api/v1/notifications"
    api.get(url)  # the key's first use also records last_used_at

    with CaptureQueriesContext(connection) as one:
        api.get(url, {"limit": 1})
    with CaptureQueriesContext(connection) as many:
        response = api.get(url, {"limit": 30})

    assert len(response.json()["notifications"]) > 1
    assert len(many) == len(one) <= 4
