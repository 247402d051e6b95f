"""A setting from the environment that cannot be used stops manage.py (and so scripts/run,
which migrates first) with one line naming it, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "TORALE_RUN_LEASE_SECONDS",
            "60",
            "Configuration error: TORALE_RUN_LEASE_SECONDS must be at least 301, got 60",
        ),
        ("TORALE_MAX_BODY_BYTES", "lots", "Configuration error: TORALE_MAX_BODY_BYTES"),
    ],
)
def test_an_unusable_setting_is_named_in_one_line(tmp_path, setting, value, message):
    env = {**os.environ, "SECRET_KEY": "x", "TORALE_VAR_DIR": str(tmp_path), setting: value}

    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stderr.startswith(message)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
