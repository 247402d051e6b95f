"""Channel secrets (the webhook signing secret, URLs carrying tokens) are encrypted at rest and
never shown in a repr or a log line, even while sending."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from executions_app.channels import (
    channel_account_email,
    channel_create,
    channel_target,
    task_channels_set,
)
from executions_app.models import Channel, Delivery
from executions_app.outbox import SECRET_UNREADABLE, delivery_send
from tests.factories import make_task
from tests.support.outbox import only_delivery, record_run
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db

TOKEN = "tok-5ecr3t-in-the-query"


def raw_columns(channel: Channel) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT target, secret FROM {Channel._meta.db_table} WHERE id = %s", [channel.pk]
        )
        return cursor.fetchone()


@pytest.fixture
def hook(owner, receiver, allow_private):
    """A webhook whose URL carries a token, and its signing secret."""
    channel, secret = channel_create(
        user=owner, kind="webhook", target=receiver.url(f"/hook?token={TOKEN}")
    )
    return channel, secret


def test_the_target_and_secret_are_encrypted_at_rest(hook):
    channel, secret = hook

    target, stored_secret = raw_columns(channel)

    assert TOKEN not in target and "127.0.0.1" not in target and "http" not in target
    assert "whsec_" not in stored_secret and secret.removeprefix("whsec_") not in stored_secret
    again = Channel.objects.get(pk=channel.pk)  # and read back as they were
    assert (again.secret, again.target) == (secret, channel.target)


def test_an_apprise_url_is_encrypted_at_rest(owner, allow_private):
    channel, _ = channel_create(
        user=owner, kind="apprise", target=f"json://127.0.0.1:9/notify?token={TOKEN}"
    )

    target, _ = raw_columns(channel)

    assert TOKEN not in target and "json://" not in target
    assert TOKEN not in channel.target_display and TOKEN not in str(channel)


def test_no_repr_shows_the_secret_or_the_token(hook, owner):
    channel, secret = hook
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    delivery = only_delivery(record_run(task))

    shown = " ".join(
        [repr(channel), str(channel), repr(channel_target(channel)), repr(delivery), str(delivery)]
    )

    assert secret not in shown and TOKEN not in shown
    assert delivery.recipient == channel.target_display  # the URL without its query
    assert delivery.recipient.endswith("/hook?…")


@pytest.mark.parametrize(
    "reply", [Reply(200), Reply(500), Reply(410)], ids=["sent", "retry", "gone"]
)
def test_no_log_line_of_a_send_carries_the_secret_or_the_token(
    hook, owner, receiver, caplog, reply, fast_retries
):
    channel, secret = hook
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    delivery = only_delivery(record_run(task))
    receiver.script(reply)

    with caplog.at_level(logging.DEBUG):
        delivery_send(delivery_id=delivery.id)

    assert len(receiver.requests) == 1  # it was really sent
    assert caplog.records  # and the send did log
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert secret not in logged and secret.removeprefix("whsec_") not in logged
    assert TOKEN not in logged
    stored = Delivery.objects.get(pk=delivery.pk)
    assert TOKEN not in (stored.error_message or "") and TOKEN not in stored.recipient


def test_no_log_line_of_an_apprise_send_carries_its_password(
    owner, receiver, allow_private, caplog
):
    channel, _ = channel_create(
        user=owner, kind="apprise", target=f"json://alerts:{TOKEN}@127.0.0.1:{receiver.port}/n"
    )
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    delivery = only_delivery(record_run(task))

    with caplog.at_level(logging.DEBUG):
        delivery_send(delivery_id=delivery.id)

    assert Delivery.objects.get(pk=delivery.pk).status == "sent"
    assert len(receiver.requests) == 1
    assert TOKEN not in caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert TOKEN not in repr(channel_target(channel)) + delivery.recipient


def lock_with_another_key(channel: Channel) -> None:
    """Store the channel's secrets as a server with another SECRET_KEY would have."""
    foreign = Fernet(Fernet.generate_key())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Channel._meta.db_table} SET target = %s, secret = %s WHERE id = %s",
            [
                foreign.encrypt(b"https://x.example").decode(),
                foreign.encrypt(b"s").decode(),
                channel.pk,
            ],
        )


def test_a_channel_whose_secrets_cannot_be_read_fails_only_its_own_delivery(
    owner, hook, smtp_settings, smtp
):
    channel, _ = hook
    task = make_task(owner)
    account_email = channel_account_email(user=owner)
    task_channels_set(task=task, user=owner, channel_ids=[account_email.pk, channel.pk])
    lock_with_another_key(channel)

    run = record_run(task)  # the result is stored, and a delivery made for each channel
    for delivery in Delivery.objects.filter(execution=run):
        delivery_send(delivery_id=delivery.pk)

    assert (run.status, run.condition_met) == ("success", True)
    outcomes = {d.kind: (d.status, d.error_message) for d in Delivery.objects.filter(execution=run)}
    assert outcomes["email"] == ("sent", None)
    assert outcomes["webhook"] == ("failed", SECRET_UNREADABLE)
    assert len(smtp.messages) == 1
