"""The registry of channel kinds, and building a notice from a finished execution."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from executions_app.notifiers.apprise import AppriseNotifier
from executions_app.notifiers.base import Notification, headline
from executions_app.notifiers.email import EmailNotifier
from executions_app.notifiers.registry import NOTIFIERS, get_notifier
from executions_app.notifiers.webhook import WebhookNotifier
from tests.factories import make_execution


def test_the_registry_maps_each_kind_to_its_notifier():
    assert sorted(NOTIFIERS) == ["apprise", "email", "webhook"]
    assert NOTIFIERS["email"] is EmailNotifier
    assert NOTIFIERS["apprise"] is AppriseNotifier
    assert isinstance(get_notifier("webhook"), WebhookNotifier)


def test_an_unknown_kind_is_a_lookup_error():
    with pytest.raises(LookupError, match="sms"):
        get_notifier("sms")


def test_a_notice_is_built_from_an_execution_and_its_task(task, settings):
    settings.TORALE_BASE_URL = "https://torale.example/"
    execution = make_execution(task, condition_met=True)
    execution.grounding_sources = [
        {"uri": "https://apple.com/newsroom", "title": "Apple Newsroom"},
        {"title": "no uri: dropped"},
        "not a source",
    ]
    delivery_id, recorded_at = uuid.uuid4(), timezone.now()

    notice = Notification.from_execution(execution, delivery_id=delivery_id, created_at=recorded_at)

    assert notice.delivery_id == delivery_id
    assert notice.created_at == recorded_at
    assert (notice.task_id, notice.task_name) == (task.id, task.name)
    assert notice.search_query == task.search_query
    assert notice.condition_description == task.condition_description
    assert (notice.execution_id, notice.condition_met) == (execution.id, True)
    assert (notice.answer, notice.reasoning) == (execution.answer, execution.reasoning)
    assert notice.completed_at == execution.completed_at
    assert notice.task_url == f"https://torale.example/tasks/{task.id}"
    assert notice.grounding_sources == (
        {"uri": "https://apple.com/newsroom", "title": "Apple Newsroom"},
    )


def test_the_headline_names_the_task_on_one_short_line(notification):
    from dataclasses import replace

    assert headline(notification) == "Condition met: PS5 Pro at Best Buy"
    long = headline(replace(notification, task_name="word\n" * 100))
    assert "\n" not in long and len(long) == 150
