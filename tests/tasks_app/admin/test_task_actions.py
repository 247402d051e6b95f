"""The Task changelist's actions change tasks through the API's services: pause and resume
move the state (and the PeriodicTask mirror), run now requests a manual run."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django_celery_beat.models import PeriodicTask

from executions_app.models import Execution, ExecutionStatus, ExecutionTrigger
from tasks_app.models import Task, TaskState
from tests.factories import make_execution, make_task

pytestmark = pytest.mark.django_db

TASKS = "/admin/tasks_app/task/"


def act(client, action: str, *tasks: Task):
    return client.post(
        TASKS,
        {"action": action, "_selected_action": [str(task.pk) for task in tasks]},
        follow=True,
    )


def shown(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_pause_disables_the_periodic_task_and_clears_the_next_run(admin_client, task):
    response = act(admin_client, "pause", task)

    task.refresh_from_db()
    assert task.state == TaskState.PAUSED
    assert task.next_run_at is None
    assert PeriodicTask.objects.get(pk=task.periodic_task_id).enabled is False
    assert ("success", 'Paused 1 task: "Owner\'s task".') in shown(response)


def test_resume_enables_the_periodic_task_again(admin_client, owner):
    paused = make_task(owner, state=TaskState.PAUSED)

    act(admin_client, "resume", paused)

    paused.refresh_from_db()
    assert paused.state == TaskState.ACTIVE
    assert paused.next_run_at is not None
    assert PeriodicTask.objects.get(pk=paused.periodic_task_id).enabled is True


def test_pausing_a_completed_task_is_refused_with_the_services_reason(admin_client, owner):
    done = make_task(owner, state=TaskState.COMPLETED)

    response = act(admin_client, "pause", done)

    done.refresh_from_db()
    assert done.state == TaskState.COMPLETED
    assert response.status_code == 200
    assert any(
        level == "warning" and "Invalid state transition: completed -> paused" in text
        for level, text in shown(response)
    )


def test_pausing_a_paused_task_says_it_was_left_alone(admin_client, owner):
    paused = make_task(owner, state=TaskState.PAUSED)

    response = act(admin_client, "pause", paused)

    assert ("info", "1 were paused already and were left alone.") in shown(response)


def test_run_now_creates_a_manual_execution_and_says_so(admin_client, task):
    response = act(admin_client, "run_now", task)

    execution = Execution.objects.get(task=task)
    assert execution.trigger == ExecutionTrigger.MANUAL
    assert execution.status == ExecutionStatus.PENDING
    task.refresh_from_db()
    assert task.last_execution_id == execution.pk
    [(level, text)] = shown(response)
    assert level == "success"
    assert text.startswith("Started 1 run: ")
    assert f"/admin/executions_app/execution/{execution.pk}/change/" in text


def test_run_now_on_a_task_already_running_warns_and_starts_nothing(admin_client, task):
    running = make_execution(task, status=ExecutionStatus.RUNNING)

    response = act(admin_client, "run_now", task)

    assert response.status_code == 200
    assert list(Execution.objects.filter(task=task)) == [running]
    [(level, text)] = shown(response)
    assert level == "warning"
    assert "Already running or pending" in text and "Owner's task" in text


def test_run_now_runs_the_idle_tasks_of_a_mixed_selection(admin_client, owner, task):
    busy = make_task(owner, name="Busy task")
    make_execution(busy, status=ExecutionStatus.PENDING)

    response = act(admin_client, "run_now", task, busy)

    assert Execution.objects.filter(task=task).count() == 1
    assert Execution.objects.filter(task=busy).count() == 1
    assert [level for level, _ in shown(response)] == ["success", "warning"]


def test_forced_run_now_cancels_the_run_in_flight(admin_client, task):
    running = make_execution(task, status=ExecutionStatus.RUNNING)

    act(admin_client, "run_now_force", task)

    running.refresh_from_db()
    assert running.status == ExecutionStatus.CANCELLED
    assert Execution.objects.filter(task=task, status=ExecutionStatus.PENDING).count() == 1


def test_the_actions_are_offered_under_their_stable_names(admin_client, task):
    response = admin_client.get(TASKS)

    html = response.content.decode()
    assert '<option value="run_now">Run the selected tasks now</option>' in html
    assert '<option value="pause">' in html and '<option value="resume">' in html
