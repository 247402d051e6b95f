"""Fixtures of the notification API tests: a real local webhook receiver and the operator
setting that lets a loopback address be a target."""

from __future__ import annotations

import pytest

from tests.support.receivers import HttpReceiver


@pytest.fixture
def allow_private(settings):
    """The operator setting for local development and tests: private targets allowed."""
    settings.TORALE_ALLOW_PRIVATE_WEBHOOKS = True
    return settings


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 answering 200 "ok" unless scripted otherwise."""
    with HttpReceiver("127.0.0.1") as server:
        yield server
