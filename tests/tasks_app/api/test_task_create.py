import pytest

from executions_app.models import Execution
from tasks_app.models import Task
from tests.factories import VALID_TASK

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks"


def test_it_creates_a_task_with_defaults_and_returns_the_full_object(api, owner):
    response = api.post(URL, VALID_TASK, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == str(owner.pk)
    assert body["name"] == "When is the next iPhone being released"
    assert body["notify_behavior"] == "once"
    assert body["state"] == "active"
    assert body["last_known_state"] is None
    assert body["last_execution"] is None
    assert body["created_at"].endswith("Z")
    assert Task.objects.get(pk=body["id"]).owner == owner


def test_it_rejects_a_six_field_cron(api):
    response = api.post(URL, {**VALID_TASK, "schedule": "0 0 9 * * *"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "schedule"], "msg": "Invalid cron expression", "type": "value_error"}
        ]
    }
    assert not Task.objects.exists()


def test_run_immediately_creates_a_pending_immediate_run(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(URL, {**VALID_TASK, "run_immediately": True}, format="json")

    assert response.status_code == 201
    execution = Execution.objects.get(task_id=response.json()["id"])
    assert execution.trigger == "immediate" and execution.status == "pending"
    assert response.json()["last_execution"]["status"] == "pending"
    assert len(callbacks) == 1
