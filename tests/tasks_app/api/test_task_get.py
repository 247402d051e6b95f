import uuid

import pytest

from tests.factories import make_execution

pytestmark = pytest.mark.django_db


def url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}"


def test_it_returns_the_task(api, task, owner):
    response = api.get(url(task.id))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(task.id)
    assert body["user_id"] == str(owner.pk)
    assert body["name"] == task.name
    assert body["search_query"] == task.search_query
    assert body["condition_description"] == task.condition_description
    assert body["schedule"] == task.schedule
    assert body["notify_behavior"] == "once"
    assert body["state"] == "active"
    assert body["last_known_state"] is None
    assert body["last_execution_id"] is None
    assert body["last_execution"] is None
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")


def test_it_embeds_the_last_execution_and_last_known_state(api, task):
    execution = make_execution(task, status="success", condition_met=True)
    task.last_known_state = {
        "answer": "iPhone 16 releases September 20, 2024",
        "timestamp": "2024-01-15T14:23:45Z",
    }
    task.save()

    body = api.get(url(task.id)).json()

    assert body["last_known_state"] == task.last_known_state
    assert body["last_execution_id"] == str(execution.id)
    assert body["last_execution"]["id"] == str(execution.id)
    assert body["last_execution"]["status"] == "success"
    assert body["last_execution"]["condition_met"] is True
    assert body["last_execution"]["started_at"].endswith("Z")
    assert body["last_execution"]["completed_at"].endswith("Z")


def test_a_pending_last_execution_has_no_times_or_verdict(api, task):
    make_execution(task, status="pending")

    body = api.get(url(task.id)).json()

    assert body["last_execution"]["status"] == "pending"
    assert body["last_execution"]["condition_met"] is None
    assert body["last_execution"]["started_at"] is None
    assert body["last_execution"]["completed_at"] is None


@pytest.mark.parametrize("suffix", ["", "/"])
def test_it_answers_with_and_without_a_trailing_slash(api, task, suffix):
    response = api.get(url(task.id) + suffix)

    assert response.status_code == 200
    assert response.json()["id"] == str(task.id)


def test_another_users_task_is_forbidden(api, foreign_task):
    response = api.get(url(foreign_task.id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}


def test_the_owner_cannot_be_read_by_the_other_user(other_api, task):
    response = other_api.get(url(task.id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_an_unknown_id_is_not_found(api, suffix):
    response = api.get(url(uuid.uuid4()) + suffix)

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.parametrize("task_id", ["not-a-uuid", "123", "%20"])
def test_a_malformed_id_is_not_found(api, task_id):
    response = api.get(url(task_id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_it_needs_authentication(anon_api, task):
    response = anon_api.get(url(task.id))

    assert response.status_code == 401
    assert response.json() == {"detail": "Authorization header missing"}
