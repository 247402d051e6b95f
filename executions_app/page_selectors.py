"""Reads behind a task's page: its run history, its notification deliveries and a daily tally
of outcomes for the chart.

Each function takes a task the caller already loaded with tasks_app.selectors.task_get_for_user
(which checks the owner), so one page load checks ownership once, not once per section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from executions_app.models import Delivery, Execution, ExecutionStatus

# A delivery row names its run by time; the run's large columns are not needed for that.
_EXECUTION_BULK = [
    f"execution__{name}"
    for name in ("answer", "reasoning", "grounding_sources", "attempt_errors", "error_message")
]


def execution_history_for_task(*, task) -> QuerySet[Execution]:
    """The task's runs, newest first (index execution_task_created)."""
    return Execution.objects.filter(task=task).order_by("-created_at", "-id")


def delivery_list_for_task(*, task) -> QuerySet[Delivery]:
    """The task's notification deliveries, newest first, each with its run and its attempts
    (index delivery_task_created; the attempts come in one extra query per page)."""
    return (
        Delivery.objects.filter(task=task)
        .select_related("execution")
        .defer(*_EXECUTION_BULK)
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class DayOutcomes:
    day: date
    met: int
    not_met: int
    failed: int

    @property
    def total(self) -> int:
        return self.met + self.not_met + self.failed


def execution_outcomes_by_day(
    *, task, days: int = 30, zone: tzinfo | None = None, now: datetime | None = None
) -> list[DayOutcomes]:
    """Finished runs of the last `days` days (today included), counted per calendar day in
    `zone` (default: the active time zone): met, not met, failed. Every day is present,
    oldest first; runs still in flight and cancelled ones are not counted."""
    zone = zone or timezone.get_current_timezone()
    today = timezone.localtime(now or timezone.now(), zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    success = Q(status=ExecutionStatus.SUCCESS)
    rows = (
        Execution.objects.filter(task=task, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            met=Count("id", filter=success & Q(condition_met=True)),
            not_met=Count("id", filter=success & Q(condition_met=False)),
            failed=Count("id", filter=Q(status=ExecutionStatus.FAILED)),
        )
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        result.append(
            DayOutcomes(
                day=day,
                met=row.get("met", 0),
                not_met=row.get("not_met", 0),
                failed=row.get("failed", 0),
            )
        )
    return result
