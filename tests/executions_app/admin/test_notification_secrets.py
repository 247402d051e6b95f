"""Channel secrets never reach the admin's HTML: not the webhook signing secret, not a token
in a webhook or Apprise URL."""

from __future__ import annotations

import pytest

from executions_app.channels import channel_create
from tests.factories import make_delivery, make_execution

pytestmark = pytest.mark.django_db

TOKEN = "tok-5ecr3t-in-the-query"


@pytest.fixture
def channels(owner, allow_private):
    hook, secret = channel_create(
        user=owner, kind="webhook", target=f"http://127.0.0.1:9/hook?token={TOKEN}"
    )
    apprise, _ = channel_create(
        user=owner, kind="apprise", target=f"json://127.0.0.1:9/notify?token={TOKEN}"
    )
    return hook, secret, apprise


def test_channel_pages_show_no_secret(admin_client, channels):
    hook, secret, apprise = channels
    pages = [
        "/admin/executions_app/channel/",
        f"/admin/executions_app/channel/{hook.pk}/change/",
        f"/admin/executions_app/channel/{apprise.pk}/change/",
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert TOKEN not in html, url
        assert secret not in html and secret.removeprefix("whsec_") not in html, url


def test_delivery_pages_show_no_secret(admin_client, task, channels):
    hook, secret, _ = channels
    delivery = make_delivery(make_execution(task, condition_met=True), channel=hook)

    for url in [
        "/admin/executions_app/delivery/",
        f"/admin/executions_app/delivery/{delivery.pk}/change/",
        f"/admin/executions_app/delivery/?task={task.pk}",
    ]:
        response = admin_client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert TOKEN not in html and secret not in html, url
