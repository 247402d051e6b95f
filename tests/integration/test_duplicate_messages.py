"""A beat message delivered twice, through the real broker to a real worker, runs once."""

from datetime import UTC, datetime

import pytest

from executions_app.models import Execution, ExecutionStatus
from tests.factories import make_task
from tests.support.processes import process_env, start_worker, wait_until
from torale.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_same_dispatch_message_twice_makes_one_execution(owner, log_dir, settings):
    settings.GEMINI_API_KEY = ""
    settings.GEMINI_BASE_URL = ""
    worker = start_worker("worker", process_env(), log_dir, concurrency=2)
    try:
        task = make_task(owner, schedule="*/5 * * * *")
        slot = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
        message = {"slots": [[str(task.id), slot.isoformat()]]}
        for _ in range(2):
            app.send_task("torale.executions.dispatch_slots", kwargs=message)
        app.send_task(
            "torale.executions.run_scheduled",
            kwargs={"task_id": str(task.id), "scheduled_for": slot.isoformat()},
        )

        wait_until(
            lambda: (
                worker.output().count("torale.executions.run[") >= 1
                and worker.output().count("succeeded") >= 4
            ),
            timeout=30,
            message="the worker to handle every message",
        )
        runs = list(Execution.objects.filter(task=task))
        assert len(runs) == 1
        assert runs[0].scheduled_for == slot
        wait_until(
            lambda: Execution.objects.get(pk=runs[0].pk).status == ExecutionStatus.FAILED,
            timeout=15,
            message="the run to finish",
        )
        assert Execution.objects.get(pk=runs[0].pk).attempts == 1
    finally:
        worker.stop()
