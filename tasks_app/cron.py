"""The one cron parser: what the API accepts is exactly what the scheduler can iterate.

Expressions are standard five-field cron as croniter reads them (day-of-month and
day-of-week combine with OR, as in Vixie cron). croniter's random (`R`) and hashed (`H`)
values are refused because they would fire at instants nobody chose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from croniter import croniter

INVALID_CRON = "Invalid cron expression"
INVALID_TIMEZONE = "Unknown time zone: use an IANA name such as UTC or America/New_York"
CRON_FIELDS = 5
# Longest field we accept; the django-celery-beat mirror stores each field in 64 characters.
CRON_FIELD_MAX_LENGTH = 64


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
        if len(field) > CRON_FIELD_MAX_LENGTH:
            raise InvalidCron(INVALID_CRON)
        for part in field.split(","):
            if part[:1].upper() in {"R", "H"}:
                raise InvalidCron(INVALID_CRON)
    normalized = " ".join(fields)
    try:
        if not croniter.is_valid(normalized):
            raise InvalidCron(INVALID_CRON)
        # Some valid-looking expressions never fire (e.g. "0 9 30 2 *"): make sure it does.
        croniter(normalized, datetime.now(UTC)).get_next(datetime)
    except InvalidCron:
        raise
    except Exception:  # croniter signals bad input with many exception types
        raise InvalidCron(INVALID_CRON) from None
    return normalized


# Files in the system's zoneinfo folder that are not IANA zones: "localtime" is whatever the
# host is set to (a different zone on every server), the others are tzdata internals.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name ("UTC", "America/New_York", ...)."""
    return isinstance(name, str) and name in _zone_names()


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every zone is_valid_timezone accepts, sorted (for the pages' zone pickers)."""
    return tuple(sorted(_zone_names()))


def next_fire_time(expression: str, zone: str, after: datetime) -> datetime:
    """The first instant strictly after `after` at which `expression`, read as wall-clock
    time in `zone`, fires; returned in UTC.

    croniter does the DST arithmetic, and we follow it exactly (America/New_York examples):
    - skipped hour (2026-03-08, 02:00-03:00 does not exist): "30 2 * * *" fires once that
      day, at 03:00 EDT (07:00Z), so the day keeps its run;
    - repeated hour (2026-11-01, 01:00-02:00 happens twice): "30 1 * * *" fires at both
      01:30 EDT (05:30Z) and 01:30 EST (06:30Z);
    - times outside those hours keep their wall-clock time: "0 9 * * *" is 13:00Z in summer
      and 14:00Z in winter.
    """
    local = after.astimezone(ZoneInfo(zone))
    fire = croniter(expression, local).get_next(datetime)
    return fire.astimezone(UTC)


def previous_fire_time(expression: str, zone: str, at_or_before: datetime) -> datetime:
    """The latest instant at or before `at_or_before` at which `expression` fires (UTC)."""
    local = (at_or_before + timedelta(microseconds=1)).astimezone(ZoneInfo(zone))
    fire = croniter(expression, local).get_prev(datetime)
    return fire.astimezone(UTC)
