import uuid

import pytest
from django_celery_beat.models import PeriodicTask

from executions_app.models import Execution
from tasks_app.models import Task
from tests.factories import make_execution, make_task

pytestmark = pytest.mark.django_db


def url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}"


def scheduled_job(task):
    """The task's django-celery-beat job, if it still has one."""
    return PeriodicTask.objects.filter(name=f"torale-task:{task.id}").first()


def test_it_deletes_the_task(api, task):
    response = api.delete(url(task.id))

    assert response.status_code == 204
    assert response.content == b""
    assert not Task.objects.filter(pk=task.pk).exists()
    assert api.get(url(task.id)).status_code == 404


def test_it_deletes_the_tasks_runs_too(api, task):
    make_execution(task, status="failed")
    make_execution(task, status="success", condition_met=True)

    response = api.delete(url(task.id))

    assert response.status_code == 204
    assert not Execution.objects.filter(task_id=task.id).exists()


def test_it_deletes_the_tasks_scheduled_job(api, task):
    assert scheduled_job(task) is not None

    api.delete(url(task.id))

    assert scheduled_job(task) is None


def test_it_leaves_the_users_other_tasks_alone(api, owner, task):
    kept = make_task(owner, name="Kept")
    make_execution(kept)

    api.delete(url(task.id))

    assert Task.objects.filter(pk=kept.pk).exists()
    assert Execution.objects.filter(task=kept).count() == 1
    assert scheduled_job(kept).enabled


def test_deleting_twice_is_not_found_the_second_time(api, task):
    api.delete(url(task.id))

    response = api.delete(url(task.id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_it_answers_with_and_without_a_trailing_slash(api, task, suffix):
    response = api.delete(url(task.id) + suffix)

    assert response.status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


def test_another_users_task_is_forbidden_and_kept(api, foreign_task):
    make_execution(foreign_task)

    response = api.delete(url(foreign_task.id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}
    assert Task.objects.filter(pk=foreign_task.pk).exists()
    assert Execution.objects.filter(task=foreign_task).count() == 1
    assert scheduled_job(foreign_task).enabled


def test_an_unknown_id_is_not_found(api, task):
    response = api.delete(url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert Task.objects.count() == 1


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_malformed_id_is_not_found(api, task, suffix):
    response = api.delete(url("not-a-uuid") + suffix)

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert Task.objects.count() == 1


def test_it_needs_authentication(anon_api, task):
    response = anon_api.delete(url(task.id))

    assert response.status_code == 401
    assert Task.objects.filter(pk=task.pk).exists()
