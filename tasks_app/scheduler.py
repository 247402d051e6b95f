"""TaskScheduler: the Celery beat scheduler of Torale.

Run it with `celery -A torale.celery beat --scheduler tasks_app.scheduler:TaskScheduler`.

Unlike django-celery-beat's DatabaseScheduler it keeps no copy of the schedule in memory
and never reloads it: each tick asks the database for the tasks whose `next_run_at` has
passed (a partial index), advances them, and publishes their slots in a few chunked
messages. Start-up loads nothing, memory stays flat with the number of tasks, and a change
to a task is seen on the next tick because the task write itself updates `next_run_at`.
Static entries from CELERY_BEAT_SCHEDULE (the reaper) run through Celery's own logic.
Only the holder of the leader lock dispatches anything.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import beat
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from tasks_app.scheduling import DueSlot, schedule_dispatch_due, schedule_next_due_at
from torale.leader import leader_lock

logger = logging.getLogger(__name__)

DISPATCH_TASK = "torale.executions.dispatch_slots"
# How often the scheduler looks for due tasks at the least, and at the most.
MAX_WAIT_SECONDS = 1.0
MIN_WAIT_SECONDS = 0.02
STANDBY_WAIT_SECONDS = 2.0


class TaskScheduler(beat.Scheduler):
    def __init__(self, *args, **kwargs):
        self.leader = leader_lock("beat")
        self.batch_size = settings.TORALE_SCHEDULER_BATCH_SIZE
        self.chunk_size = settings.TORALE_SCHEDULER_CHUNK_SIZE
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if not self.leader.acquire_or_renew():
            return STANDBY_WAIT_SECONDS
        close_old_connections()
        static_wait = super().tick(*args, **kwargs)
        try:
            due_wait = self.dispatch_due()
        except Exception:  # a database blip must not kill beat; the next tick retries
            logger.exception("dispatch of due tasks failed")
            close_old_connections()
            due_wait = STANDBY_WAIT_SECONDS
        return max(MIN_WAIT_SECONDS, min(static_wait, due_wait))

    def dispatch_due(self) -> float:
        """Publish every due slot; returns seconds until the next one (at most 1 s)."""
        now = timezone.now()
        while True:
            slots = schedule_dispatch_due(now=now, limit=self.batch_size, publish=self.publish)
            if slots:
                logger.info("dispatched %d scheduled runs", len(slots))
            if len(slots) < self.batch_size:
                break
            if not self.leader.acquire_or_renew():
                return STANDBY_WAIT_SECONDS
        next_due = schedule_next_due_at()
        if next_due is None:
            return MAX_WAIT_SECONDS
        return min(MAX_WAIT_SECONDS, (next_due - timezone.now()) / timedelta(seconds=1))

    def publish(self, slots: list[DueSlot]) -> None:
        """Send the slots in chunks, pipelined to the broker in one round trip per batch."""
        with self.app.producer_or_acquire() as producer, producer.batch(max_size=1000):
            for start in range(0, len(slots), self.chunk_size):
                chunk = slots[start : start + self.chunk_size]
                self.app.send_task(
                    DISPATCH_TASK,
                    kwargs={
                        "slots": [[s.task_id, s.scheduled_for.isoformat()] for s in chunk],
                        "published_at": time.time(),
                    },
                    producer=producer,
                )

    def close(self) -> None:
        self.leader.release()
        super().close()

    @property
    def info(self) -> str:
        return "    . db -> torale tasks (next_run_at index), leader-locked"
