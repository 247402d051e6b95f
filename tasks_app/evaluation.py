"""Preview and suggest: the search provider answering for a task that is not saved."""

from __future__ import annotations

from dataclasses import asdict

from torale.inflight import provider_call_slot
from torale.search import get_search_provider


def task_preview(*, user, search_query: str, condition_description: str) -> dict:
    """{condition_met, answer, reasoning, grounding_sources}; stores nothing, notifies nobody.
    Raises ProviderUnavailable / ProviderFailed / ProviderTimeout, or TooManyInFlight when
    the user already has as many provider calls running as allowed."""
    with provider_call_slot(user.pk):
        evaluation = get_search_provider().evaluate(
            search_query=search_query, condition_description=condition_description
        )
    data = asdict(evaluation)
    return {k: data[k] for k in ("condition_met", "answer", "reasoning", "grounding_sources")}


def task_suggest(*, user, prompt: str, current_task: dict | None = None) -> dict:
    """A complete task configuration (name, search_query, condition_description, schedule,
    notify_behavior) for `prompt`, refining `current_task` when given. Raises as
    task_preview does."""
    with provider_call_slot(user.pk):
        return get_search_provider().suggest(prompt=prompt, current_task=current_task)
