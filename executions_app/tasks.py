"""Celery tasks of runs: thin, taking ids only, over executions_app.runner."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="torale.executions.run", acks_late=True, reject_on_worker_lost=True)
def run_execution(execution_id: str) -> None:
    from executions_app.runner import execution_run

    execution_run(execution_id=execution_id)
