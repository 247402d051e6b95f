"""Notification channels: which exist, which a task uses, how their targets are checked, and
the test send. Every caller (API, pages, admin) goes through these functions.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from executions_app.models import Channel, ChannelKind, ChannelRole, TaskChannel
from executions_app.notifiers import apprise as apprise_notifier
from executions_app.notifiers import safe_http, signing
from executions_app.notifiers.addresses import AddressPolicy
from executions_app.notifiers.base import DeliveryError, TargetRefused, sample_notification
from executions_app.notifiers.email import EmailTarget
from executions_app.notifiers.registry import get_notifier
from executions_app.notifiers.webhook import WebhookTarget, display_url
from tasks_app.models import Task
from torale.errors import DomainError, NotFound
from torale.inflight import provider_call_slot

CHANNEL_NOT_FOUND = "Channel not found"
ACCOUNT_EMAIL_NAME = "Account email"
ACCOUNT_WEBHOOK_NAME = "Account webhook"
NO_ACCOUNT_ADDRESS = "Your account has no email address; add one in your settings"
URL_MAX_LENGTH = 2000


class InvalidTarget(ValueError):
    """A target (address or URL) that cannot be saved; the message says why, for the user."""


class ChannelInUse(DomainError):
    status_code = 400


# --- Targets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedTarget:
    target: str  # what is stored (encrypted)
    display: str  # what users see


def check_email(address: str) -> CheckedTarget:
    address = address.strip()
    try:
        validate_email(address)
    except DjangoValidationError:
        raise InvalidTarget("Enter a valid email address") from None
    return CheckedTarget(address, address)


# A DNS label: 1 to 63 letters, digits, hyphens (not at either end) or underscores.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
# Percent-encoded control characters (%00-%1F, %7F): a receiver's URL never needs them, and
# shown decoded they would break lines of the pages and logs that name the recipient.
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")


def _is_host_name(raw_host: bytes) -> bool:
    """A DNS name (IDNA-encoded) or an IP address; httpx accepts hosts such as `exa mple.com`
    (keeping them percent-encoded) that no resolver could ever find."""
    host = raw_host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        name = host.removesuffix(".")
        return len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))
    return True


def check_webhook_url(url: str) -> CheckedTarget:
    """A webhook URL users may save: https (http only where private targets are allowed, i.e.
    local development), and not an address the policy refuses."""
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise InvalidTarget(f"A URL has at most {URL_MAX_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise InvalidTarget("Enter a valid URL") from None
    policy = AddressPolicy.from_settings()
    if parsed.scheme not in {"http", "https"} or not _is_host_name(parsed.raw_host):
        raise InvalidTarget("Enter a valid http(s) URL")
    if any(c.isspace() for c in url):
        raise InvalidTarget("A URL cannot contain spaces; percent-encode them (%20)")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InvalidTarget("A port is a number from 1 to 65535")
    if any(not c.isprintable() for c in url) or _ENCODED_CONTROL.search(url):
        raise InvalidTarget("A URL cannot contain control characters")
    if parsed.scheme == "http" and not policy.allow_private:
        raise InvalidTarget("Webhook URLs must use https")
    try:
        safe_http.check_url(url, policy=policy)
    except TargetRefused as exc:
        raise InvalidTarget(exc.message) from None
    except DeliveryError:
        pass  # the name does not resolve right now; every send checks again
    return CheckedTarget(url, display_url(parsed))


def check_apprise_url(url: str) -> CheckedTarget:
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise InvalidTarget(f"A URL has at most {URL_MAX_LENGTH} characters")
    try:
        display = apprise_notifier.check_url(url)
    except DeliveryError as exc:
        raise InvalidTarget(exc.message) from None
    return CheckedTarget(url, display)


CHECKS = {
    ChannelKind.EMAIL: check_email,
    ChannelKind.WEBHOOK: check_webhook_url,
    ChannelKind.APPRISE: check_apprise_url,
}


def check_target(kind: str, target: str) -> CheckedTarget:
    return CHECKS[ChannelKind(kind)](target)


def channel_target(channel: Channel) -> Any:
    """What the channel's notifier sends to. Raises DeliveryError (permanent) when the channel
    cannot be used as it stands."""
    if channel.kind == ChannelKind.EMAIL:
        address = (
            channel.owner.email if channel.role == ChannelRole.ACCOUNT_EMAIL else channel.target
        )
        if not address:
            raise DeliveryError(NO_ACCOUNT_ADDRESS, permanent=True)
        return EmailTarget(address)
    if channel.kind == ChannelKind.WEBHOOK:
        if not channel.target:
            raise DeliveryError("The webhook has no URL", permanent=True)
        return WebhookTarget(channel.target, channel.secret)
    from executions_app.notifiers.apprise import AppriseTarget

    return AppriseTarget(channel.target)


# --- Reads ---------------------------------------------------------------------------------------


def channel_account_email(*, user) -> Channel:
    """The user's account-email channel, created on first use (a default channel)."""
    channel = Channel.objects.filter(owner=user, role=ChannelRole.ACCOUNT_EMAIL).first()
    if channel is not None:
        return channel
    try:
        with transaction.atomic():
            return Channel.objects.create(
                owner=user,
                kind=ChannelKind.EMAIL,
                role=ChannelRole.ACCOUNT_EMAIL,
                name=ACCOUNT_EMAIL_NAME,
                is_default=True,
            )
    except IntegrityError:  # created concurrently
        return Channel.objects.get(owner=user, role=ChannelRole.ACCOUNT_EMAIL)


