"""The notification outbox: a Delivery per (execution, channel), sent exactly once.

- Deliveries are created in the transaction that records the met condition, and published to
  the workers after it commits (the reaper publishes any whose message was lost).
- A delivery is claimed by a conditional UPDATE (pending, due retrying, or sending with an
  expired lease -> sending, attempts + 1), in the same transaction that records the attempt.
  A duplicated or redelivered message claims nothing, and a sent delivery is never claimed
  again. The attempt number fences every later write, as for runs.
- A worker that dies mid-send leaves its attempt `in_progress`; the next claim marks it
  `interrupted` and sends again with the same delivery id, which receivers see as the webhook
  `id` / `webhook-id` and the email Message-ID, so the repeat is recognisable as one event.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from executions_app.channels import channel_target, channels_for_task
from executions_app.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Execution,
)
from executions_app.notifiers.base import DeliveryError, Notification, SendResult
from executions_app.notifiers.registry import get_notifier
from torale.crypto import UnreadableSecret
from torale.errors import Conflict

logger = logging.getLogger(__name__)

DAILY_LIMIT_REACHED = (
    "Not sent: the daily limit of {limit} notifications for this account was reached"
)
CHANNEL_REMOVED = "The channel was removed before this notification was sent"
CHANNEL_DISABLED = "The channel was disabled before this notification was sent"
SECRET_UNREADABLE = (
    "The channel's address or secret cannot be read with this server's keys (SECRET_KEY or "
    "TORALE_ENCRYPTION_KEY changed): set the channel up again"
)
INTERRUPTED = "The worker stopped during this attempt; whether it arrived is unknown"
TIME_LIMIT = "Sending took longer than the limit of {seconds} seconds"
UNEXPECTED = "Sending failed unexpectedly ({kind}); the operators' logs have the details"
GAVE_UP = "{error} (gave up after {attempts} attempts)"
NOT_RETRYABLE = "Only a failed or skipped notification can be retried"
STILL_OVER_LIMIT = (
    "The daily limit of {limit} notifications for this account is still reached; "
    "retry once older notifications are a day old"
)
RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)


# --- Creating deliveries -------------------------------------------------------------------------


def deliveries_create(*, execution: Execution, task, now: datetime) -> list:
    """The outbox rows for a run whose condition was met. Call inside the transaction that
    records the result: rows and result commit together, and the messages are published only
    after the commit. Returns the ids of the deliveries to send."""
    channels = channels_for_task(task)
    if not channels:
        return []
    remaining = _remaining_today(owner_id=task.owner_id, now=now)
    limit = settings.TORALE_NOTIFICATIONS_PER_DAY
    rows = []
    for index, channel in enumerate(channels):
        over = index >= remaining
        rows.append(
            Delivery(
                execution=execution,
                channel=channel,
                owner_id=task.owner_id,
                task=task,
                kind=channel.kind,
                recipient=channel.recipient[:300],
                status=DeliveryStatus.SKIPPED if over else DeliveryStatus.PENDING,
                error_message=DAILY_LIMIT_REACHED.format(limit=limit) if over else None,
                attempt_limit=settings.TORALE_DELIVERY_MAX_ATTEMPTS,
                created_at=now,
                updated_at=now,
            )
        )
    Delivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows if row.status == DeliveryStatus.PENDING]
    if ids:
        transaction.on_commit(lambda: publish_deliveries(ids))
    return ids


def _remaining_today(*, owner_id, now: datetime) -> int:
    """Notifications the owner may still get in the 24 hours up to `now`.

    Locks the owner's row first: two runs finishing together cannot both take the last one.
    """
    get_user_model().objects.select_for_update().filter(pk=owner_id).values_list("pk").first()
    used = (
        Delivery.objects.filter(owner_id=owner_id, created_at__gt=now - timedelta(days=1))
        .exclude(status=DeliveryStatus.SKIPPED)
        .count()
    )
    return max(0, settings.TORALE_NOTIFICATIONS_PER_DAY - used)


def publish_deliveries(ids: Iterable) -> None:
    """Queue a send of each delivery; a lost message is published again by the reaper."""
    from executions_app.tasks import deliver

    for delivery_id in ids:
        try:
            deliver.delay(str(delivery_id))
        except Exception:
            logger.exception("could not queue delivery %s; the reaper will", delivery_id)


# --- Sending -------------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return (
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
    )


def delivery_claim(*, delivery_id) -> Delivery | None:
    """Take the delivery for this worker and open its attempt record; None when it is not
    ours to send (sent, failed, sending elsewhere, not due, out of attempts, deleted)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.TORALE_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        claimed = (
            Delivery.objects.filter(_claimable(now), pk=delivery_id)
            .filter(attempts__lt=F("attempt_limit"))
            .update(
                status=DeliveryStatus.SENDING,
                attempts=F("attempts") + 1,
                lease_expires_at=lease,
                next_attempt_at=None,
                updated_at=now,
            )
        )
        if not claimed:
            return None
        # The channel's secrets are read when sending, where a failure is recorded.
        delivery = (
            Delivery.objects.select_related("execution__task", "channel__owner", "owner")
            .defer("channel__target", "channel__secret")
            .get(pk=delivery_id)
        )
        DeliveryAttempt.objects.filter(
            delivery=delivery, outcome=AttemptOutcome.IN_PROGRESS
        ).update(outcome=AttemptOutcome.INTERRUPTED, error=INTERRUPTED)
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    return delivery


