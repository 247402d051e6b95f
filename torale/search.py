"""The search-and-evaluate interface that runs, preview and suggest call.

A provider answers a task's query with grounded web search, then judges the task's
condition against that answer. Gemini is the implementation (torale.gemini); without
GEMINI_API_KEY there is none, and callers say so instead of inventing an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from django.conf import settings

from torale.errors import NO_PROVIDER_MESSAGE, ProviderUnavailable


@dataclass(frozen=True)
class Evaluation:
    condition_met: bool
    answer: str
    reasoning: str
    grounding_sources: list[dict] = field(default_factory=list)
    model: str = ""
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None


class SearchProvider(Protocol):
    def evaluate(
        self,
        *,
        search_query: str,
        condition_description: str,
        last_known_state: dict | None = None,
        today: date | None = None,
    ) -> Evaluation: ...

    def suggest(self, *, prompt: str, current_task: dict | None = None) -> dict: ...


def get_search_provider() -> SearchProvider:
    """The configured provider; raises ProviderUnavailable when there is none."""
    if not settings.GEMINI_API_KEY:
        raise ProviderUnavailable(NO_PROVIDER_MESSAGE)
    from torale.gemini import GeminiProvider  # here: torale.gemini imports this module

    return GeminiProvider.from_settings()
