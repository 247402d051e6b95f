"""Child processes of the by-hand benches (api.py, scheduler.py): each in its own session, so
that a group can be stopped whole and Ctrl-C in the terminal reaches only the bench, which then
stops them in order."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class Processes:
    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, start_new_session=True, **kw)
        self.procs.append((name, proc))
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        for proc_name, proc in self.procs:
            if proc_name == name:
                _stop(proc_name, proc, sig, timeout)

    def stop_all(self) -> None:
        for name, proc in reversed(self.procs):
            _stop(name, proc, signal.SIGTERM, 15)
        self.procs.clear()


def _stop(name: str, proc: subprocess.Popen, sig: int, timeout: float) -> None:
    if proc.poll() is None:
        _signal_group(proc, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"[bench] {name} did not stop in {timeout:.0f} s; killing it", file=sys.stderr)
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=5)
    _signal_group(proc, signal.SIGKILL)  # anything left in its group


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def interrupt(signum, frame):
    raise KeyboardInterrupt
