"""What every notifier shares: the notice it sends, what it returns, and how it fails.

A notifier sends one `Notification` to one target and either returns a `SendResult` or raises
`DeliveryError`, whose `permanent` flag tells the outbox whether to retry. Notifiers keep no
state and write nothing to the database: recording attempts is the outbox's job.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from uuid import UUID, uuid4

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from executions_app.models import Execution


class DeliveryError(Exception):
    """A send that did not reach its receiver.

    `permanent`: retrying cannot help (a 4xx, a refused target, a rejected address);
    otherwise the outbox retries with backoff. `retry_after`: seconds the receiver asked us to
    wait (429/503 Retry-After), when it said so.
    """

    def __init__(
        self,
        message: str,
        permanent: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, permanent={self.permanent}, "
            f"status_code={self.status_code}, retry_after={self.retry_after})"
        )


class TargetRefused(DeliveryError):
    """The target's address is not allowed (private, loopback, metadata, bad scheme...)."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class SendResult:
    """A send the receiver accepted. `detail` is a short, loggable note (never a secret)."""

    status_code: int | None = None
    detail: str = ""


HEADLINE_MAX_LENGTH = 150


def headline(message: Notification) -> str:
    """One line naming the task: the email subject and the title on other channels."""
    # Collapsed whitespace: a task name with a newline must not break a mail header.
    name = " ".join(message.task_name.split()) or "Your task"
    text = f"Condition met: {name}"
    if message.is_test:
        text = f"Test notification: {name}"
    return text if len(text) <= HEADLINE_MAX_LENGTH else text[: HEADLINE_MAX_LENGTH - 1] + "…"


def task_page_url(task_id: UUID | str) -> str:
    """The task's page in the web app: the link every notice carries."""
    base = str(getattr(settings, "TORALE_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
    return f"{base}/tasks/{task_id}"


def _sources(raw: Any) -> tuple[Mapping[str, str], ...]:
    """The execution's grounding sources as {"uri", "title"} dicts, dropping malformed ones."""
    sources = []
    for item in raw or ():
        if isinstance(item, Mapping) and isinstance(item.get("uri"), str) and item["uri"]:
            title = item.get("title")
            sources.append({"uri": item["uri"], "title": title if isinstance(title, str) else ""})
    return tuple(sources)


@dataclass(frozen=True)
class Notification:
    """A condition-met notice: everything a channel needs, with no database access.

    `delivery_id` identifies the delivery (one per execution and channel) and is the
    idempotency key receivers see (webhook `id` / `webhook-id`, the email Message-ID).
    `created_at` is when the delivery was recorded, so every retry sends the same event.
    """

    delivery_id: UUID
    created_at: datetime
    task_id: UUID
    task_name: str
    search_query: str
    condition_description: str
    execution_id: UUID
    condition_met: bool
    answer: str
    reasoning: str
    completed_at: datetime | None
    task_url: str
    grounding_sources: tuple[Mapping[str, str], ...] = field(default_factory=tuple)
    # A sample sent from the settings ("send a test"), not a real run's result.
    is_test: bool = False

    @classmethod
    def from_execution(
        cls, execution: Execution, *, delivery_id: UUID, created_at: datetime
    ) -> Notification:
        """The notice of a finished execution (its `task` is read: select_related it)."""
        task = execution.task
        return cls(
            delivery_id=delivery_id,
            created_at=created_at,
            task_id=task.id,
            task_name=task.name,
            search_query=task.search_query,
            condition_description=task.condition_description,
            execution_id=execution.id,
            condition_met=bool(execution.condition_met),
            answer=execution.answer,
            reasoning=execution.reasoning,
            completed_at=execution.completed_at,
            task_url=task_page_url(task.id),
            grounding_sources=_sources(execution.grounding_sources),
        )


def sample_notification() -> Notification:
    """The notice sent by "send a test": shaped like a real one, plainly marked as a test."""
    now = timezone.now()
    return Notification(
        delivery_id=uuid4(),
        created_at=now,
        task_id=UUID(int=0),
        task_name="Torale test notification",
        search_query="Is this channel set up correctly?",
        condition_description="The test notification arrives",
        execution_id=UUID(int=0),
        condition_met=True,
        answer="This is a test notification from Torale. Your channel works.",
        reasoning="You asked Torale to send a test to this channel.",
        completed_at=now,
        task_url=str(getattr(settings, "TORALE_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
        + "/",
        grounding_sources=(),
        is_test=True,
    )


TargetT = TypeVar("TargetT")


class Notifier(ABC, Generic[TargetT]):
    """One channel kind. Subclasses set `kind` and implement `send` for their target type."""

    kind: ClassVar[str]

    @abstractmethod
    def send(self, message: Notification, target: TargetT) -> SendResult:
        """Deliver `message` to `target`; returns SendResult, raises DeliveryError."""
