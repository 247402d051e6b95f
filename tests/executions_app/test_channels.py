"""Channel services: which channels a task notifies, how targets are checked, and what becomes
of a delivery whose channel was removed or disabled before it was sent."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from executions_app.channels import (
    ChannelInUse,
    InvalidTarget,
    channel_account_email,
    channel_delete,
    channel_send_test,
    channel_update,
    channels_for_task,
    check_target,
    check_webhook_url,
    task_channels_get,
    task_channels_set,
)
from executions_app.models import Channel, ChannelRole, Delivery, Execution
from executions_app.outbox import delivery_send
from tests.factories import make_task
from tests.support.outbox import only_delivery, record_run, webhook_channel
from tests.support.receivers import HttpReceiver, Reply
from torale.errors import NotFound

pytestmark = pytest.mark.django_db


# --- Which channels a task notifies ----------------------------------------------------------


def test_the_account_email_is_made_once_on_first_use(owner):
    first = channel_account_email(user=owner)
    again = channel_account_email(user=owner)

    assert first.pk == again.pk
    assert (first.kind, first.role, first.is_default, first.enabled) == (
        "email",
        ChannelRole.ACCOUNT_EMAIL,
        True,
        True,
    )
    assert first.target == "" and first.recipient == "owner@example.com"
    assert Channel.objects.filter(owner=owner).count() == 1


def test_a_task_without_choices_uses_its_owners_enabled_defaults(owner, task):
    webhook, _ = webhook_channel(owner, "https://hooks.example.com/a", is_default=True)
    webhook_channel(owner, "https://hooks.example.com/off", is_default=True, enabled=False)
    webhook_channel(owner, "https://hooks.example.com/not-default")

    channels = channels_for_task(task)

    account_email = Channel.objects.get(owner=owner, role=ChannelRole.ACCOUNT_EMAIL)
    assert [c.pk for c in channels] == [webhook.pk, account_email.pk]  # oldest first


def test_a_task_with_choices_uses_only_its_enabled_choices(owner, task):
    chosen, _ = webhook_channel(owner, "https://hooks.example.com/a")
    off, _ = webhook_channel(owner, "https://hooks.example.com/b", enabled=False)
    task_channels_set(task=task, user=owner, channel_ids=[chosen.id, off.id])

    assert [c.pk for c in channels_for_task(task)] == [chosen.pk]
    assert task_channels_get(task=task) == (True, [chosen, off])


def test_an_empty_choice_returns_the_task_to_the_defaults(owner, task):
    chosen, _ = webhook_channel(owner, "https://hooks.example.com/a")
    task_channels_set(task=task, user=owner, channel_ids=[chosen.id])

    task_channels_set(task=task, user=owner, channel_ids=[])

    assert [c.role for c in channels_for_task(task)] == [ChannelRole.ACCOUNT_EMAIL]


def test_a_task_cannot_choose_another_users_channel(owner, other_user, task):
    theirs, _ = webhook_channel(other_user, "https://hooks.example.com/theirs")

    with pytest.raises(NotFound):
        task_channels_set(task=task, user=owner, channel_ids=[theirs.id])


# --- Targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",  # loopback (and plain http)
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "ftp://hooks.example.com/x",
        "not a url",
    ],
)
def test_private_and_malformed_webhook_urls_are_invalid_targets(url):
    with pytest.raises(InvalidTarget):
        check_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://bücher.example/hook",  # an IDN, sent as xn--bcher-kva.example
        "https://[2606:4700:4700::1111]/hook",
        "https://hooks.example.com./hook",
        "https://hook_service.internal.example.com/hook",
        "https://hooks.example.com/a%20b?x=1",
    ],
)
def test_well_formed_public_webhook_urls_are_accepted(url):
    assert check_webhook_url(url).target == url


def test_plain_http_is_refused_for_public_hosts_without_the_operator_setting():
    with pytest.raises(InvalidTarget, match="https"):
        check_webhook_url("http://hooks.example.com/a")


def test_the_operator_setting_allows_local_receivers_but_never_metadata(allow_private):
    assert check_webhook_url("http://127.0.0.1:8080/hook").display == "http://127.0.0.1:8080/hook"
    with pytest.raises(InvalidTarget, match="metadata"):
        check_webhook_url("http://169.254.169.254/latest/meta-data")


def test_the_display_form_of_a_webhook_url_hides_credentials_and_query():
    checked = check_webhook_url("https://user:pa55@hooks.example.com/a?token=s3cr3t")

    assert checked.target == "https://user:pa55@hooks.example.com/a?token=s3cr3t"
    assert checked.display == "https://hooks.example.com/a?…"


def test_an_invalid_email_address_is_an_invalid_target():
    with pytest.raises(InvalidTarget):
        check_target("email", "not-an-address")
    assert check_target("email", " team@example.com ").target == "team@example.com"


# --- Removing a channel -----------------------------------------------------------------------


def test_a_channel_that_is_some_tasks_only_choice_is_not_removed(owner, allow_private):
    channel, _ = webhook_channel(owner, "https://hooks.example.com/only")
    alone = make_task(owner, name="Webhook only")
    shared = make_task(owner, name="Webhook and email")
    task_channels_set(task=alone, user=owner, channel_ids=[channel.id])
    task_channels_set(
        task=shared, user=owner, channel_ids=[channel.id, channel_account_email(user=owner).id]
    )

    with pytest.raises(ChannelInUse) as refused:
        channel_delete(channel_id=channel.id, user=owner)

    assert refused.value.detail == (
        f"“{channel.name}” is the only channel of “Webhook only”: choose other channels for "
        "those tasks first, or disable this one"
    )
    assert Channel.objects.filter(pk=channel.pk).exists()
    assert task_channels_get(task=alone) == (True, [channel])


def test_a_channel_that_other_tasks_share_with_more_channels_is_removed(owner, allow_private):
    channel, _ = webhook_channel(owner, "https://hooks.example.com/shared")
    email = channel_account_email(user=owner)
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id, email.id])

    channel_delete(channel_id=channel.id, user=owner)

    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert task_channels_get(task=task) == (True, [email])


# --- Channel changes after the delivery was created ------------------------------------------


@pytest.fixture
def pending(owner, receiver, allow_private):
    """A pending delivery to the owner's webhook, created by a met run."""
    channel, _ = webhook_channel(owner, receiver.url())
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    return only_delivery(record_run(task))


