"""Accounts: the user (UUID primary key) and the API keys that authenticate the API."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

API_KEY_PREFIX = "sk_"
API_KEY_RANDOM_LENGTH = 32
API_KEY_ALPHABET = string.ascii_letters + string.digits
# How many characters of the key (after "sk_") are kept to tell keys apart in lists.
API_KEY_DISPLAY_CHARS = 6
EMAIL_TAKEN = "An account with this email exists already."


class User(AbstractUser):
    """A Torale account. The API returns its id as `user_id`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A timezone preference, used as the default zone of new tasks.
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # Password resets and notifications go to this address: one account per address,
            # whatever its case (an account may have none).
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
                violation_error_message=EMAIL_TAKEN,
            ),
        ]


def generate_api_key() -> str:
    """A new secret key: sk_ + 32 characters of [A-Za-z0-9] (~190 bits)."""
    body = "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_RANDOM_LENGTH))
    return API_KEY_PREFIX + body


def hash_api_key(key: str) -> str:
    """SHA-256 hex digest: enough for a 190-bit random secret, and an O(1) indexed lookup."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_api_key(key: str) -> bool:
    body = key[len(API_KEY_PREFIX) :]
    return (
        key.startswith(API_KEY_PREFIX)
        and len(body) == API_KEY_RANDOM_LENGTH
        and all(ch in API_KEY_ALPHABET for ch in body)
    )


class ApiKey(models.Model):
    """A user's API key. Only its hash and a short display prefix are stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves the key list of one user (settings page, GET /auth/api-keys).
            models.Index(fields=["user", "-created_at"], name="apikey_user_created"),
        ]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
