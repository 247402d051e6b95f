"""Editing and deleting a task in the admin goes through task_update and task_delete: the
API's validation, the next run and the PeriodicTask mirror follow."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from executions_app.models import Execution
from tasks_app.models import Task, TaskState
from tasks_app.scheduling import periodic_task_name
from tests.factories import make_execution

pytestmark = pytest.mark.django_db


def change_url(task: Task) -> str:
    return f"/admin/tasks_app/task/{task.pk}/change/"


def form_data(task: Task, **changes) -> dict:
    data = {
        "name": task.name,
        "search_query": task.search_query,
        "condition_description": task.condition_description,
        "schedule": task.schedule,
        "timezone": task.timezone,
        "notify_behavior": task.notify_behavior,
    }
    return {**data, **changes}


def test_the_change_page_links_the_periodic_task_executions_and_owner(admin_client, task):
    response = admin_client.get(change_url(task))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"/admin/django_celery_beat/periodictask/{task.periodic_task_id}/change/" in html
    assert periodic_task_name(task.pk) in html
    assert f"/admin/executions_app/execution/?task={task.pk}" in html
    assert f"/admin/torale/user/{task.owner_id}/change/" in html


def test_a_schedule_edit_is_normalised_and_moves_the_next_run_and_the_mirror(admin_client, task):
    before = task.next_run_at

    response = admin_client.post(
        change_url(task), form_data(task, schedule="  15   */2 * * * ", timezone="Asia/Tokyo")
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.schedule, task.timezone) == ("15 */2 * * *", "Asia/Tokyo")
    assert task.next_run_at != before
    crontab = PeriodicTask.objects.get(pk=task.periodic_task_id).crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("15", "*/2", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("schedule", "0 9 30 2 *", "Invalid cron expression"),
        ("schedule", "0 9 * * * *", "Invalid cron expression"),
        ("timezone", "Mars/Olympus", "Unknown time zone"),
        ("search_query", "too short", "String should have at least 10 characters"),
    ],
)
def test_it_refuses_what_the_api_refuses(admin_client, task, field, value, message):
    response = admin_client.post(change_url(task), form_data(task, **{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    task.refresh_from_db()
    assert getattr(task, field) != value


def test_the_state_is_not_a_field_of_the_form(admin_client, task):
    admin_client.post(change_url(task), form_data(task, state="paused"))

    task.refresh_from_db()
    assert task.state == TaskState.ACTIVE


def test_the_admin_cannot_add_a_task(admin_client):
    assert admin_client.get("/admin/tasks_app/task/add/").status_code == 403


def test_the_delete_page_counts_what_goes_instead_of_listing_it(admin_client, task):
    make_execution(task)
    make_execution(task)

    response = admin_client.get(f"/admin/tasks_app/task/{task.pk}/delete/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Executions: 2" in html and "Periodic tasks: 1" in html


def test_deleting_a_task_removes_its_periodic_task_and_runs(admin_client, task):
    make_execution(task)
    periodic_id = task.periodic_task_id

    response = admin_client.post(f"/admin/tasks_app/task/{task.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Task.objects.filter(pk=task.pk).exists()
    assert not PeriodicTask.objects.filter(pk=periodic_id).exists()
    assert not Execution.objects.filter(task_id=task.pk).exists()


def test_bulk_delete_removes_every_periodic_task(admin_client, task, foreign_task):
    response = admin_client.post(
        "/admin/tasks_app/task/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(task.pk), str(foreign_task.pk)],
        },
    )

    assert response.status_code == 302
    assert not Task.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="torale-task:").exists()
