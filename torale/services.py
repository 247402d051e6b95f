"""Account services: API keys (create, revoke, authenticate) and users."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from torale.errors import NotFound
from torale.models import (
    API_KEY_DISPLAY_CHARS,
    API_KEY_PREFIX,
    ApiKey,
    User,
    generate_api_key,
    hash_api_key,
    looks_like_api_key,
)


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """Create a key for `user`; returns the row and the raw key, which is never stored."""
    raw = generate_api_key()
    key = ApiKey.objects.create(
        user=user,
        name=name,
        key_prefix=raw[: len(API_KEY_PREFIX) + API_KEY_DISPLAY_CHARS],
        key_hash=hash_api_key(raw),
    )
    return key, raw


def api_key_revoke(*, user: User, key_id: uuid.UUID | str) -> ApiKey:
    """Revoke one of the user's keys; raises NotFound for unknown, foreign or malformed ids."""
    try:
        key_id = uuid.UUID(str(key_id))
    except ValueError:
        raise NotFound("API key not found") from None
    with transaction.atomic():
        key = (
            ApiKey.objects.select_for_update()
            .filter(id=key_id, user=user, revoked_at__isnull=True)
            .first()
        )
        if key is None:
            raise NotFound("API key not found")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key matching `raw` (with its user loaded), or None.

    The lookup is by SHA-256 digest through a unique index; the raw key never reaches the
    database. last_used_at is written at most once per TORALE_API_KEY_TOUCH_SECONDS so that
    a busy key does not cost one write per request.
    """
    if not looks_like_api_key(raw):
        return None
    key = (
        ApiKey.objects.select_related("user")
        .filter(key_hash=hash_api_key(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.TORALE_API_KEY_TOUCH_SECONDS)
    if key.last_used_at is None or key.last_used_at < stale_before:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def user_get_or_create(*, username: str, email: str = "") -> tuple[User, bool]:
    """The user called `username`, created (without a usable password) if missing."""
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, created