def channel_list_for_user(*, user) -> list[Channel]:
    channel_account_email(user=user)
    return list(Channel.objects.filter(owner=user).select_related("owner"))


def channel_get_for_user(*, channel_id, user) -> Channel:
    """The user's channel; someone else's id reads as not found (ids are not guessable)."""
    try:
        pk = uuid.UUID(str(channel_id))
    except ValueError:
        raise NotFound(CHANNEL_NOT_FOUND) from None
    channel = Channel.objects.select_related("owner").filter(pk=pk, owner=user).first()
    if channel is None:
        raise NotFound(CHANNEL_NOT_FOUND)
    return channel


def channels_for_task(task) -> list[Channel]:
    """The enabled channels a task notifies: its own choice, else its owner's defaults."""
    chosen = Channel.objects.filter(task_choices__task=task)
    if chosen.exists():
        channels = chosen
    else:
        channel_account_email(user=task.owner)
        channels = Channel.objects.filter(owner_id=task.owner_id, is_default=True)
    # Making deliveries needs no target or secret: they are decrypted only to send, so a
    # channel whose secret cannot be read fails its own delivery, never the run.
    enabled = channels.filter(enabled=True).defer("target", "secret")
    return list(enabled.select_related("owner").order_by("created_at", "id"))


def task_channels_get(*, task) -> tuple[bool, list[Channel]]:
    """(whether the task chose its own channels, the channels it would use, enabled or not)."""
    chosen = list(
        Channel.objects.filter(task_choices__task=task)
        .select_related("owner")
        .order_by("created_at", "id")
    )
    if chosen:
        return True, chosen
    channel_account_email(user=task.owner)
    defaults = Channel.objects.filter(owner_id=task.owner_id, is_default=True)
    return False, list(defaults.select_related("owner").order_by("created_at", "id"))


# --- Writes --------------------------------------------------------------------------------------


@transaction.atomic
def task_channels_set(*, task, user, channel_ids: Iterable) -> None:
    """Choose the task's channels; an empty list returns it to the owner's defaults."""
    ids = list(dict.fromkeys(channel_ids))
    channels = [channel_get_for_user(channel_id=pk, user=user) for pk in ids]
    TaskChannel.objects.filter(task=task).delete()
    TaskChannel.objects.bulk_create([TaskChannel(task=task, channel=c) for c in channels])


@transaction.atomic
def channel_create(
    *,
    user,
    kind: str,
    target: str,
    name: str = "",
    enabled: bool = True,
    is_default: bool = False,
) -> tuple[Channel, str | None]:
    """A new channel; for a webhook also its signing secret, which is returned only here."""
    checked = check_target(kind, target)
    secret = signing.generate_secret() if kind == ChannelKind.WEBHOOK else None
    channel = Channel.objects.create(
        owner=user,
        kind=kind,
        name=name.strip() or checked.display[:100],
        target=checked.target,
        target_display=checked.display,
        secret=secret or "",
        enabled=enabled,
        is_default=is_default,
    )
    return channel, secret


