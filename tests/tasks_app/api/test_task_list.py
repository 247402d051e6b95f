from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks_app.models import TaskState
from tests.factories import make_execution, make_task

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks"
T0 = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def make_tasks_in_order(owner, count, **overrides):
    """`count` tasks created one minute apart, oldest first."""
    tasks = []
    for i in range(count):
        with time_machine.travel(T0 + timedelta(minutes=i), tick=False):
            tasks.append(make_task(owner, name=f"task {i}", **overrides))
    return tasks


def ids_of(body: dict) -> list[str]:
    return [task["id"] for task in body["tasks"]]


def test_it_returns_the_envelope_with_default_paging(api, task):
    response = api.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"tasks", "total", "page", "limit"}
    assert body["total"] == 1 and body["page"] == 1 and body["limit"] == 20
    [item] = body["tasks"]
    assert item["id"] == str(task.id)
    assert item["name"] == task.name
    assert item["schedule"] == task.schedule
    assert item["state"] == "active"
    assert item["last_execution"] is None


def test_it_returns_an_empty_list_for_a_user_without_tasks(api):
    response = api.get(URL)

    assert response.status_code == 200
    assert response.json() == {"tasks": [], "total": 0, "page": 1, "limit": 20}


def test_it_lists_the_newest_task_first(api, owner):
    tasks = make_tasks_in_order(owner, 3)

    response = api.get(URL)

    assert ids_of(response.json()) == [str(t.id) for t in reversed(tasks)]


def test_it_shows_at_most_20_tasks_by_default(api, owner):
    make_tasks_in_order(owner, 21)

    body = api.get(URL).json()

    assert len(body["tasks"]) == 20
    assert body["total"] == 21


def test_it_never_lists_another_users_tasks(api, owner, other_user):
    mine = make_task(owner)
    make_task(other_user)
    make_task(other_user)

    body = api.get(URL).json()

    assert ids_of(body) == [str(mine.id)]
    assert body["total"] == 1


def test_the_other_user_sees_only_their_own_tasks(api, other_api, task, foreign_task):
    body = other_api.get(URL).json()

    assert ids_of(body) == [str(foreign_task.id)]


@pytest.mark.parametrize("value", ["true", "false"])
def test_it_filters_on_the_active_state(api, owner, value):
    active = make_task(owner, name="active")
    paused = make_task(owner, name="paused", state=TaskState.PAUSED)
    completed = make_task(owner, name="completed", state=TaskState.COMPLETED)

    body = api.get(URL, {"active": value}).json()

    if value == "true":
        assert ids_of(body) == [str(active.id)]
        assert body["total"] == 1
    else:
        assert set(ids_of(body)) == {str(paused.id), str(completed.id)}
        assert body["total"] == 2


def test_it_lists_every_state_without_the_filter(api, owner):
    make_task(owner, state=TaskState.PAUSED)
    make_task(owner)

    assert api.get(URL).json()["total"] == 2


def test_it_rejects_an_active_filter_that_is_not_a_boolean(api):
    response = api.get(URL, {"active": "maybe"})

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", "active"]
    assert item["type"] == "bool_parsing"


def test_pages_do_not_overlap_and_together_hold_every_task(api, owner):
    tasks = make_tasks_in_order(owner, 25)

    pages = [api.get(URL, {"page": page, "limit": 10}).json() for page in (1, 2, 3)]

    assert [len(p["tasks"]) for p in pages] == [10, 10, 5]
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert all(p["limit"] == 10 and p["total"] == 25 for p in pages)
    seen = [task_id for p in pages for task_id in ids_of(p)]
    assert seen == [str(t.id) for t in reversed(tasks)]


def test_a_page_past_the_end_is_empty(api, owner):
    make_tasks_in_order(owner, 3)

    body = api.get(URL, {"page": 2, "limit": 3}).json()

    assert body == {"tasks": [], "total": 3, "page": 2, "limit": 3}


def test_it_accepts_a_limit_of_100(api, task):
    response = api.get(URL, {"limit": 100})

    assert response.status_code == 200
    assert response.json()["limit"] == 100


def test_it_rejects_a_limit_of_101(api):
    response = api.get(URL, {"limit": 101})

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", "limit"]
    assert item["msg"] == "Input should be less than or equal to 100"
    assert item["type"] == "less_than_equal"


@pytest.mark.parametrize(
    ("param", "value", "type_"),
    [
        ("page", "0", "greater_than_equal"),
        ("page", "-1", "greater_than_equal"),
        ("page", "abc", "int_parsing"),
        ("page", "1.5", "int_parsing"),
        ("limit", "0", "greater_than_equal"),
        ("limit", "ten", "int_parsing"),
    ],
)
def test_it_rejects_a_bad_page_or_limit(api, param, value, type_):
    response = api.get(URL, {param: value})

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", param]
    assert item["type"] == type_


def test_it_reports_every_bad_query_parameter_at_once(api):
    response = api.get(URL, {"page": "0", "limit": "101", "active": "x"})

    assert response.status_code == 422
    assert {tuple(i["loc"]) for i in response.json()["detail"]} == {
        ("query", "page"),
        ("query", "limit"),
        ("query", "active"),
    }


def test_it_embeds_the_last_execution_summary(api, task):
    execution = make_execution(task, status="success", condition_met=True)

    [item] = api.get(URL).json()["tasks"]

    assert item["last_execution_id"] == str(execution.id)
    assert item["last_execution"] == {
        "id": str(execution.id),
        "condition_met": True,
        "status": "success",
        "started_at": execution.started_at.isoformat().replace("+00:00", "Z"),
        "completed_at": execution.completed_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_it_answers_with_and_without_a_trailing_slash(api, task, path):
    response = api.get(path)

    assert response.status_code == 200
    assert ids_of(response.json()) == [str(task.id)]


def _count_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"limit": 100})
    assert response.status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_tasks(api, owner, django_assert_num_queries):
    task = make_task(owner)
    make_execution(task)
    api.get(URL)  # the key's last_used_at is written on first use only
    baseline = _count_list_queries(api)

    for _ in range(10):
        make_task(owner)
    for _ in range(10):
        make_execution(make_task(owner), status="success", condition_met=False)

    with django_assert_num_queries(baseline):
        response = api.get(URL, {"limit": 100})
    assert response.json()["total"] == 21
    assert sum(1 for t in response.json()["tasks"] if t["last_execution"]) == 11


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["page", "limit", "active"]),
        st.text(max_size=25) | st.integers(min_value=-(10**30), max_value=10**30).map(str),
        max_size=3,
    )
)
def test_no_query_string_makes_it_fail(api, task, params):
    response = api.get(URL, params)

    assert response.status_code in (200, 422), response.content
    if response.status_code == 422:
        assert all(item["loc"][0] == "query" for item in response.json()["detail"])
