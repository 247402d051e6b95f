from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions_app.models import ExecutionStatus
from tasks_app.templatetags.task_display import schedule_in_words
from tests.factories import make_execution, make_task, make_user

pytestmark = pytest.mark.django_db


def test_it_sends_a_visitor_who_is_not_logged_in_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login?next=/"


def test_it_lists_only_the_users_own_tasks(owner_client, task, foreign_task):
    response = owner_client.get("/")

    assert response.status_code == 200
    assert "Owner&#x27;s task" in response.text
    assert f"/tasks/{task.id}" in response.text
    assert "Someone else" not in response.text
    assert str(foreign_task.id) not in response.text


def test_it_shows_the_schedule_in_words_with_the_tasks_zone(owner_client, owner):
    make_task(owner, schedule="0 9 * * *", timezone="America/New_York")
    make_task(owner, schedule="*/30 * * * 1-5")

    text = owner_client.get("/").text

    assert "At 09:00, every day, America/New_York" in text
    assert "Every 30 minutes, Monday through Friday, UTC" in text


@time_machine.travel(datetime(2026, 1, 15, 12, 0, tzinfo=UTC), tick=False)
def test_it_shows_the_next_run_in_the_tasks_zone_and_says_which(owner_client, owner):
    make_task(owner, schedule="0 9 * * *", timezone="America/New_York")

    text = owner_client.get("/").text

    # 12:00Z is 07:00 in New York: the next run is 09:00 there (14:00Z), shown in the task's
    # zone and labelled with it.
    assert "Next run (America/New_York)" in text
    assert "Thu 15 Jan 2026, 09:00" in text
    assert 'datetime="2026-01-15T14:00:00+00:00"' in text


def test_a_paused_task_says_it_is_not_scheduled(owner_client, owner):
    make_task(owner, state="paused")

    text = owner_client.get("/").text

    assert "Paused: not scheduled" in text


@pytest.mark.parametrize(
    ("status", "condition_met", "label"),
    [
        (ExecutionStatus.SUCCESS, True, "Met"),
        (ExecutionStatus.SUCCESS, False, "Not met"),
        (ExecutionStatus.FAILED, None, "Failed"),
        (ExecutionStatus.RUNNING, None, "Running"),
    ],
)
def test_it_shows_the_last_result_and_when(owner_client, task, status, condition_met, label):
    make_execution(task, status=status, condition_met=condition_met)

    text = owner_client.get("/").text

    assert f">{label}</span>" in text
    assert ">just now</time>" in text  # not Django's "0 minutes ago"


def test_an_older_result_says_how_long_ago(owner_client, task):
    make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)

    with time_machine.travel(timedelta(hours=3, minutes=5)):
        text = owner_client.get("/").text

    assert ">3\xa0hours, 5\xa0minutes ago</time>" in text


def test_a_task_without_runs_says_so(owner_client, task):
    assert "No runs yet" in owner_client.get("/").text


def test_it_filters_by_state(owner_client, owner):
    make_task(owner, name="Watching now")
    make_task(owner, name="On hold", state="paused")
    make_task(owner, name="All done", state="completed")

    paused = owner_client.get("/?state=paused").text
    everything = owner_client.get("/").text

    assert "On hold" in paused
    assert "Watching now" not in paused
    assert "All done" not in paused
    assert "Paused (1)" in paused
    assert "All (3)" in paused
    for name in ("Watching now", "On hold", "All done"):
        assert name in everything


def test_an_unknown_state_filter_shows_every_task(owner_client, owner):
    make_task(owner, name="Watching now")

    text = owner_client.get("/?state=bogus").text

    assert "Watching now" in text


def test_a_filter_without_tasks_says_so_and_links_back(owner_client, task):
    text = owner_client.get("/?state=completed").text

    assert "No completed tasks" in text
    assert "Show all tasks" in text


def test_it_paginates_twenty_tasks_a_page(owner_client, owner):
    for number in range(23):
        make_task(owner, name=f"Task number {number:02d}")

    first = owner_client.get("/").text
    second = owner_client.get("/?page=2").text

    assert first.count('class="task-card"') == 20
    assert second.count('class="task-card"') == 3
    assert "Page 2 of 2" in second
    assert "Task number 00" in second  # oldest last
    assert "Task number 22" in first


def test_paging_keeps_the_state_filter(owner_client, owner):
    for number in range(21):
        make_task(owner, name=f"Paused {number}", state="paused")

    text = owner_client.get("/?state=paused").text

    assert "?state=paused&amp;page=2" in text


def test_a_new_user_is_told_what_to_do_first(owner_client):
    response = owner_client.get("/")

    assert "Nothing is being watched yet" in response.text
    assert 'href="/tasks/new"' in response.text


def test_its_queries_do_not_grow_with_the_number_of_tasks(owner_client, owner):
    def fill(count):
        for _ in range(count):
            make_execution(make_task(owner), status=ExecutionStatus.SUCCESS, condition_met=True)

    fill(2)
    with CaptureQueriesContext(connection) as few:
        owner_client.get("/")
    fill(15)
    with CaptureQueriesContext(connection) as many:
        owner_client.get("/")

    assert len(many.captured_queries) == len(few.captured_queries)


def test_another_users_tasks_never_appear_even_with_many_users(owner_client, owner):
    for _ in range(3):
        make_task(make_user(), name="Not yours")
    make_task(owner, name="Yours")

    text = owner_client.get("/").text

    assert "Yours" in text
    assert "Not yours" not in text
    assert "All (1)" in text


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 9 * * *", "At 09:00, every day"),
        ("*/30 * * * *", "Every 30 minutes"),
        ("0 9 * * 1-5", "At 09:00, Monday through Friday"),
        # Standard cron (and croniter, which runs the schedule) fires on either day: say "or".
        ("0 9 1 * 1", "At 09:00, on day 1 of the month, or on Monday"),
        (
            "0 9 1,15 * mon,wed",
            "At 09:00, on day 1 and 15 of the month, or on Monday and Wednesday",
        ),
    ],
)
def test_schedules_read_in_words(expression, words):
    assert schedule_in_words(expression) == words
