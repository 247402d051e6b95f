import base64
import json
import uuid

import pytest
import redis
from django.conf import settings

from executions_app.models import Execution
from tasks_app.models import TaskState
from tests.factories import make_execution, make_task

pytestmark = pytest.mark.django_db

ALREADY_RUNNING = "Task is already running or pending. Use force=true to override."


def url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}/execute"


def published_runs() -> list[list]:
    """The argument lists of every Celery message waiting in the (real) Redis broker."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    runs = []
    for key in client.scan_iter():
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            message = json.loads(raw)
            body = json.loads(base64.b64decode(message["body"]))
            runs.append(body[0])
    return runs


def test_it_starts_a_pending_manual_run(api, task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(url(task.id))

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"message", "execution_id"}
    assert body["message"] == "Task execution initiated"
    execution = Execution.objects.get(task=task)
    assert body["execution_id"] == str(execution.id)
    assert execution.status == "pending"
    assert execution.trigger == "manual"
    assert execution.scheduled_for is None
    assert len(callbacks) == 1


def test_the_run_becomes_the_tasks_last_execution(api, task):
    execution_id = api.post(url(task.id)).json()["execution_id"]

    body = api.get(f"/api/v1/tasks/{task.id}").json()

    assert body["last_execution_id"] == execution_id
    assert body["last_execution"]["status"] == "pending"


def test_the_run_is_published_only_after_commit(api, task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(url(task.id))
    assert published_runs() == []  # nothing reaches the broker before the commit

    for callback in callbacks:
        callback()

    assert published_runs() == [[response.json()["execution_id"]]]


def test_the_run_is_published_once_the_request_commits(
    api, task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(task.id))

    assert published_runs() == [[response.json()["execution_id"]]]


@pytest.mark.parametrize("status", ["pending", "running", "retrying"])
def test_a_second_run_while_one_is_in_flight_conflicts(api, task, status):
    in_flight = make_execution(task, status=status)

    response = api.post(url(task.id))

    assert response.status_code == 409
    assert response.json() == {"detail": ALREADY_RUNNING}
    assert list(Execution.objects.filter(task=task)) == [in_flight]
    in_flight.refresh_from_db()
    assert in_flight.status == status


def test_executing_twice_in_a_row_conflicts(api, task):
    first = api.post(url(task.id))

    second = api.post(url(task.id))

    assert first.status_code == 202
    assert second.status_code == 409
    assert second.json() == {"detail": ALREADY_RUNNING}
    assert Execution.objects.filter(task=task).count() == 1


@pytest.mark.parametrize("status", ["success", "failed"])
def test_a_finished_run_does_not_block_a_new_one(api, task, status):
    make_execution(task, status=status, condition_met=False)

    response = api.post(url(task.id))

    assert response.status_code == 202
    assert Execution.objects.filter(task=task).count() == 2


def test_force_cancels_the_run_in_flight_and_starts_a_new_one(
    api, task, django_capture_on_commit_callbacks
):
    old_id = api.post(url(task.id)).json()["execution_id"]

    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(url(task.id) + "?force=true")

    assert response.status_code == 202
    new_id = response.json()["execution_id"]
    assert new_id != old_id
    old, new = Execution.objects.get(pk=old_id), Execution.objects.get(pk=new_id)
    assert old.status == "cancelled"
    assert old.completed_at is not None
    assert new.status == "pending" and new.trigger == "manual"
    assert len(callbacks) == 1
    assert api.get(f"/api/v1/tasks/{task.id}").json()["last_execution_id"] == new_id


def test_force_cancels_a_running_run(api, task):
    running = make_execution(task, status="running")

    response = api.post(url(task.id), QUERY_STRING="force=true")

    assert response.status_code == 202
    running.refresh_from_db()
    assert running.status == "cancelled"


def test_force_without_a_run_in_flight_just_starts_one(api, task):
    response = api.post(url(task.id) + "?force=true")

    assert response.status_code == 202
    assert Execution.objects.get(task=task).status == "pending"


def test_force_false_still_conflicts(api, task):
    api.post(url(task.id))

    response = api.post(url(task.id) + "?force=false")

    assert response.status_code == 409


def test_a_force_that_is_not_a_boolean_is_rejected(api, task):
    response = api.post(url(task.id) + "?force=please")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", "force"]
    assert not Execution.objects.exists()


def test_a_paused_task_can_be_run_by_hand_and_stays_paused(api, owner):
    task = make_task(owner, state=TaskState.PAUSED)

    response = api.post(url(task.id))

    assert response.status_code == 202
    task.refresh_from_db()
    assert task.state == "paused"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_it_answers_with_and_without_a_trailing_slash(api, task, suffix):
    response = api.post(url(task.id) + suffix)

    assert response.status_code == 202
    assert Execution.objects.filter(task=task).count() == 1


def test_another_users_task_is_forbidden_and_not_run(
    api, foreign_task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(url(foreign_task.id) + "?force=true")

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}
    assert not Execution.objects.exists()
    assert callbacks == []


def test_another_users_run_in_flight_is_not_cancelled(api, foreign_task):
    theirs = make_execution(foreign_task, status="running")

    response = api.post(url(foreign_task.id) + "?force=true")

    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "running"


def test_an_unknown_id_is_not_found(api):
    response = api.post(url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert not Execution.objects.exists()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_malformed_id_is_not_found(api, suffix):
    response = api.post(url("not-a-uuid") + suffix)

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_it_needs_authentication(anon_api, task):
    response = anon_api.post(url(task.id))

    assert response.status_code == 401
    assert not Execution.objects.exists()
