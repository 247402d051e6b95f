"""scripts/keep_running.py, which scripts/run puts around web, worker and beat: a process
killed with -9 comes back, SIGTERM stops it for good, a command that cannot start is given
up so that honcho stops the rest. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEEP_RUNNING = ROOT / "scripts" / "keep_running.py"

# A child that writes its pid to a file, then sleeps until told to stop.
SLEEPER = """
import pathlib, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(sys.argv[1], "a") as pids:
    print(__import__("os").getpid(), file=pids, flush=True)
while True:
    time.sleep(0.1)
"""


def pids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("timed out waiting")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def supervised(tmp_path):
    pid_file = tmp_path / "pids"
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(KEEP_RUNNING),
            "sleeper",
            "--",
            sys.executable,
            str(script),
            str(pid_file),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    yield proc, pid_file
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pid in pids_in(pid_file):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_child_killed_with_9_is_started_again(supervised):
    proc, pid_file = supervised
    first = wait_for(lambda: pids_in(pid_file))[0]

    os.kill(first, signal.SIGKILL)

    second = wait_for(lambda: pids_in(pid_file)[1:])[0]
    assert second != first and alive(second)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert "sleeper ended (killed by SIGKILL); starting it again in 2 s" in proc.stderr.read()


def test_sigterm_stops_the_child_and_the_supervisor_for_good(supervised):
    proc, pid_file = supervised
    child = wait_for(lambda: pids_in(pid_file))[0]

    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=10) == 0
    wait_for(lambda: not alive(child))
    time.sleep(0.5)
    assert pids_in(pid_file) == [child]  # nothing was started again


def test_a_command_that_keeps_failing_at_once_is_given_up():
    proc = subprocess.run(
        [
            sys.executable,
            str(KEEP_RUNNING),
            "broken",
            "--",
            sys.executable,
            "-c",
            "import sys; sys.exit(3)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KEEP_RUNNING_FIRST_WAIT": "0.05"},
    )

    assert proc.returncode == 3
    assert "broken ended (status 3) 5 times in a row; giving up" in proc.stderr


def test_a_command_that_ends_with_0_is_not_started_again():
    proc = subprocess.run(
        [sys.executable, str(KEEP_RUNNING), "done", "--", sys.executable, "-c", "pass"],
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert proc.returncode == 0
    assert proc.stderr == ""


def test_the_child_does_not_outlive_a_supervisor_killed_with_9(supervised):
    proc, pid_file = supervised
    child = wait_for(lambda: pids_in(pid_file))[0]

    proc.kill()
    proc.wait()

    wait_for(lambda: not alive(child))


def test_a_signal_to_the_whole_process_group_reaches_the_child_once(tmp_path):
    """honcho stops a process with killpg: the command must get one SIGTERM, from us."""
    log = tmp_path / "signals"
    script = tmp_path / "counter.py"
    script.write_text(
        "import signal, sys, time\n"
        f"log = open({str(log)!r}, 'a')\n"
        "def on_term(*_):\n"
        "    print('TERM', file=log, flush=True)\n"
        "    time.sleep(0.5)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "print('up', file=log, flush=True)\n"
        "while True: time.sleep(0.1)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(KEEP_RUNNING), "counter", "--", sys.executable, str(script)],
        start_new_session=True,
    )
    wait_for(lambda: log.exists() and "up" in log.read_text())

    os.killpg(proc.pid, signal.SIGTERM)

    assert proc.wait(timeout=10) == 0
    assert log.read_text().split() == ["up", "TERM"]
