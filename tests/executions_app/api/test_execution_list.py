import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions_app.models import ExecutionStatus
from tests.factories import make_execution

pytestmark = pytest.mark.django_db


def url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}/executions"


def test_it_lists_a_tasks_runs_newest_first_with_every_field(api, task):
    older = make_execution(task, status=ExecutionStatus.FAILED)
    newer = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)

    response = api.get(url(task.id))

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["limit"]) == (2, 1, 20)
    assert [e["id"] for e in body["executions"]] == [str(newer.id), str(older.id)]
    success, failure = body["executions"]
    assert set(success) == {
        "id",
        "task_id",
        "status",
        "trigger",
        "scheduled_for",
        "started_at",
        "completed_at",
        "condition_met",
        "result",
        "grounding_sources",
        "notified",
        "error_message",
        "attempts",
        "retries",
        "created_at",
    }
    assert success["result"] == {
        "answer": "Apple announced the date.",
        "reasoning": "The press release names a date.",
        "condition_met": True,
    }
    assert success["error_message"] is None and success["condition_met"] is True
    assert failure["result"] is None and failure["condition_met"] is None
    assert failure["error_message"] == "Provider error"
    assert success["completed_at"].endswith("Z")


def test_it_filters_by_status_and_paginates(api, task):
    for _ in range(3):
        make_execution(task, status=ExecutionStatus.FAILED)
    make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=False)

    failed = api.get(url(task.id), {"status": "failed", "limit": 2, "page": 2}).json()

    assert failed["total"] == 3 and len(failed["executions"]) == 1
    assert failed["executions"][0]["status"] == "failed"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "done"}, "status"), ({"limit": 101}, "limit"), ({"page": 0}, "page")],
)
def test_it_rejects_bad_query_parameters(api, task, params, field):
    response = api.get(url(task.id), params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_another_users_task_is_forbidden(other_api, task):
    make_execution(task)

    response = other_api.get(url(task.id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}


@pytest.mark.parametrize("task_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_task_is_not_found(api, task_id):
    response = api.get(url(task_id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_the_list_needs_a_key(anon_api, task):
    assert anon_api.get(url(task.id)).status_code == 401


def test_the_query_count_does_not_grow_with_the_page(api, task):
    for _ in range(30):
        make_execution(task)
    api.get(url(task.id))  # the key's first use also records last_used_at

    with CaptureQueriesContext(connection) as one:
        api.get(url(task.id), {"limit": 1})
    with CaptureQueriesContext(connection) as thirty:
        response = api.get(url(task.id), {"limit": 30})

    assert len(response.json()["executions"]) == 30
    assert len(thirty) == len(one) <= 4