def test_a_delivery_whose_channel_was_removed_fails_saying_so(owner, pending, receiver):
    email = channel_account_email(user=owner)
    task_channels_set(task=pending.task, user=owner, channel_ids=[email.id])
    channel_delete(channel_id=pending.channel_id, user=owner)

    delivery_send(delivery_id=pending.id)

    failed = Delivery.objects.get(pk=pending.pk)
    assert failed.channel_id is None  # the history stays, with its recipient
    assert failed.recipient == receiver.url()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error_message == "The channel was removed before this notification was sent"
    assert receiver.requests == []
    assert Execution.objects.get(pk=pending.execution_id).notified is False


def test_a_delivery_whose_channel_was_disabled_fails_saying_so(owner, pending, receiver):
    channel_update(channel_id=pending.channel_id, user=owner, changes={"enabled": False})

    delivery_send(delivery_id=pending.id)

    failed = Delivery.objects.get(pk=pending.pk)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error_message == "The channel was disabled before this notification was sent"
    assert receiver.requests == []


def test_a_delivery_follows_a_channels_new_url(owner, pending, receiver):
    """The target is read when sending: a corrected URL is used by deliveries still open."""
    with HttpReceiver("127.0.0.1") as moved:
        channel_update(channel_id=pending.channel_id, user=owner, changes={"target": moved.url()})

        delivery_send(delivery_id=pending.id)

        assert len(moved.requests) == 1
    assert receiver.requests == []
    assert Delivery.objects.get(pk=pending.pk).status == "sent"


# --- Test sends --------------------------------------------------------------------------------


def test_a_test_send_reaches_the_receiver_signed_and_records_nothing(
    owner, receiver, allow_private
):
    channel, secret = webhook_channel(owner, receiver.url())

    result = channel_send_test(channel=channel)

    assert (result.success, result.status_code, result.error) == (True, 200, None)
    [received] = receiver.requests
    event = Webhook(secret).verify(received.body, received.headers)
    assert event["type"] == "webhook.test"
    assert received.headers["webhook-id"] == event["id"]
    assert not Delivery.objects.exists()


def test_a_test_send_reports_what_the_receiver_answered(owner, receiver, allow_private):
    channel, _ = webhook_channel(owner, receiver.url())
    receiver.script(Reply(410, body=b"gone"))

    result = channel_send_test(channel=channel)

    assert (result.success, result.status_code) == (False, 410)
    assert result.error == "Receiver answered 410: gone"


def test_a_test_email_reaches_the_smtp_server(owner, smtp_settings, smtp):
    result = channel_send_test(channel=channel_account_email(user=owner))

    assert result.success is True
    assert smtp.envelopes == [("alerts@torale.example", ["owner@example.com"])]
