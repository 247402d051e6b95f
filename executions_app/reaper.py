"""The reaper: no run or delivery is ever left hanging because a worker died or a message was
lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from executions_app.models import Execution, ExecutionStatus
from executions_app.outbox import deliveries_reap
from executions_app.services import publish_runs

logger = logging.getLogger(__name__)

BATCH = 500
WORKER_LOST = "The worker running this check stopped before finishing, {attempts} times; giving up"
NEVER_PICKED_UP = "No worker picked up this run within {minutes} minutes"


@dataclass(frozen=True)
class ReapReport:
    republished: int
    failed: int
    deliveries_republished: int = 0
    deliveries_failed: int = 0


def executions_reap() -> ReapReport:
    """Hand on runs whose worker vanished, publish runs whose message went missing, and
    fail the ones past every deadline. Returns what it did."""
    now = timezone.now()
    max_attempts = settings.TORALE_RUN_MAX_ATTEMPTS

    # Running past the lease: its worker is gone. Out of attempts -> failed.
    exhausted = Execution.objects.filter(
        status=ExecutionStatus.RUNNING, lease_expires_at__lt=now, attempts__gte=max_attempts
    )
    failed = 0
    for execution in exhausted[:BATCH]:
        failed += Execution.objects.filter(
            pk=execution.pk, status=ExecutionStatus.RUNNING, attempts=execution.attempts
        ).update(
            status=ExecutionStatus.FAILED,
            error_message=WORKER_LOST.format(attempts=execution.attempts),
            completed_at=now,
            lease_expires_at=None,
            updated_at=now,
        )

    # Pending for too long: nobody will run it.
    deadline = now - timedelta(seconds=settings.TORALE_RUN_PENDING_DEADLINE_SECONDS)
    minutes = settings.TORALE_RUN_PENDING_DEADLINE_SECONDS // 60
    stale_ids = list(
        Execution.objects.filter(
            status=ExecutionStatus.PENDING, created_at__lt=deadline
        ).values_list("pk", flat=True)[:BATCH]
    )
    failed += Execution.objects.filter(pk__in=stale_ids, status=ExecutionStatus.PENDING).update(
        status=ExecutionStatus.FAILED,
        error_message=NEVER_PICKED_UP.format(minutes=minutes),
        completed_at=now,
        updated_at=now,
    )

    # Claimable again but apparently without a message: publish once more. updated_at
    # marks the publication, so each run is re-sent at most once per republish interval.
    quiet_since = now - timedelta(seconds=settings.TORALE_RUN_REPUBLISH_SECONDS)
    orphaned = Execution.objects.filter(
        Q(status=ExecutionStatus.PENDING, updated_at__lt=quiet_since)
        | Q(status=ExecutionStatus.RETRYING, next_attempt_at__lt=quiet_since)
        | Q(status=ExecutionStatus.RUNNING, lease_expires_at__lt=now, attempts__lt=max_attempts),
    )
    ids = list(orphaned.values_list("pk", flat=True)[:BATCH])
    if ids:
        Execution.objects.filter(pk__in=ids).update(updated_at=now)
        publish_runs(ids)
    if ids or failed:
        logger.info("reaper: republished %d runs, failed %d", len(ids), failed)
    deliveries_republished, deliveries_failed = deliveries_reap(now)
    if deliveries_republished or deliveries_failed:
        logger.info(
            "reaper: republished %d deliveries, failed %d",
            deliveries_republished,
            deliveries_failed,
        )
    return ReapReport(
        republished=len(ids),
        failed=failed,
        deliveries_republished=deliveries_republished,
        deliveries_failed=deliveries_failed,
    )