def delivery_send(*, delivery_id) -> None:
    """Claim, send, record. Transient failures retry with backoff up to the delivery's
    attempt limit; permanent ones (4xx other than 429, refused targets) fail it at once."""
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return
    started = time.monotonic()
    try:
        message = Notification.from_execution(
            delivery.execution, delivery_id=delivery.pk, created_at=delivery.created_at
        )
        result = get_notifier(delivery.kind).send(message, _target(delivery))
    except DeliveryError as exc:
        _record_failure(delivery, exc, _ms_since(started))
    except SoftTimeLimitExceeded:
        seconds = settings.TORALE_DELIVERY_TIME_LIMIT_SECONDS
        error = DeliveryError(TIME_LIMIT.format(seconds=seconds), permanent=False)
        _record_failure(delivery, error, _ms_since(started))
    except Exception as exc:  # a bug or a broken secret must not leave the delivery hanging
        logger.exception("delivery %s failed unexpectedly", delivery.pk)
        error = DeliveryError(UNEXPECTED.format(kind=type(exc).__name__), permanent=True)
        _record_failure(delivery, error, _ms_since(started))
    else:
        _record_sent(delivery, result, _ms_since(started))


def _target(delivery: Delivery):
    channel = delivery.channel
    if channel is None:
        raise DeliveryError(CHANNEL_REMOVED, permanent=True)
    if not channel.enabled:
        raise DeliveryError(CHANNEL_DISABLED, permanent=True)
    try:
        return channel_target(channel)
    except UnreadableSecret:
        raise DeliveryError(SECRET_UNREADABLE, permanent=True) from None


def _mine(delivery: Delivery):
    """The delivery's row, as long as this worker's attempt still owns it."""
    return Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    )


def _attempt(delivery: Delivery):
    return DeliveryAttempt.objects.filter(
        delivery=delivery, number=delivery.attempts, outcome=AttemptOutcome.IN_PROGRESS
    )


