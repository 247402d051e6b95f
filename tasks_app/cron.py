"""The one cron parser: what the API accepts is exactly what the scheduler can iterate.

Expressions are standard five-field cron as croniter reads them (day-of-month and
day-of-week combine with OR, as in Vixie cron). croniter's random (`R`) and hashed (`H`)
values are refused because they would fire at instants nobody chose.
"""

from __future__ import annotations

from datetime import datetime, timezone

from croniter import croniter

INVALID_CRON = "Invalid cron expression"
CRON_FIELDS = 5


class InvalidCron(ValueError):
    pass


def normalize_cron(expression: str) -> str:
    """The expression with single spaces; raises InvalidCron unless croniter can iterate it."""
    if not isinstance(expression, str):
        raise InvalidCron(INVALID_CRON)
    fields = expression.split()
    if len(fields) != CRON_FIELDS:
        raise InvalidCron(INVALID_CRON)
    for field in fields:
        for part in field.split(","):
            if part[:1].upper() in {"R", "H"}:
                raise InvalidCron(INVALID_CRON)
    normalized = " ".join(fields)
    try:
        if not croniter.is_valid(normalized):
            raise InvalidCron(INVALID_CRON)
        # Some valid-looking expressions never fire (e.g. "0 9 30 2 *"): make sure it does.
        croniter(normalized, datetime.now(timezone.utc)).get_next(datetime)
    except InvalidCron:
        raise
    except Exception:  # croniter signals bad input with many exception types
        raise InvalidCron(INVALID_CRON) from None
    return normalized
