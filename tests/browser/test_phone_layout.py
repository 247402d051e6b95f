"""On a phone, long unbroken text (a pasted URL in a query, a name without spaces, a model
answer quoting a long link) wraps: no page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from executions_app.models import ChannelKind, ExecutionStatus
from tests.factories import make_delivery, make_execution, make_task
from torale.services import api_key_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_URL = "https://www.bestbuy.com/site/" + "sony-playstation-5-pro-console-" * 8 + "6614917.p"


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than its window."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def clipped_tables(page: Page) -> list[int]:
    """How far each table's content is wider than its scrolling box (only the overflowing)."""
    return page.evaluate(
        "[...document.querySelectorAll('.table-wrap')]"
        ".map(box => box.scrollWidth - box.clientWidth).filter(extra => extra > 1)"
    )


def test_long_unbroken_text_wraps_on_a_phone(new_page, screenshot, log_in, owner):
    task = make_task(
        owner,
        name="W" * 200,
        search_query=f"Is it in stock at {LONG_URL}",
        condition_description="Q" * 400,
    )
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    run.answer = f"It is listed at {LONG_URL} as available."
    run.grounding_sources = [{"uri": LONG_URL, "title": "T" * 300}]
    run.save(update_fields=["answer", "grounding_sources"])
    make_delivery(run, kind=ChannelKind.WEBHOOK, recipient="https://hooks.example.com/" + "x" * 270)
    api_key_create(user=owner, name="K" * 100)
    page = new_page(phone=True)
    log_in(page, "owner")

    for path, name in [
        ("/", "dashboard"),
        (f"/tasks/{task.pk}", "task"),
        (f"/tasks/{task.pk}/edit", "edit"),
        ("/settings", "settings"),
    ]:
        page.goto(path)
        screenshot(page, f"long-text-{name}")
        assert sideways_overflow(page) <= 0, path
        assert clipped_tables(page) == [], path
