"""client.tasks beyond the reference's examples: typed answers, paging, suggest, pausing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from tests.factories import VALID_TASK, make_execution, make_task
from torale.sdk.models import GroundingSource, LastExecution, Task


def test_a_task_comes_back_typed(torale, task):
    run = make_execution(task, condition_met=True)

    got = torale.tasks.get(str(task.id))

    assert isinstance(got, Task)
    assert got.id == str(task.id)
    assert got.user_id == str(task.owner_id)
    assert got.created_at.tzinfo is not None and got.created_at <= datetime.now(UTC)
    assert got.last_execution == LastExecution(
        id=str(run.id),
        condition_met=True,
        status="success",
        started_at=run.started_at,
        completed_at=run.completed_at,
    )
    assert got.last_execution_id == str(run.id)


def test_create_sends_only_what_it_is_given_and_gets_the_servers_defaults(torale):
    task = torale.tasks.create(**VALID_TASK)

    assert task.name  # generated from the query
    assert task.notify_behavior == "once"
    assert task.timezone == "UTC"
    assert task.last_execution is None


def test_list_filters_and_pages(torale, owner):
    for i in range(3):
        make_task(owner, name=f"Active {i}")
    make_task(owner, name="Paused", state="paused")

    first = torale.tasks.list(active=True, page=1, limit=2)
    second = torale.tasks.list(active=True, page=2, limit=2)
    inactive = torale.tasks.list(active=False)

    assert (first.total, first.page, first.limit, len(first)) == (3, 1, 2, 2)
    assert [t.name for t in first] + [t.name for t in second] == [
        "Active 2",
        "Active 1",
        "Active 0",
    ]
    assert [t.name for t in inactive] == ["Paused"]
    assert first[0].name == "Active 2"


def test_iter_all_walks_every_page(torale, owner):
    names = {make_task(owner, name=f"Task {i}").name for i in range(5)}

    assert {t.name for t in torale.tasks.iter_all(limit=2)} == names


def test_update_pauses_and_resumes_with_is_active(torale, task):
    assert torale.tasks.update(str(task.id), is_active=False).state == "paused"
    assert torale.tasks.update(str(task.id), state="active").state == "active"


def test_suggest_returns_a_configuration_that_create_accepts(torale, gemini):
    suggestion = torale.tasks.suggest("Notify me when the PS5 Pro is in stock at Best Buy")

    created = torale.tasks.create(**asdict(suggestion))

    assert created.schedule == suggestion.schedule
    assert created.search_query == suggestion.search_query


def test_suggest_refines_a_current_task(torale, task, gemini):
    current = torale.tasks.get(str(task.id))

    refined = torale.tasks.suggest("add river facing", current_task=current)

    sent = gemini.requests[-1]["body"]["contents"][0]["parts"][0]["text"]
    assert task.search_query in sent
    assert refined.search_query.startswith(task.search_query)


def test_preview_lists_its_sources(torale, gemini):
    preview = torale.tasks.preview(
        search_query="Is the PS5 Pro in stock at Best Buy?",
        condition_description="The PS5 Pro is in stock at Best Buy",
    )

    assert preview.condition_met is False
    assert preview.grounding_sources
    assert all(isinstance(s, GroundingSource) for s in preview.grounding_sources)
