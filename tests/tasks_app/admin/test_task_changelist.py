"""What an operator sees in the Task changelist: filters, search, links, and a page cost that
does not grow with the number of rows."""

from __future__ import annotations

import pytest

from tasks_app.models import TaskState
from tests.factories import make_task, make_user

pytestmark = pytest.mark.django_db

TASKS = "/admin/tasks_app/task/"


def listed(response) -> set[str]:
    return {str(task.pk) for task in response.context["cl"].result_list}


def test_a_non_staff_user_is_sent_to_the_admin_login(owner_client):
    response = owner_client.get(TASKS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/tasks_app/task/")


def test_it_lists_tasks_with_owner_state_schedule_and_zone(admin_client, owner):
    make_task(owner, name="Watch the iPhone", schedule="30 8 * * 1", timezone="Europe/Paris")

    response = admin_client.get(TASKS)

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Watch the iPhone", "owner", "Active", "30 8 * * 1", "Europe/Paris"):
        assert text in html


def test_it_filters_by_state(admin_client, owner, task):
    paused = make_task(owner, state=TaskState.PAUSED)

    response = admin_client.get(TASKS, {"state__exact": "paused"})

    assert listed(response) == {str(paused.pk)}


def test_the_owner_filter_shows_one_owners_tasks_and_who_they_are(admin_client, task, foreign_task):
    response = admin_client.get(TASKS, {"owner": str(task.owner_id)})

    assert listed(response) == {str(task.pk)}
    filters = response.context["cl"].filter_specs
    [owner_filter] = [f for f in filters if getattr(f, "parameter_name", "") == "owner"]
    assert owner_filter.lookup_choices == [(str(task.owner_id), "owner")]


def test_an_owner_filter_that_is_not_an_id_matches_nothing(admin_client, task):
    response = admin_client.get(TASKS, {"owner": "not-a-uuid"})

    assert response.status_code == 200
    assert listed(response) == set()


def test_the_owner_column_links_to_the_owners_tasks(admin_client, task):
    response = admin_client.get(TASKS)

    assert f'href="/admin/tasks_app/task/?owner={task.owner_id}"' in response.content.decode()


def test_it_finds_a_task_by_its_exact_id(admin_client, task, foreign_task):
    response = admin_client.get(TASKS, {"q": str(foreign_task.pk)})

    assert listed(response) == {str(foreign_task.pk)}


@pytest.mark.parametrize("term", ["iPhone", "intruder", "intruder@example.com"])
def test_it_searches_names_queries_and_owners(admin_client, owner, other_user, term):
    mine = make_task(owner, name="PS5 Pro stock", search_query="Is the PS5 Pro in stock anywhere?")
    theirs = make_task(other_user, name="iPhone release")

    response = admin_client.get(TASKS, {"q": term})

    assert listed(response) == {str(theirs.pk)}
    assert str(mine.pk) not in listed(response)


def test_the_changelist_costs_the_same_queries_for_many_rows(
    admin_client, owner, django_assert_max_num_queries
):
    make_task(owner)
    # (+2 for the savepoint that guards the rows' query inside the test's transaction)
    with django_assert_max_num_queries(10) as few:
        admin_client.get(TASKS)
    for _ in range(30):
        make_task(make_user())

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(TASKS)

    assert len(response.context["cl"].result_list) == 31
