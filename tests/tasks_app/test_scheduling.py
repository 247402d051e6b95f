"""Each task's schedule: next_run_at, its PeriodicTask mirror, and dispatch of due slots."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from tasks_app.models import Task
from tasks_app.scheduling import DueSlot, periodic_task_name, schedule_dispatch_due
from tasks_app.services import task_delete, task_update
from tests.factories import make_task

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def mirror(task) -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(name=periodic_task_name(task.id))


class Collector:
    def __init__(self):
        self.slots: list[DueSlot] = []

    def __call__(self, slots):
        self.slots.extend(slots)


def dispatch(now, limit=1000):
    published = Collector()
    schedule_dispatch_due(now=now, limit=limit, publish=published)
    return published.slots


@time_machine.travel(at(2026, 6, 1, 8, 0, 30), tick=False)
def test_a_new_task_gets_its_next_instant_and_an_enabled_mirror(owner):
    task = make_task(owner, schedule="0 9 * * mon-fri", timezone="America/New_York")

    assert task.next_run_at == at(2026, 6, 1, 13, 0)  # 09:00 EDT, a Monday
    periodic = mirror(task)
    assert periodic.enabled
    assert periodic.task == "torale.executions.run_scheduled"
    assert json.loads(periodic.kwargs) == {"task_id": str(task.id)}
    assert str(periodic.crontab.timezone) == "America/New_York"
    assert (periodic.crontab.minute, periodic.crontab.hour, periodic.crontab.day_of_week) == (
        "0",
        "9",
        "mon-fri",
    )
    assert Task.objects.get(pk=task.pk).periodic_task_id == periodic.pk


@time_machine.travel(at(2026, 6, 1, 8, 0, 30), tick=False)
def test_pausing_stops_the_schedule_and_resuming_rearms_it(owner):
    task = make_task(owner)

    paused = task_update(task_id=task.id, user=owner, changes={"state": "paused"})
    assert paused.next_run_at is None
    assert not mirror(task).enabled
    assert dispatch(at(2026, 6, 2, 0, 0)) == []

    resumed = task_update(task_id=task.id, user=owner, changes={"state": "active"})
    assert resumed.next_run_at == at(2026, 6, 1, 9, 0)
    assert mirror(task).enabled


@time_machine.travel(at(2026, 6, 1, 8, 0, 30), tick=False)
def test_a_schedule_change_moves_the_next_instant_and_the_mirror(owner):
    task = make_task(owner)

    updated = task_update(
        task_id=task.id,
        user=owner,
        changes={"schedule": "*/15 * * * *", "timezone": "Asia/Kolkata"},
    )

    assert updated.next_run_at == at(2026, 6, 1, 8, 15)
    assert mirror(task).crontab.minute == "*/15"
    assert str(mirror(task).crontab.timezone) == "Asia/Kolkata"


def test_deleting_a_task_removes_its_periodic_task(owner):
    task = make_task(owner)

    task_delete(task_id=task.id, user=owner)

    assert not PeriodicTask.objects.filter(name=periodic_task_name(task.id)).exists()


def test_an_operator_deleting_the_periodic_task_breaks_nothing(owner):
    task = make_task(owner)
    mirror(task).delete()

    still = Task.objects.get(pk=task.pk)
    assert still.next_run_at is not None and still.periodic_task_id is None
    task_update(task_id=task.id, user=owner, changes={"name": "Renamed"})
    assert mirror(task).enabled
    assert Task.objects.get(pk=task.pk).periodic_task_id == mirror(task).pk


def test_the_task_not_the_mirror_decides_what_runs(owner):
    with time_machine.travel(at(2026, 6, 1, 8, 0, 30), tick=False):
        task = make_task(owner)
        PeriodicTask.objects.filter(pk=mirror(task).pk).update(enabled=False)

    assert [s.task_id for s in dispatch(at(2026, 6, 1, 9, 0, 0))] == [str(task.id)]


def test_a_due_task_is_published_once_and_advanced(owner):
    with time_machine.travel(at(2026, 6, 1, 8, 59, 30), tick=False):
        task = make_task(owner)

    first = dispatch(at(2026, 6, 1, 9, 0, 0, 200000))
    again = dispatch(at(2026, 6, 1, 9, 0, 1))

    assert first == [DueSlot(task_id=str(task.id), scheduled_for=at(2026, 6, 1, 9, 0))]
    assert again == []
    assert Task.objects.get(pk=task.pk).next_run_at == at(2026, 6, 2, 9, 0)


def test_nothing_is_published_before_the_instant(owner):
    with time_machine.travel(at(2026, 6, 1, 8, 59, 30), tick=False):
        make_task(owner)

    assert dispatch(at(2026, 6, 1, 8, 59, 59, 999999)) == []


def test_after_downtime_only_the_latest_missed_slot_runs(owner):
    with time_machine.travel(at(2026, 6, 1, 8, 0, 30), tick=False):
        task = make_task(owner, schedule="*/5 * * * *")

    slots = dispatch(at(2026, 6, 1, 9, 2, 0))

    assert slots == [DueSlot(task_id=str(task.id), scheduled_for=at(2026, 6, 1, 9, 0))]
    assert Task.objects.get(pk=task.pk).next_run_at == at(2026, 6, 1, 9, 5)


def test_a_failed_publish_advances_nothing(owner):
    with time_machine.travel(at(2026, 6, 1, 8, 59, 30), tick=False):
        task = make_task(owner)

    def broker_down(slots):
        raise ConnectionError("broker unreachable")

    with pytest.raises(ConnectionError):
        schedule_dispatch_due(now=at(2026, 6, 1, 9, 0, 1), limit=100, publish=broker_down)

    assert Task.objects.get(pk=task.pk).next_run_at == at(2026, 6, 1, 9, 0)
    assert len(dispatch(at(2026, 6, 1, 9, 0, 2))) == 1


def test_dispatch_works_in_batches_oldest_first(owner):
    with time_machine.travel(at(2026, 6, 1, 8, 0, 30), tick=False):
        early = make_task(owner, schedule="15 8 * * *")  # due first, at 08:15
        tasks = [make_task(owner, schedule="30 8 * * *") for _ in range(4)]

    now = at(2026, 6, 2, 8, 45)
    first = dispatch(now, limit=2)
    rest = dispatch(now, limit=10)

    assert first[0].task_id == str(early.id)
    assert {s.task_id for s in first + rest} == {str(t.id) for t in [early, *tasks]}
    assert len(first) == 2 and len(rest) == 3