def _record_sent(delivery: Delivery, result: SendResult, duration_ms: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        # The delivery row before the attempt row, the order the claim takes them in: a worker
        # taking over then waits for this one instead of deadlocking with it.
        updated = _mine(delivery).update(
            status=DeliveryStatus.SENT,
            error_message=None,
            sent_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
        _attempt(delivery).update(
            outcome=AttemptOutcome.SENT, status_code=result.status_code, duration_ms=duration_ms
        )
        if updated:
            Execution.objects.filter(pk=delivery.execution_id, notified=False).update(notified=True)
    logger.info("delivery %s sent (%s, attempt %d)", delivery.pk, delivery.kind, delivery.attempts)


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with +-25% jitter; a longer Retry-After from the receiver wins."""
    base = settings.TORALE_DELIVERY_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    delay = min(base, settings.TORALE_DELIVERY_RETRY_MAX_SECONDS)
    delay *= random.uniform(0.75, 1.25)  # noqa: S311 (jitter, not security)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.TORALE_DELIVERY_RETRY_MAX_SECONDS))
    return delay


def _record_failure(delivery: Delivery, error: DeliveryError, duration_ms: int) -> None:
    now = timezone.now()
    retry = not error.permanent and delivery.attempts < delivery.attempt_limit
    delay = retry_delay(delivery.attempts, error.retry_after) if retry else 0.0
    message = error.message
    if not error.permanent and not retry:
        message = GAVE_UP.format(error=message, attempts=delivery.attempts)
    with transaction.atomic():
        changes = {"error_message": message, "lease_expires_at": None, "updated_at": now}
        if retry:
            changes |= {
                "status": DeliveryStatus.RETRYING,
                "next_attempt_at": now + timedelta(seconds=delay),
            }
        else:
            changes |= {"status": DeliveryStatus.FAILED}
        # The delivery row first, as in _record_sent (lock order shared with the claim).
        updated = _mine(delivery).update(**changes)
        _attempt(delivery).update(
            outcome=AttemptOutcome.RETRY if retry else AttemptOutcome.FAILED,
            status_code=error.status_code,
            error=error.message,
            duration_ms=duration_ms,
        )
    if not updated:
        return
    logger.info(
        "delivery %s attempt %d failed (%s)%s",
        delivery.pk,
        delivery.attempts,
        "permanent" if error.permanent else "transient",
        f"; retry in {delay:.0f}s" if retry else "",
    )
    if retry:
        from executions_app.tasks import deliver

        try:
            deliver.apply_async(args=[str(delivery.pk)], countdown=delay)
        except Exception:  # the reaper publishes due retries whose message was lost
            logger.exception("could not queue the retry of delivery %s", delivery.pk)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- Operators and users -------------------------------------------------------------------------


def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Send a failed delivery again, with a fresh allowance of attempts (same delivery id, so
    receivers still recognise a repeat); or one skipped by the daily limit, once the account
    is under it again. Raises Conflict otherwise."""
    now = timezone.now()
    with transaction.atomic():
        skipped = delivery.status == DeliveryStatus.SKIPPED
        if skipped and _remaining_today(owner_id=delivery.owner_id, now=now) < 1:
            limit = settings.TORALE_NOTIFICATIONS_PER_DAY
            raise Conflict(STILL_OVER_LIMIT.format(limit=limit))
        updated = Delivery.objects.filter(pk=delivery.pk, status__in=RETRYABLE).update(
            status=DeliveryStatus.PENDING,
            attempt_limit=F("attempts") + settings.TORALE_DELIVERY_MAX_ATTEMPTS,
            error_message=None,
            next_attempt_at=None,
            updated_at=now,
        )
        if not updated:
            raise Conflict(NOT_RETRYABLE)
        transaction.on_commit(lambda: publish_deliveries([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


# --- The reaper's part ---------------------------------------------------------------------------

WORKER_LOST = "The worker stopped while sending, {attempts} times; giving up"
BATCH = 500


def deliveries_reap(now: datetime | None = None) -> tuple[int, int]:
    """Fail deliveries whose worker died on their last attempt; publish again those that are
    due but have no message (lost, or their worker died). Returns (republished, failed)."""
    now = now or timezone.now()
    expired = Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
    failed = 0
    for delivery in Delivery.objects.filter(expired, attempts__gte=F("attempt_limit"))[:BATCH]:
        with transaction.atomic():
            done = Delivery.objects.filter(
                expired, pk=delivery.pk, attempts=delivery.attempts
            ).update(
                status=DeliveryStatus.FAILED,
                error_message=WORKER_LOST.format(attempts=delivery.attempts),
                lease_expires_at=None,
                updated_at=now,
            )
            if done:
                _attempt(delivery).update(outcome=AttemptOutcome.INTERRUPTED, error=INTERRUPTED)
        failed += done

    quiet_since = now - timedelta(seconds=settings.TORALE_RUN_REPUBLISH_SECONDS)
    orphaned = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, updated_at__lt=quiet_since)
        | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lt=quiet_since)
        | (expired & Q(attempts__lt=F("attempt_limit")))
    )
    ids = list(orphaned.values_list("pk", flat=True)[:BATCH])
    if ids:
        # updated_at marks the publication: each is re-sent at most once per interval.
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(updated_at=now)
        publish_deliveries(ids)
    return len(ids), failed
