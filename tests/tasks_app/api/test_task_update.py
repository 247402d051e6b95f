import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks_app.models import Task, TaskState
from tests.factories import make_task
from tests.strategies import json_values

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}"


def error(field, msg, type_):
    return {"loc": ["body", field], "msg": msg, "type": type_}


def snapshot(task: Task) -> dict:
    """Every field a request could change, read back from the database."""
    task.refresh_from_db()
    return {
        "name": task.name,
        "search_query": task.search_query,
        "condition_description": task.condition_description,
        "schedule": task.schedule,
        "notify_behavior": task.notify_behavior,
        "state": task.state,
        "updated_at": task.updated_at,
    }


def test_it_changes_only_the_fields_sent(api, task):
    before = api.get(url(task.id)).json()

    response = api.put(url(task.id), {"schedule": "0 */6 * * *"}, format="json")

    assert response.status_code == 200
    after = response.json()
    assert after["schedule"] == "0 */6 * * *"
    unchanged = {k: v for k, v in before.items() if k not in ("schedule", "updated_at")}
    assert {k: after[k] for k in unchanged} == unchanged
    task.refresh_from_db()
    assert task.schedule == "0 */6 * * *"
    assert task.name == "Owner's task"


def test_it_changes_every_editable_field_at_once(api, task):
    changes = {
        "name": "Updated Task Name",
        "search_query": "New search query",
        "condition_description": "New condition",
        "schedule": "0 */6 * * *",
        "notify_behavior": "always",
        "state": "paused",
    }

    response = api.put(url(task.id), changes, format="json")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in changes} == changes
    assert {k: v for k, v in snapshot(task).items() if k != "updated_at"} == changes


