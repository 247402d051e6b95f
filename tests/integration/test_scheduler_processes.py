"""The real processes: a Celery worker and two beats (one leader, one standby) on
PostgreSQL and Redis, running `* * * * *` tasks in real time."""

from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from executions_app.models import Execution, ExecutionStatus
from tasks_app.scheduling import periodic_task_name
from tasks_app.services import task_delete, task_update
from tests.factories import make_task
from tests.support.processes import process_env, start_beat, start_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEADER_KEY = "torale:leader:beat"


def slots(task) -> list[datetime]:
    return list(
        Execution.objects.filter(task_id=task.id)
        .order_by("scheduled_for")
        .values_list("scheduled_for", flat=True)
    )


def wait_past(moment: datetime, seconds: float = 8) -> None:
    """Sleep until `seconds` after `moment` (the runs of a slot have been created by then)."""
    wait_until(
        lambda: datetime.now(UTC) >= moment + timedelta(seconds=seconds),
        timeout=(moment - datetime.now(UTC)).total_seconds() + seconds + 5,
        interval=0.2,
        message=f"{moment} + {seconds}s",
    )


def leader_pid() -> int:
    value = redis.Redis.from_url(settings.REDIS_URL).get(LEADER_KEY)
    assert value, "no beat holds the leader lock"
    return int(value.decode().split(":")[0])


@pytest.fixture
def processes(log_dir, settings):
    settings.GEMINI_API_KEY = ""
    settings.GEMINI_BASE_URL = ""
    env = process_env(TORALE_LEADER_TTL_SECONDS="3")
    started = []
    try:
        started.append(start_worker("worker1", env, log_dir))
        started.append(start_beat("beat1", env, log_dir))
        wait_until(
            lambda: redis.Redis.from_url(settings.REDIS_URL).get(LEADER_KEY),
            15,
            message="a beat to lead",
        )
        started.append(start_beat("beat2", env, log_dir))
        yield {p.name: p for p in started}
    finally:
        for proc in started:
            proc.stop()


def test_every_minute_runs_once_and_pause_resume_delete_take_effect(owner, processes):
    steady = make_task(owner, name="steady", schedule="* * * * *")
    paused = make_task(owner, name="paused for a minute", schedule="* * * * *")
    deleted = make_task(owner, name="deleted", schedule="* * * * *")
    first = steady.next_run_at
    assert paused.next_run_at == first == deleted.next_run_at
    second, third = first + timedelta(minutes=1), first + timedelta(minutes=2)

    wait_past(first)
    assert slots(steady) == slots(paused) == slots(deleted) == [first]

    task_update(task_id=paused.id, user=owner, changes={"state": "paused"})
    task_delete(task_id=deleted.id, user=owner)
    assert not PeriodicTask.objects.filter(name=periodic_task_name(deleted.id)).exists()
    assert not PeriodicTask.objects.get(name=periodic_task_name(paused.id)).enabled

    # The leader dies: the standby must take over before the next minute.
    beats = {p.pid: p for p in (processes["beat1"], processes["beat2"])}
    beats[leader_pid()].kill()

    wait_past(second)
    assert slots(steady) == [first, second]
    assert slots(paused) == [first]
    assert not Execution.objects.filter(task_id=deleted.id).exists()

    task_update(task_id=paused.id, user=owner, changes={"state": "active"})
    wait_past(third)
    assert slots(steady) == [first, second, third]
    assert slots(paused) == [first, third]

    # Every run reached its end: no provider is configured, so each failed saying so.
    wait_until(
        lambda: not Execution.objects.exclude(status=ExecutionStatus.FAILED).exists(),
        timeout=20,
        message="all runs to finish",
    )
    assert set(Execution.objects.values_list("error_message", flat=True)) == {
        "No search provider configured: set GEMINI_API_KEY"
    }
