import uuid

import pytest

from tests.factories import make_execution, make_task

pytestmark = pytest.mark.django_db


def url(task_id, execution_id) -> str:
    return f"/api/v1/tasks/{task_id}/executions/{execution_id}"


def test_it_returns_one_run(api, task):
    run = make_execution(task)

    for path in (url(task.id, run.id), url(task.id, run.id) + "/"):
        response = api.get(path)
        assert response.status_code == 200
        assert response.json()["id"] == str(run.id)
        assert response.json()["task_id"] == str(task.id)


@pytest.mark.parametrize("execution_id", [uuid.uuid4(), "nope"])
def test_an_unknown_run_is_not_found(api, task, execution_id):
    response = api.get(url(task.id, execution_id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Execution not found"}


def test_a_run_of_another_of_my_tasks_is_not_found_under_this_task(api, owner, task):
    run = make_execution(make_task(owner, name="second"))

    assert api.get(url(task.id, run.id)).status_code == 404


def test_another_users_run_is_forbidden(other_api, task):
    run = make_execution(task)

    response = other_api.get(url(task.id, run.id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}