@transaction.atomic
def channel_update(*, channel_id, user, changes: dict[str, Any]) -> Channel:
    """Change name, enabled, is_default, or the target (not for the account email)."""
    channel = channel_get_for_user(channel_id=channel_id, user=user)
    if "target" in changes:
        if channel.role == ChannelRole.ACCOUNT_EMAIL:
            raise InvalidTarget("The account email follows your account's address")
        checked = check_target(channel.kind, changes["target"])
        channel.target, channel.target_display = checked.target, checked.display
    for field in ("name", "enabled", "is_default"):
        if field in changes:
            setattr(channel, field, changes[field])
    channel.updated_at = timezone.now()
    channel.save()
    return channel


@transaction.atomic
def channel_rotate_secret(*, channel_id, user) -> tuple[Channel, str]:
    channel = channel_get_for_user(channel_id=channel_id, user=user)
    if channel.kind != ChannelKind.WEBHOOK:
        raise ChannelInUse("Only webhooks have a signing secret")
    secret = signing.generate_secret()
    channel.secret = secret
    channel.updated_at = timezone.now()
    channel.save(update_fields=["secret", "updated_at"])
    return channel, secret


def channel_delete_refusal(channel: Channel) -> str | None:
    """Why `channel` may not be removed, or None. Call it in the transaction that deletes:
    it locks the tasks that chose the channel, so two removals of a task's last two
    channels cannot both see the other one still there."""
    if channel.role == ChannelRole.ACCOUNT_EMAIL:
        return "The account email cannot be removed; disable it instead"
    # A task that notifies only this channel would silently fall back to the defaults
    # (say, email for a task chosen to be webhook-only): the user decides that, not a delete.
    choosers = list(
        Task.objects.select_for_update()
        .filter(channel_choices__channel=channel)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    stranded = list(
        Task.objects.filter(pk__in=choosers)
        .annotate(chosen=Count("channel_choices"))
        .filter(chosen=1)
        .order_by("name")
        .values_list("name", flat=True)[:4]
    )
    if not stranded:
        return None
    names = ", ".join(f"“{name}”" for name in stranded[:3])
    more = " and others" if len(stranded) > 3 else ""
    return (
        f"“{channel.name}” is the only channel of {names}{more}: choose other channels "
        "for those tasks first, or disable this one"
    )


@transaction.atomic
def channel_delete(*, channel_id, user) -> None:
    channel = channel_get_for_user(channel_id=channel_id, user=user)
    refusal = channel_delete_refusal(channel)
    if refusal:
        raise ChannelInUse(refusal)
    channel.delete()  # its deliveries stay, with their recipient and outcome


def webhook_config_get(*, user) -> Channel | None:
    return Channel.objects.filter(owner=user, role=ChannelRole.ACCOUNT_WEBHOOK).first()


@transaction.atomic
def webhook_config_put(
    *, user, url: str, enabled: bool = True, rotate_secret: bool = False
) -> tuple[Channel, str | None]:
    """Set the account webhook, which every task without its own channels notifies while it
    is enabled. The signing secret is made on first set-up (or on request) and returned then
    only."""
    checked = check_target(ChannelKind.WEBHOOK, url)
    channel = (
        Channel.objects.select_for_update()
        .filter(owner=user, role=ChannelRole.ACCOUNT_WEBHOOK)
        .first()
    )
    secret = None
    if channel is None:
        secret = signing.generate_secret()
        channel = Channel(
            owner=user,
            kind=ChannelKind.WEBHOOK,
            role=ChannelRole.ACCOUNT_WEBHOOK,
            name=ACCOUNT_WEBHOOK_NAME,
            secret=secret,
        )
    elif rotate_secret:
        secret = signing.generate_secret()
        channel.secret = secret
    channel.target, channel.target_display = checked.target, checked.display
    channel.enabled = enabled
    channel.is_default = True
    channel.updated_at = timezone.now()
    channel.save()
    return channel, secret


# --- Test sends ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    success: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    response: str = ""


def channel_send_test(*, channel: Channel) -> TestResult:
    """Send a sample notice now and report what the receiver answered (nothing is recorded).
    Holds one of the owner's slow-call slots while it waits (TooManyInFlight when none is
    free): a slow receiver must not let one account occupy every web thread."""
    with provider_call_slot(channel.owner_id):
        started = time.monotonic()
        try:
            target = channel_target(channel)
            result = get_notifier(channel.kind).send(sample_notification(), target)
        except DeliveryError as exc:
            return TestResult(False, exc.status_code, exc.message, _ms_since(started))
        return TestResult(True, result.status_code, None, _ms_since(started), result.detail)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
