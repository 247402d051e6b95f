"""Encryption at rest for secrets we must be able to read back: webhook signing secrets and
notification targets that carry tokens (Apprise URLs, webhook URLs with a key in them).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`). The key is TORALE_ENCRYPTION_KEY when
set (a Fernet key: 32 url-safe base64 bytes), otherwise derived from SECRET_KEY with HKDF, so a
new install needs no extra setting. Old keys stay readable while rotating: values encrypted
under TORALE_ENCRYPTION_KEY_FALLBACKS (or SECRET_KEY_FALLBACKS) still decrypt, and new values
are always written under the current key.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

HKDF_INFO = b"torale field encryption v1"


def _derived_key(secret_key: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(key)


def _fernet(key: str | bytes) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "TORALE_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


@cache
def _keyring(explicit: tuple[str, ...], secret_keys: tuple[str, ...]) -> MultiFernet:
    keys = [_fernet(k) for k in explicit] + [_fernet(_derived_key(s)) for s in secret_keys if s]
    if not keys:
        raise ImproperlyConfigured("Neither TORALE_ENCRYPTION_KEY nor SECRET_KEY is set")
    return MultiFernet(keys)


def keyring() -> MultiFernet:
    """The current key first, then the fallbacks (read from settings, cached per value)."""
    explicit = [getattr(settings, "TORALE_ENCRYPTION_KEY", "") or ""]
    explicit += list(getattr(settings, "TORALE_ENCRYPTION_KEY_FALLBACKS", []) or [])
    secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return _keyring(tuple(k for k in explicit if k), tuple(secret_keys))


def encrypt(plaintext: str) -> str:
    return keyring().encrypt(plaintext.encode("utf-8")).decode("ascii")


class UnreadableSecret(ValueError):
    """A stored value that no configured key opens: a key was changed or lost."""


def decrypt(token: str) -> str:
    """The plaintext; UnreadableSecret when no configured key opens it."""
    try:
        return keyring().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise UnreadableSecret(
            "An encrypted value cannot be read with the configured keys "
            "(was TORALE_ENCRYPTION_KEY or SECRET_KEY changed without a fallback?)"
        ) from None


class EncryptedTextField(models.TextField):
    """A text column holding Fernet tokens; Python sees the plaintext.

    "" is stored as "" (nothing to hide, and it keeps "not set" checks simple). Values cannot
    be searched or compared in SQL: keep anything you filter on in a separate column.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
