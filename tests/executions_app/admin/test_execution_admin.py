"""The Execution admin: a read-only history operators filter by status, trigger, task and
owner, find by exact id, and read in full (answer, reasoning, sources, error, retries)."""

from __future__ import annotations

import pytest

from executions_app.models import Execution, ExecutionStatus, ExecutionTrigger
from tests.factories import make_execution, make_task, make_user

pytestmark = pytest.mark.django_db

EXECUTIONS = "/admin/executions_app/execution/"


def listed(response) -> set[str]:
    return {str(execution.pk) for execution in response.context["cl"].result_list}


def page_of(execution: Execution) -> str:
    return f"{EXECUTIONS}{execution.pk}/change/"


def test_a_non_staff_user_is_sent_to_the_admin_login(owner_client):
    response = owner_client.get(EXECUTIONS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_filters_by_status(admin_client, task):
    success = make_execution(task, status=ExecutionStatus.SUCCESS)
    make_execution(task, status=ExecutionStatus.FAILED)

    response = admin_client.get(EXECUTIONS, {"status__exact": "success"})

    assert listed(response) == {str(success.pk)}


def test_it_filters_by_trigger_and_condition(admin_client, task):
    met = make_execution(task, trigger=ExecutionTrigger.SCHEDULED, condition_met=True)
    make_execution(task, trigger=ExecutionTrigger.MANUAL, condition_met=True)
    make_execution(task, trigger=ExecutionTrigger.SCHEDULED, condition_met=False)

    response = admin_client.get(
        EXECUTIONS, {"trigger__exact": "scheduled", "condition_met__exact": "1"}
    )

    assert listed(response) == {str(met.pk)}


def test_it_lists_one_tasks_runs_from_the_task_link(admin_client, task, foreign_task):
    mine = make_execution(task)
    make_execution(foreign_task)

    response = admin_client.get(EXECUTIONS, {"task": str(task.pk)})

    assert listed(response) == {str(mine.pk)}


def test_it_lists_one_owners_runs(admin_client, task, foreign_task):
    make_execution(task)
    theirs = make_execution(foreign_task)

    response = admin_client.get(EXECUTIONS, {"owner": str(foreign_task.owner_id)})

    assert listed(response) == {str(theirs.pk)}


def test_it_finds_a_run_by_its_id_or_its_tasks_id(admin_client, task, foreign_task):
    first = make_execution(task)
    second = make_execution(task)
    theirs = make_execution(foreign_task)

    assert listed(admin_client.get(EXECUTIONS, {"q": str(theirs.pk)})) == {str(theirs.pk)}
    by_task = listed(admin_client.get(EXECUTIONS, {"q": str(task.pk)}))
    assert by_task == {str(first.pk), str(second.pk)}
    assert listed(admin_client.get(EXECUTIONS, {"q": "not an id"})) == set()


def test_each_row_links_to_its_task(admin_client, task):
    make_execution(task)

    response = admin_client.get(EXECUTIONS)

    assert f'href="/admin/tasks_app/task/{task.pk}/change/"' in response.content.decode()


def test_the_run_page_shows_the_whole_result_read_only(admin_client, task):
    execution = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    execution.grounding_sources = [
        {"title": "Apple Newsroom", "uri": "https://www.apple.com/newsroom/"},
        {"title": "Sneaky", "uri": "javascript:alert(1)"},
    ]
    execution.attempt_errors = [{"attempt": 1, "error": "503 overloaded", "at": "2026-01-01Z"}]
    execution.save()

    response = admin_client.get(page_of(execution))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Apple announced the date." in html and "The press release names a date." in html
    assert '<a href="https://www.apple.com/newsroom/"' in html
    assert 'href="javascript:' not in html and "Sneaky (javascript:alert(1))" in html
    assert "attempt 1 at 2026-01-01Z: 503 overloaded" in html
    assert f'href="/admin/tasks_app/task/{task.pk}/change/"' in html
    assert 'name="_save"' not in html


def test_runs_cannot_be_added_changed_or_deleted(admin_client, task):
    execution = make_execution(task, status=ExecutionStatus.FAILED)

    add = admin_client.get(f"{EXECUTIONS}add/")
    change = admin_client.post(page_of(execution), {"status": "success"})
    delete = admin_client.post(f"{EXECUTIONS}{execution.pk}/delete/", {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED


def test_the_changelist_costs_the_same_queries_for_many_rows(
    admin_client, owner, django_assert_max_num_queries
):
    make_execution(make_task(owner))
    # (+2 for the savepoint that guards the rows' query inside the test's transaction)
    with django_assert_max_num_queries(10) as few:
        admin_client.get(EXECUTIONS)
    for _ in range(10):
        task = make_task(make_user())
        for _ in range(3):
            make_execution(task)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(EXECUTIONS)

    assert len(response.context["cl"].result_list) == 31