def test_patch_works_like_put(api, task):
    response = api.patch(url(task.id), {"name": "Patched"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Patched"
    task.refresh_from_db()
    assert task.name == "Patched"
    assert task.schedule == "0 9 * * *"


def test_it_returns_the_same_object_as_get(api, task):
    response = api.put(url(task.id), {"name": "Renamed"}, format="json")

    assert response.json() == api.get(url(task.id)).json()


def test_updated_at_moves_and_created_at_does_not(api, owner):
    with time_machine.travel(T0, tick=False):
        task = make_task(owner)

    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        response = api.put(url(task.id), {"name": "Later"}, format="json")

    body = response.json()
    assert body["created_at"] == "2024-01-15T10:30:00Z"
    assert body["updated_at"] == "2024-01-15T12:30:00Z"
    task.refresh_from_db()
    assert task.updated_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize("suffix", ["", "/"])
def test_it_answers_with_and_without_a_trailing_slash(api, task, suffix):
    response = api.put(url(task.id) + suffix, {"name": "Slash"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Slash"


# --- State transitions --------------------------------------------------------------------


def test_a_task_can_be_paused_and_resumed(api, task):
    paused = api.put(url(task.id), {"state": "paused"}, format="json")
    assert paused.status_code == 200
    assert paused.json()["state"] == "paused"
    assert snapshot(task)["state"] == "paused"

    resumed = api.put(url(task.id), {"state": "active"}, format="json")
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "active"
    assert snapshot(task)["state"] == "active"


def test_an_active_task_can_be_completed_and_reactivated(api, task):
    completed = api.put(url(task.id), {"state": "completed"}, format="json")
    assert completed.status_code == 200
    assert completed.json()["state"] == "completed"

    reactivated = api.put(url(task.id), {"state": "active"}, format="json")
    assert reactivated.status_code == 200
    assert reactivated.json()["state"] == "active"
    assert snapshot(task)["state"] == "active"


def test_setting_the_current_state_again_is_allowed(api, task):
    response = api.put(url(task.id), {"state": "active"}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "active"


def test_is_active_false_pauses_and_true_resumes_as_the_reference_advises(api, task):
    paused = api.put(url(task.id), {"is_active": False}, format="json")
    assert paused.status_code == 200
    assert paused.json()["state"] == "paused"
    assert "is_active" not in paused.json()
    assert snapshot(task)["state"] == "paused"

    resumed = api.put(url(task.id), {"is_active": True}, format="json")
    assert resumed.status_code == 200
    assert snapshot(task)["state"] == "active"


def test_is_active_that_contradicts_state_is_rejected_and_nothing_changes(api, task):
    before = snapshot(task)

    response = api.put(url(task.id), {"is_active": True, "state": "paused"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("is_active", "contradicts state paused", "value_error")]
    }
    assert snapshot(task) == before


def test_is_active_false_on_a_completed_task_is_an_invalid_transition(api, owner):
    task = make_task(owner, state=TaskState.COMPLETED)

    response = api.put(url(task.id), {"is_active": False}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid state transition: completed -> paused"}


@pytest.mark.parametrize(
    ("start", "target"),
    [(TaskState.PAUSED, "completed"), (TaskState.COMPLETED, "paused")],
)
def test_it_refuses_a_transition_the_state_machine_does_not_allow(api, owner, start, target):
    task = make_task(owner, state=start)
    before = snapshot(task)

    response = api.put(
        url(task.id),
        {"state": target, "name": "Should not stick", "schedule": "*/5 * * * *"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": f"Invalid state transition: {start} -> {target}"}
    assert snapshot(task) == before


def test_paused_to_completed_is_refused_with_the_exact_message(api, owner):
    task = make_task(owner, state=TaskState.PAUSED)

    response = api.put(url(task.id), {"state": "completed"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid state transition: paused -> completed"}
    assert snapshot(task)["state"] == "paused"


def test_it_rejects_an_unknown_state(api, task):
    response = api.put(url(task.id), {"state": "archived"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("state", "Input should be 'active', 'paused' or 'completed'", "enum")]
    }
    assert snapshot(task)["state"] == "active"


# --- Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["name", "search_query", "condition_description", "schedule", "notify_behavior", "state"],
)
def test_null_for_a_field_is_rejected(api, task, field):
    before = snapshot(task)

    response = api.put(url(task.id), {field: None}, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", field]
    assert snapshot(task) == before


@pytest.mark.parametrize(
    ("changes", "field", "type_"),
    [
        ({"search_query": "too short"}, "search_query", "string_too_short"),
        ({"condition_description": "c" * 501}, "condition_description", "string_too_long"),
        ({"name": "n" * 201}, "name", "string_too_long"),
        ({"name": ""}, "name", "string_too_short"),
        ({"schedule": "0 0 9 * * *"}, "schedule", "value_error"),
        ({"schedule": "0 9 30 2 *"}, "schedule", "value_error"),
        ({"notify_behavior": "sometimes"}, "notify_behavior", "enum"),
        ({"search_query": 12345678901}, "search_query", "string_type"),
    ],
)
def test_an_invalid_value_is_rejected_and_nothing_changes(api, task, changes, field, type_):
    before = snapshot(task)

    response = api.put(url(task.id), {"name": "Valid new name", **changes}, format="json")

    assert response.status_code == 422
    assert [(i["loc"], i["type"]) for i in response.json()["detail"]] == [(["body", field], type_)]
    assert snapshot(task) == before


def test_an_invalid_cron_reports_the_reference_message(api, task):
    response = api.put(url(task.id), {"schedule": "invalid"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("schedule", "Invalid cron expression", "value_error")]
    }


def test_an_empty_body_changes_nothing_but_updated_at(api, task):
    before = snapshot(task)

    response = api.put(url(task.id), {}, format="json")

    assert response.status_code == 200
    after = snapshot(task)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_read_only_fields_in_the_body_are_ignored(api, task, owner, other_user):
    response = api.put(
        url(task.id),
        {"user_id": str(other_user.pk), "id": str(uuid.uuid4()), "name": "Mine still"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["id"] == str(task.id)
    assert response.json()["user_id"] == str(owner.pk)
    task.refresh_from_db()
    assert task.owner == owner


def test_a_json_array_body_is_rejected(api, task):
    response = api.put(url(task.id), [{"name": "x"}], format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert response.json()["detail"][0]["type"] == "dict_type"


# --- Ownership and ids --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_another_users_task_is_forbidden_and_unchanged(api, foreign_task, method):
    before = snapshot(foreign_task)

    response = getattr(api, method)(
        url(foreign_task.id), {"name": "Hijacked", "state": "paused"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}
    assert snapshot(foreign_task) == before


def test_an_unknown_id_is_not_found(api):
    response = api.put(url(uuid.uuid4()), {"name": "Nobody"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_malformed_id_is_not_found(api, suffix):
    response = api.put(url("not-a-uuid") + suffix, {"name": "Nobody"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(
        ["name", "search_query", "condition_description", "schedule", "notify_behavior", "state"]
    ),
    value=json_values | st.sampled_from(["active", "paused", "completed", "once", "always"]),
)
def test_no_value_of_any_field_makes_it_fail(api, task, field, value):
    response = api.put(url(task.id), {field: value}, format="json")

    assert response.status_code in (200, 400, 422), response.content
