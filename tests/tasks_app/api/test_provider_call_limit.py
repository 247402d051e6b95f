"""An account may have only TORALE_PROVIDER_CALLS_PER_ACCOUNT previews, suggestions or test
sends running at once: each holds a web thread while the provider (or the receiver)
answers, and one account must not be able to hold them all. The cap holds in Redis (several
web processes) and in memory."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from executions_app.channels import channel_account_email
from tasks_app.evaluation import task_preview
from torale.inflight import get_slots

pytestmark = pytest.mark.django_db

PREVIEW = "/api/v1/tasks/preview"
SUGGEST = "/api/v1/tasks/suggest"
VALID = {
    "search_query": "When is the next iPhone being released?",
    "condition_description": "Apple has officially announced a specific release date",
}
BUSY = (
    "1 previews, suggestions or test sends are already running for this account; "
    "wait for one to finish"
)


@pytest.fixture(params=["redis", "memory"])
def one_call_at_a_time(request, settings, gemini):
    settings.TORALE_PROVIDER_CALLS_PER_ACCOUNT = 1
    if request.param == "memory":
        settings.REDIS_URL = ""
    get_slots.cache_clear()
    yield gemini
    get_slots.cache_clear()


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class HeldPreview(threading.Thread):
    """A preview by `user` whose search the stand-in answers only after `seconds`."""

    def __init__(self, gemini, user, seconds: float = 1.5):
        super().__init__(daemon=True)
        self.user = user
        gemini.script({"delay": seconds})
        self.gemini = gemini
        self.result = None

    def run(self) -> None:
        self.result = task_preview(user=self.user, **VALID)

    def __enter__(self) -> HeldPreview:
        self.start()
        wait_for(lambda: self.gemini.pending == 0)  # the held reply is being served
        return self

    def __exit__(self, *exc_info) -> None:
        self.join(timeout=10)


def test_a_second_preview_while_one_runs_is_refused_with_retry_after(
    api, owner, one_call_at_a_time
):
    with HeldPreview(one_call_at_a_time, owner):
        response = api.post(PREVIEW, VALID, format="json")

    assert response.status_code == 429
    assert response.json() == {"detail": BUSY, "retry_after": 5}
    assert response["Retry-After"] == "5"


def test_suggest_shares_the_same_slots(api, owner, one_call_at_a_time):
    with HeldPreview(one_call_at_a_time, owner):
        response = api.post(
            SUGGEST, {"prompt": "Tell me when the PS5 Pro is in stock"}, format="json"
        )

    assert response.status_code == 429
    assert response.json()["detail"] == BUSY


def test_a_channels_test_send_shares_the_same_slots(api, owner_client, owner, one_call_at_a_time):
    channel = channel_account_email(user=owner)

    with HeldPreview(one_call_at_a_time, owner):
        from_api = api.post(f"/api/v1/notifications/channels/{channel.id}/test")
        from_page = owner_client.post(
            f"/settings/channels/{channel.id}/test", HTTP_ACCEPT="application/json"
        )

    assert from_api.status_code == 429
    assert from_api.json() == {"detail": BUSY, "retry_after": 5}
    assert from_page.status_code == 429
    assert from_page.json() == {"detail": BUSY, "retry_after": 5}
    assert not mail.outbox  # nothing was sent
    assert api.post(f"/api/v1/notifications/channels/{channel.id}/test").status_code == 200
    assert len(mail.outbox) == 1


def test_the_slot_is_free_again_once_the_preview_finishes(api, owner, one_call_at_a_time):
    with HeldPreview(one_call_at_a_time, owner) as held:
        pass

    assert held.result["answer"]
    assert api.post(PREVIEW, VALID, format="json").status_code == 200


def test_another_account_is_not_held_up(other_api, owner, one_call_at_a_time):
    with HeldPreview(one_call_at_a_time, owner):
        response = other_api.post(PREVIEW, VALID, format="json")

    assert response.status_code == 200


def test_a_failed_preview_frees_its_slot(api, one_call_at_a_time):
    one_call_at_a_time.script({"status": 400, "message": "API key not valid"})

    assert api.post(PREVIEW, VALID, format="json").status_code == 502
    assert api.post(PREVIEW, VALID, format="json").status_code == 200


def test_the_create_page_explains_the_refusal(owner_client, owner, one_call_at_a_time):
    with HeldPreview(one_call_at_a_time, owner):
        response = owner_client.post("/tasks/new", {"action": "preview", **VALID})

    assert response.status_code == 200
    assert BUSY in response.text


def test_a_slot_left_by_a_process_that_died_expires(api, owner, settings, gemini):
    # A web process killed mid-preview never releases its slot in Redis.
    settings.TORALE_PROVIDER_CALLS_PER_ACCOUNT = 1
    get_slots.cache_clear()
    assert get_slots().take(str(owner.pk), 1) is not None
    assert api.post(PREVIEW, VALID, format="json").status_code == 429

    lifetime = 2 * settings.GEMINI_TIMEOUT_SECONDS + 30
    with time_machine.travel(timezone.now() + timedelta(seconds=lifetime + 1)):
        response = api.post(PREVIEW, VALID, format="json")

    assert response.status_code == 200
