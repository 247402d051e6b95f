"""Importing the SDK needs no Django settings and loads no Django: the Django project lives in
the same `torale` package, and SDK users have neither settings nor a database."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import sys

    import torale
    import torale.exceptions
    from torale import AsyncToraleClient, ToraleClient
    from torale.exceptions import NotFoundError, ValidationError

    assert torale.ToraleClient is ToraleClient
    client = ToraleClient(api_key="sk_test", base_url="http://127.0.0.1:9")
    client.close()

    django_modules = [m for m in sys.modules if m == "django" or m.startswith("django.")]
    assert not django_modules, django_modules
    assert "celery" not in sys.modules

    import django.conf

    assert not django.conf.settings.configured, "django settings were configured"
    print("ok")
    """
)


def run_probe(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )


def test_importing_the_sdk_configures_no_django():
    result = run_probe(PROBE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_importing_torale_alone_loads_no_http_client():
    # Django imports `torale.*` for the project itself; the SDK is loaded only when asked for.
    result = run_probe("import sys, torale; assert 'httpx' not in sys.modules; print('ok')")

    assert result.returncode == 0, result.stderr


def test_an_unknown_attribute_is_still_an_attribute_error():
    result = run_probe(
        "import torale\ntry:\n    torale.Nope\nexcept AttributeError:\n    print('ok')"
    )

    assert result.stdout.strip() == "ok", result.stderr
