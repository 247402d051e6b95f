"""client.executions and client.notifications against the live server."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import make_delivery, make_execution, make_task
from torale.exceptions import ForbiddenError, NotFoundError
from torale.sdk.models import Execution, SendDetail


def test_it_lists_a_tasks_executions_newest_first(torale, task):
    older = make_execution(task, status="failed")
    newer = make_execution(task, condition_met=True)

    page = torale.executions.list(str(task.id))
    failed = torale.executions.list(str(task.id), status="failed")

    assert [e.id for e in page] == [str(newer.id), str(older.id)]
    assert (page.total, page.page, page.limit) == (2, 1, 20)
    assert [e.id for e in failed] == [str(older.id)]
    assert failed[0].error_message == "Provider error"


def test_it_gets_one_execution_with_its_result(torale, task):
    run = make_execution(task, condition_met=True)

    got = torale.executions.get(str(task.id), str(run.id))

    assert isinstance(got, Execution)
    assert got.status == "success" and got.condition_met is True
    assert got.trigger == "manual"
    assert got.retries == []


def test_an_execution_run_by_execute_is_listed(torale, task):
    execution_id = torale.tasks.execute(str(task.id))

    assert torale.executions.get(str(task.id), execution_id).status == "pending"


def test_another_users_executions_are_forbidden(torale, foreign_task):
    with pytest.raises(ForbiddenError):
        torale.executions.list(str(foreign_task.id))


def test_an_unknown_execution_is_not_found(torale, task):
    with pytest.raises(NotFoundError) as caught:
        torale.executions.get(str(task.id), str(uuid.uuid4()))

    assert caught.value.detail == "Execution not found"


def test_it_lists_notifications_of_all_tasks_and_of_one(torale, owner, task):
    other = make_task(owner, name="Second task")
    met = make_execution(task, condition_met=True)
    make_execution(task, condition_met=False)
    met_elsewhere = make_execution(other, condition_met=True)

    everything = torale.notifications.list()
    of_task = torale.notifications.list(task_id=str(task.id))

    assert {n.id for n in everything} == {str(met.id), str(met_elsewhere.id)}
    assert [n.id for n in of_task] == [str(met.id)]
    assert of_task[0].task_name == task.name
    assert of_task[0].answer == "Apple announced the date."


def test_it_lists_sends_and_gets_one_with_its_attempts(torale, task):
    run = make_execution(task, condition_met=True)
    sent = make_delivery(run)
    failed = make_delivery(run, status="failed", kind="webhook", recipient="https://x.test/h")

    sends = torale.notifications.sends()
    webhooks = torale.notifications.sends(notification_type="webhook", limit=1, offset=0)
    detail = torale.notifications.get_send(str(sent.id))

    assert {s.id for s in sends} == {str(sent.id), str(failed.id)}
    assert sends.total == 2
    assert [s.id for s in webhooks] == [str(failed.id)]
    assert isinstance(detail, SendDetail)
    assert detail.execution_id == str(run.id)
    assert detail.attempt_log == []
