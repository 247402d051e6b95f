"""Cron semantics: the scheduler's instants are croniter's, in the task's zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tasks_app.cron import InvalidCron, next_fire_time, normalize_cron, previous_fire_time

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Santiago",
    "Pacific/Chatham",
]

minutes = st.one_of(
    st.just("*"), st.integers(0, 59).map(str), st.sampled_from(["*/5", "*/15", "0,30", "10-20"])
)
hours = st.one_of(
    st.just("*"), st.integers(0, 23).map(str), st.sampled_from(["*/6", "1-3", "9,17", "2"])
)
days = st.one_of(
    st.just("*"), st.integers(1, 28).map(str), st.sampled_from(["1,15", "L", "*/10", "31"])
)
months = st.one_of(
    st.just("*"), st.integers(1, 12).map(str), st.sampled_from(["jan-jun", "*/3", "3,11"])
)
weekdays = st.one_of(
    st.just("*"), st.integers(0, 6).map(str), st.sampled_from(["mon-fri", "0,6", "sun", "1-5"])
)
expressions = st.tuples(minutes, hours, days, months, weekdays).map(" ".join)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


def schedulable(expression: str) -> bool:
    try:
        normalize_cron(expression)
    except InvalidCron:
        return False
    return True


def croniter_next(expression: str, zone: str, after: datetime) -> datetime:
    local = croniter(expression, after.astimezone(ZoneInfo(zone))).get_next(datetime)
    # An ambiguous local time (fold=1) never compares equal across zones: compare in UTC.
    return local.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(expression=expressions, zone=st.sampled_from(ZONES), after=instants)
def test_next_fire_time_is_croniters_instant(expression, zone, after):
    assume(schedulable(expression))  # only expressions the API accepts reach the scheduler

    ours = next_fire_time(expression, zone, after)

    assert ours == croniter_next(expression, zone, after)
    assert ours.utcoffset() == timedelta(0)
    assert ours > after


@settings(max_examples=200, deadline=None)
@given(expression=expressions, zone=st.sampled_from(ZONES), after=instants)
def test_previous_fire_time_is_the_latest_instant_not_after(expression, zone, after):
    assume(schedulable(expression))
    latest = previous_fire_time(expression, zone, after)

    assert latest <= after
    assert next_fire_time(expression, zone, latest) > after


NEW_YORK = "America/New_York"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # Spring forward, 2026-03-08: 09:00 moves from 14:00Z (EST) to 13:00Z (EDT).
        ("0 9 * * *", utc(2026, 3, 7, 15), utc(2026, 3, 8, 13)),
        ("0 9 * * *", utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)),
        # 01:30 exists once that day, before the change.
        ("30 1 * * *", utc(2026, 3, 7, 12), utc(2026, 3, 8, 6, 30)),
        ("30 1 * * *", utc(2026, 3, 8, 6, 30), utc(2026, 3, 9, 5, 30)),
        # 02:30 does not exist on 2026-03-08: it runs at 03:00 EDT.
        ("30 2 * * *", utc(2026, 3, 7, 12), utc(2026, 3, 8, 7, 0)),
        # Fall back, 2026-11-01: 09:00 moves from 13:00Z (EDT) to 14:00Z (EST).
        ("0 9 * * *", utc(2026, 10, 31, 14), utc(2026, 11, 1, 14)),
        # 01:30 happens twice: 05:30Z (EDT) and 06:30Z (EST), then 06:30Z the next day.
        ("30 1 * * *", utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30)),
        ("30 1 * * *", utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
        ("30 1 * * *", utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 6, 30)),
    ],
)
def test_daylight_saving_changes_in_new_york(expression, after, expected):
    assert next_fire_time(expression, NEW_YORK, after) == expected
    assert croniter_next(expression, NEW_YORK, after) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "invalid",
        "0 9 * *",
        "0 0 9 * * *",
        "61 * * * *",
        "* * 32 * *",
        "",
        "0 9 30 2 *",
        "R * * * *",
        "H 9 * * *",
        "@daily",
        "*/0 * * * *",
        "1," + ",".join(["1"] * 40) + " * * * *",
    ],
)
def test_it_refuses_expressions_that_cannot_be_scheduled(expression):
    with pytest.raises(InvalidCron):
        normalize_cron(expression)


def test_it_normalizes_spacing():
    assert normalize_cron("  0   9 * *  mon-fri ") == "0 9 * * mon-fri"
