"""Real workers against the Gemini stand-in: a worker killed mid-run, and transient errors."""

import pytest
from rest_framework.test import APIClient

from executions_app.models import Execution, ExecutionStatus
from executions_app.services import execution_request_manual
from tests.factories import make_api_key, make_task
from tests.support.processes import process_env, start_beat, start_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOT_MET = "PS5 Pro is available for purchase at Best Buy"


def test_a_worker_killed_mid_run_leaves_exactly_one_success(owner, gemini, log_dir):
    # The first search hangs (the worker is killed meanwhile); later calls answer at once.
    gemini.script({"delay": 30})
    env = process_env(
        TORALE_RUN_SOFT_TIME_LIMIT="12",
        TORALE_RUN_TIME_LIMIT="15",
        TORALE_RUN_LEASE_SECONDS="16",
        TORALE_REAPER_INTERVAL_SECONDS="2",
    )
    procs = []
    try:
        doomed = start_worker("doomed", env, log_dir)
        procs += [doomed, start_beat("beat", env, log_dir)]
        run = execution_request_manual(task_id=make_task(owner).id, user=owner)
        wait_until(lambda: len(gemini.requests) >= 1, 20, message="the first search to start")
        assert Execution.objects.get(pk=run.pk).status == ExecutionStatus.RUNNING

        survivor = start_worker("survivor", env, log_dir)
        procs.append(survivor)
        doomed.kill()  # kill -9 of the worker and its pool, mid-request

        done = wait_until(
            lambda: Execution.objects.filter(pk=run.pk, status=ExecutionStatus.SUCCESS).first(),
            timeout=60,
            message="another worker to finish the run",
        )
        assert done.attempts == 2
        assert [r["attempt"] for r in done.attempt_errors] == [1]  # the lost one, in retries
        assert "torale.executions.run[" in survivor.output()
        assert Execution.objects.filter(task_id=run.task_id).count() == 1
        # One search of the dead attempt; one search and one evaluation of the second.
        assert len(gemini.requests) == 3
    finally:
        for proc in procs:
            proc.stop()


def test_503_twice_then_200_succeeds_and_the_history_shows_the_retries(owner, gemini, log_dir):
    gemini.script({"status": 503}, {"status": 503})
    env = process_env(TORALE_RUN_RETRY_BASE_SECONDS="1")
    worker = start_worker("worker", env, log_dir)
    try:
        task = make_task(owner, condition_description=NOT_MET)
        run = execution_request_manual(task_id=task.id, user=owner)

        wait_until(
            lambda: Execution.objects.filter(pk=run.pk, status=ExecutionStatus.SUCCESS).exists(),
            timeout=45,
            message="the run to succeed after its retries",
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(owner)}")
        shown = api.get(f"/api/v1/tasks/{task.id}/executions/{run.id}").json()
        assert shown["status"] == "success" and shown["attempts"] == 3
        assert [r["attempt"] for r in shown["retries"]] == [1, 2]
        assert all("503" in r["error"] for r in shown["retries"])
        assert shown["result"]["condition_met"] is False
    finally:
        worker.stop()
