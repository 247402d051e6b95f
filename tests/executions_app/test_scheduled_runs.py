"""Slots published by beat become runs exactly once."""

from datetime import UTC, datetime

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from executions_app.models import Execution
from executions_app.services import executions_create_scheduled
from tasks_app.models import Task
from tasks_app.scheduling import periodic_task_name
from tasks_app.services import task_update
from tests.factories import make_task

pytestmark = pytest.mark.django_db

SLOT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_a_slot_becomes_one_pending_scheduled_run(owner, django_capture_on_commit_callbacks):
    task = make_task(owner)

    with django_capture_on_commit_callbacks() as published:
        created = executions_create_scheduled(slots=[(str(task.id), SLOT.isoformat())])

    run = Execution.objects.get(task=task)
    assert created == [str(run.id)]
    assert (run.trigger, run.status, run.scheduled_for) == ("scheduled", "pending", SLOT)
    assert Task.objects.get(pk=task.pk).last_execution_id == run.id
    assert len(published) == 1
    mirror = PeriodicTask.objects.get(name=periodic_task_name(task.id))
    assert mirror.total_run_count == 1 and mirror.last_run_at is not None


def test_the_same_slot_delivered_twice_creates_one_run(owner):
    task = make_task(owner)

    first = executions_create_scheduled(slots=[(str(task.id), SLOT.isoformat())])
    second = executions_create_scheduled(slots=[(str(task.id), SLOT.isoformat())])

    assert len(first) == 1 and second == []
    assert Execution.objects.filter(task=task).count() == 1


def test_a_chunk_creates_runs_for_active_tasks_only(owner):
    active = make_task(owner)
    paused = make_task(owner, state="paused")
    deleted_id = "2f1d6c55-0d8b-4b57-9d39-0a4c6b1c0000"

    created = executions_create_scheduled(
        slots=[
            (str(active.id), SLOT.isoformat()),
            (str(paused.id), SLOT.isoformat()),
            (deleted_id, SLOT.isoformat()),
        ]
    )

    assert len(created) == 1
    assert Execution.objects.get().task_id == active.id


def test_a_message_without_a_slot_runs_the_latest_instant(owner):
    with time_machine.travel(datetime(2026, 6, 1, 8, 0, tzinfo=UTC), tick=False):
        task = make_task(owner, schedule="*/10 * * * *")
    with time_machine.travel(datetime(2026, 6, 1, 9, 17, 5, tzinfo=UTC), tick=False):
        executions_create_scheduled(slots=[(str(task.id), None)])
        executions_create_scheduled(slots=[(str(task.id), None)])

    assert list(Execution.objects.values_list("scheduled_for", flat=True)) == [
        datetime(2026, 6, 1, 9, 10, tzinfo=UTC)
    ]


def test_runs_are_not_created_for_a_task_paused_after_its_slot(owner):
    task = make_task(owner)
    task_update(task_id=task.id, user=owner, changes={"state": "paused"})

    assert executions_create_scheduled(slots=[(str(task.id), SLOT.isoformat())]) == []
