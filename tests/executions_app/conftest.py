"""Fixtures of the runs and notifications tests: real local receivers (HTTP and SMTP) and the
operator settings that let them be targets."""

from __future__ import annotations

import pytest

from tests.support.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def allow_private(settings):
    """The operator setting for local development and tests: private targets allowed."""
    settings.TORALE_ALLOW_PRIVATE_WEBHOOKS = True
    return settings


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 answering 200 unless scripted otherwise."""
    with HttpReceiver("127.0.0.1") as server:
        yield server


@pytest.fixture
def smtp():
    with SmtpReceiver() as server:
        yield server


@pytest.fixture
def smtp_settings(settings, smtp):
    """Django's SMTP backend pointed at the local SMTP server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp.host
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Torale <alerts@torale.example>"
    return settings


@pytest.fixture
def fast_retries(settings):
    """Retries due almost at once (tests still make them due explicitly, never sleep)."""
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 0.01
    return settings
