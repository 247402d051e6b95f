"""The reaper: no run stays pending or running forever."""

from datetime import timedelta

import pytest
from django.utils import timezone

from executions_app.models import Execution, ExecutionStatus
from executions_app.reaper import executions_reap
from executions_app.runner import execution_claim
from executions_app.services import executions_create_scheduled
from tests.factories import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(owner):
    task = make_task(owner)
    [run_id] = executions_create_scheduled(slots=[(str(task.id), timezone.now().isoformat())])
    return Execution.objects.get(pk=run_id)


def expire_lease(run):
    Execution.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=5)
    )


def test_a_run_whose_worker_died_is_published_again(run):
    execution_claim(execution_id=run.id)
    expire_lease(run)

    report = executions_reap()

    assert report.republished == 1 and report.failed == 0
    assert Execution.objects.get(pk=run.pk).status == ExecutionStatus.RUNNING  # claimable again
    assert execution_claim(execution_id=run.id) is not None


def test_a_run_that_lost_every_attempt_fails_with_a_clear_message(run, settings):
    settings.TORALE_RUN_MAX_ATTEMPTS = 2
    for _ in range(2):
        assert execution_claim(execution_id=run.id) is not None
        expire_lease(run)

    report = executions_reap()

    failed = Execution.objects.get(pk=run.pk)
    assert report.failed == 1
    assert failed.status == ExecutionStatus.FAILED
    assert failed.error_message == (
        "The worker running this check stopped before finishing, 2 times; giving up"
    )


def test_a_run_nobody_picked_up_is_published_again_then_failed(run, settings):
    Execution.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    assert executions_reap().republished == 1
    assert executions_reap().republished == 0  # not again before the next interval

    Execution.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=2))
    executions_reap()

    failed = Execution.objects.get(pk=run.pk)
    assert failed.status == ExecutionStatus.FAILED
    assert failed.error_message == "No worker picked up this run within 60 minutes"


def test_a_healthy_run_is_left_alone(run):
    execution_claim(execution_id=run.id)

    report = executions_reap()

    assert report.republished == 0 and report.failed == 0
    assert Execution.objects.get(pk=run.pk).status == ExecutionStatus.RUNNING
