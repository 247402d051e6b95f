"""Celery tasks of runs and notification deliveries: thin, taking ids only, over the
services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from executions_app.outbox import delivery_send
from executions_app.reaper import executions_reap
from executions_app.runner import execution_run
from executions_app.services import executions_create_scheduled


@shared_task(name="torale.executions.run", acks_late=True, reject_on_worker_lost=True)
def run_execution(execution_id: str) -> None:
    execution_run(execution_id=execution_id)


@shared_task(name="torale.executions.dispatch_slots", acks_late=True)
def dispatch_slots(slots: list, published_at: float | None = None) -> None:
    """Beat's chunk of due slots [[task_id, scheduled_for], ...]: create their runs."""
    executions_create_scheduled(slots=[(task_id, when) for task_id, when in slots])


@shared_task(name="torale.executions.run_scheduled", acks_late=True)
def run_scheduled(task_id: str, scheduled_for: str | None = None) -> None:
    """One slot; the name that each task's PeriodicTask mirror carries."""
    executions_create_scheduled(slots=[(task_id, scheduled_for)])


@shared_task(name="torale.executions.reap")
def reap() -> None:
    executions_reap()


@shared_task(
    name="torale.notifications.deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    # Below the delivery lease: a live sender is stopped before anyone may take over.
    soft_time_limit=settings.TORALE_DELIVERY_TIME_LIMIT_SECONDS - 2,
    time_limit=settings.TORALE_DELIVERY_TIME_LIMIT_SECONDS,
)
def deliver(delivery_id: str) -> None:
    delivery_send(delivery_id=delivery_id)
