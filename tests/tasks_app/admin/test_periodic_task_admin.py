"""django-celery-beat's PeriodicTask admin stays, with Torale's `torale-task:<uuid>` mirrors
read-only: their Task is the source of truth."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from tasks_app.models import TaskState
from tests.factories import make_task

pytestmark = pytest.mark.django_db

PERIODIC_TASKS = "/admin/django_celery_beat/periodictask/"


@pytest.fixture
def other_periodic(db) -> PeriodicTask:
    """A periodic task of someone else's (not a Torale mirror)."""
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    return PeriodicTask.objects.create(
        name="cleanup", task="torale.executions.reap", interval=every
    )


def test_a_mirror_page_is_read_only_and_points_to_its_task(admin_client, task):
    response = admin_client.get(f"{PERIODIC_TASKS}{task.periodic_task_id}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "source of truth" in html
    assert f'href="/admin/tasks_app/task/{task.pk}/change/"' in html
    assert 'name="_save"' not in html
    assert response.context["has_change_permission"] is False


def test_a_mirror_cannot_be_changed_or_deleted(admin_client, task):
    periodic = PeriodicTask.objects.get(pk=task.periodic_task_id)

    change = admin_client.post(
        f"{PERIODIC_TASKS}{periodic.pk}/change/", {"name": periodic.name, "enabled": ""}
    )
    delete = admin_client.post(f"{PERIODIC_TASKS}{periodic.pk}/delete/", {"post": "yes"})

    assert change.status_code == 403
    assert delete.status_code == 403
    assert PeriodicTask.objects.get(pk=periodic.pk).enabled is True


def test_the_bulk_actions_leave_mirrors_alone(admin_client, owner, other_periodic):
    paused = make_task(owner, state=TaskState.PAUSED)
    other_periodic.enabled = False
    other_periodic.save()

    response = admin_client.post(
        PERIODIC_TASKS,
        {
            "action": "enable_tasks",
            "_selected_action": [str(paused.periodic_task_id), str(other_periodic.pk)],
        },
        follow=True,
    )

    assert PeriodicTask.objects.get(pk=paused.periodic_task_id).enabled is False
    assert PeriodicTask.objects.get(pk=other_periodic.pk).enabled is True
    levels = [m.level_tag for m in get_messages(response.wsgi_request)]
    assert "warning" in levels


def test_a_crontab_used_by_a_mirror_cannot_be_deleted(admin_client, task):
    crontab = PeriodicTask.objects.get(pk=task.periodic_task_id).crontab

    url = f"/admin/django_celery_beat/crontabschedule/{crontab.pk}/delete/"

    page = admin_client.get(url)
    response = admin_client.post(url, {"post": "yes"})

    assert page.status_code == 403
    assert response.status_code == 403
    assert CrontabSchedule.objects.filter(pk=crontab.pk).exists()
    assert PeriodicTask.objects.filter(pk=task.periodic_task_id).exists()


def test_other_periodic_tasks_stay_editable(admin_client, other_periodic):
    response = admin_client.get(f"{PERIODIC_TASKS}{other_periodic.pk}/change/")

    assert response.status_code == 200
    assert response.context["has_change_permission"] is True


def test_the_mirror_names_are_reserved(admin_client, task):
    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)

    response = admin_client.post(
        f"{PERIODIC_TASKS}add/",
        {
            "name": "torale-task:00000000-0000-0000-0000-000000000000",
            "regtask": "",
            "task": "torale.executions.reap",
            "enabled": "on",
            "interval": every.pk,
            "args": "[]",
            "kwargs": "{}",
            "priority": "",
            "expire_seconds": "",
            "headers": "{}",
        },
    )

    assert response.status_code == 200
    assert "belong to Torale tasks" in response.content.decode()
    assert not PeriodicTask.objects.filter(name__endswith="0000-000000000000").exists()


def test_the_list_links_each_mirror_to_its_task(admin_client, task):
    response = admin_client.get(PERIODIC_TASKS, {"torale_mirror": "yes"})

    assert f'href="/admin/tasks_app/task/{task.pk}/change/"' in response.content.decode()
