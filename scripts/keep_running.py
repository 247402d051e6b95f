#!/usr/bin/env python3
"""keep_running.py NAME -- COMMAND [ARGS...]

Runs COMMAND and starts it again when it dies on its own (a crash, an out-of-memory kill,
`kill -9`), so that on a laptop one lost process does not take the whole of `scripts/run`
down with it (honcho stops every process when one ends). SIGTERM or SIGINT stop it for good:
the command gets SIGTERM (a warm shutdown for Celery, a graceful one for gunicorn) and this
exits with its status.

A command that ends with status 0 was asked to stop (a Celery remote shutdown, say) and is
not started again. One that keeps failing at once (a configuration error, a database that is
not there) is given up after GIVE_UP_AFTER quick failures in a row, and this exits with its
status: then honcho stops the rest, as it would without this wrapper.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
GIVE_UP_AFTER = 5  # quick failures in a row
QUICK_SECONDS = 10.0  # a run shorter than this counts as a quick failure
LONGEST_WAIT = 30.0
# The wait after a failure that followed a long run; doubled on each quick failure after.
FIRST_WAIT = float(os.environ.get("KEEP_RUNNING_FIRST_WAIT", "1"))


def _load_libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


# Found before any fork: the child runs _die_with_parent between fork and exec, where only
# the simplest calls are safe (find_library itself starts processes).
LIBC = _load_libc() if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, on Linux: SIGTERM when this supervisor dies, even by SIGKILL, so that
    the command (outside our process group) is never left running on its own."""
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def describe(status: int) -> str:
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"status {status}"


def say(name: str, message: str) -> None:
    print(f"[keep_running] {name} {message}", file=sys.stderr, flush=True)


def supervise(name: str, command: list[str]) -> int:
    stop = threading.Event()
    child: subprocess.Popen | None = None

    def on_stop(signum, _frame) -> None:
        stop.set()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)

    quick_failures = 0
    wait = FIRST_WAIT
    while True:
        started = time.monotonic()
        # Its own process group: a signal to ours (honcho signals the whole group) reaches the
        # command once, from here, and not its own children (Celery's pool) behind its back.
        child = subprocess.Popen(command, process_group=0, preexec_fn=_die_with_parent)
        if stop.is_set():  # asked to stop while it was being started
            child.send_signal(signal.SIGTERM)
        status = child.wait()
        if stop.is_set() or status == 0:
            return status if status >= 0 else 128 - status
        quick = time.monotonic() - started < QUICK_SECONDS
        quick_failures = quick_failures + 1 if quick else 1
        if quick_failures >= GIVE_UP_AFTER:
            say(name, f"ended ({describe(status)}) {quick_failures} times in a row; giving up")
            return status if status >= 0 else 128 - status
        wait = min(wait * 2, LONGEST_WAIT) if quick else FIRST_WAIT
        say(name, f"ended ({describe(status)}); starting it again in {wait:g} s")
        if stop.wait(wait):
            return 0


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    return supervise(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
