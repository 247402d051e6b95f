"""How tasks, runs and notifications read on the pages: schedules in words, outcomes in
words, and the outcome chart."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cron_descriptor import ExpressionDescriptor, Options
from django import template

from executions_app.models import DeliveryStatus, ExecutionStatus

register = template.Library()


# --- Schedules -----------------------------------------------------------------------------------


def _describe(expression: str) -> str:
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    return ExpressionDescriptor(expression, options).get_description()


@lru_cache(maxsize=1024)
def schedule_in_words(expression: str) -> str:
    """ "0 9 * * *" -> "At 09:00, every day"; the expression itself if it cannot be read.

    Day-of-month and day-of-week both restricted fire on either (standard cron, as croniter
    runs it), while cron-descriptor's words suggest both: say "or".
    """
    try:
        words = _describe(expression)
        fields = expression.split()
        if len(fields) != 5:
            return expression
        minute, hour, day_of_month, month, day_of_week = fields
        if day_of_month != "*" and day_of_week != "*":
            weekdays = _describe(f"* * * * {day_of_week}").removeprefix("Every minute, ")
            if weekdays and f", {weekdays}" in words:
                words = words.replace(f", {weekdays}", f", or {weekdays.removeprefix('only ')}")
        elif day_of_month == month == day_of_week == "*" and words.startswith("At "):
            words += ", every day"
        return words
    except Exception:  # cron-descriptor signals what it cannot read with many exception types
        return expression


@register.filter
def schedule_words(task) -> str:
    """The task's schedule in words with the zone it is read in: "At 09:00, every day, UTC"."""
    return f"{schedule_in_words(task.schedule)}, {task.timezone}"


# --- Outcomes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    label: str
    kind: str  # a CSS modifier: met, not-met, failed, running, muted


_RUN_OUTCOMES = {
    ExecutionStatus.FAILED: Outcome("Failed", "failed"),
    ExecutionStatus.PENDING: Outcome("Queued", "running"),
    ExecutionStatus.RUNNING: Outcome("Running", "running"),
    ExecutionStatus.RETRYING: Outcome("Retrying", "running"),
    ExecutionStatus.CANCELLED: Outcome("Cancelled", "muted"),
}


@register.filter
def run_outcome(execution) -> Outcome | None:
    """What a run came to, in words: met / not met / failed, or where it stands."""
    if execution is None:
        return None
    if execution.status == ExecutionStatus.SUCCESS:
        return Outcome("Met", "met") if execution.condition_met else Outcome("Not met", "not-met")
    return _RUN_OUTCOMES.get(execution.status, Outcome(execution.status, "muted"))


_DELIVERY_OUTCOMES = {
    DeliveryStatus.SENT: Outcome("Sent", "met"),
    DeliveryStatus.FAILED: Outcome("Failed", "failed"),
    DeliveryStatus.RETRYING: Outcome("Retrying", "running"),
    DeliveryStatus.PENDING: Outcome("Waiting to send", "running"),
    DeliveryStatus.SENDING: Outcome("Sending", "running"),
    DeliveryStatus.SKIPPED: Outcome("Not sent", "failed"),
}


@register.filter
def delivery_outcome(delivery) -> Outcome:
    """A notification's outcome in words; only a delivery the receiver accepted reads Sent."""
    return _DELIVERY_OUTCOMES.get(delivery.status, Outcome(delivery.status, "muted"))


# --- Chart ---------------------------------------------------------------------------------------

CHART_WIDTH = 600
CHART_HEIGHT = 120
CHART_GAP = 2


@register.inclusion_tag("tasks/_outcome_chart.html")
def outcome_chart(days) -> dict:
    """Stacked daily bars of met / not met / failed runs, as inline SVG with a text summary
    (the chart is an image to screen readers; the summary says the same)."""
    days = list(days)
    peak = max((d.total for d in days), default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        x = round(index * slot + CHART_GAP / 2, 2)
        width = round(max(slot - CHART_GAP, 1), 2)
        y = CHART_HEIGHT
        segments = []
        for kind, count in (("met", day.met), ("not-met", day.not_met), ("failed", day.failed)):
            if not count:
                continue
            height = round(CHART_HEIGHT * count / peak, 2)
            y = round(y - height, 2)
            segments.append({"kind": kind, "y": y, "height": height})
        bars.append({"day": day, "x": x, "width": width, "segments": segments})
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "peak": peak,
        "first": days[0].day if days else None,
        "last": days[-1].day if days else None,
        "totals": {
            "met": sum(d.met for d in days),
            "not_met": sum(d.not_met for d in days),
            "failed": sum(d.failed for d in days),
        },
    }
