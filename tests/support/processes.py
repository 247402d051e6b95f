"""Real Torale processes (Celery worker, beat) for integration tests, started against the
test database and the test Redis, and always stopped, whatever happens in the test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def process_env(**overrides: str) -> dict[str, str]:
    """The environment of a subprocess that shares this test run's database and Redis."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "integration-tests",
        "DEBUG": "false",
        "GEMINI_API_KEY": settings.GEMINI_API_KEY,
        "GEMINI_BASE_URL": settings.GEMINI_BASE_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        # A session of its own, so that stop() and kill() reach every child process too.
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9 of the process and all its children, as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if not self.alive():
                raise AssertionError(f"{self.name} exited:\n{self.output()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not log {text!r}:\n{self.output()[-3000:]}")


def start_worker(name: str, env: dict[str, str], log_dir: Path, concurrency: int = 1) -> Proc:
    proc = Proc(
        name,
        [
            CELERY,
            "-A",
            "torale.celery",
            "worker",
            "-l",
            "INFO",
            "-n",
            f"{name}@%h",
            "-c",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
        ],
        env,
        log_dir,
    )
    proc.wait_for("ready.")
    return proc


def start_beat(name: str, env: dict[str, str], log_dir: Path) -> Proc:
    proc = Proc(
        name,
        [
            CELERY,
            "-A",
            "torale.celery",
            "beat",
            "-l",
            "INFO",
            "--scheduler",
            "tasks_app.scheduler:TaskScheduler",
        ],
        env,
        log_dir,
    )
    proc.wait_for("beat: Starting...")
    return proc


def wait_until(predicate, timeout: float, interval: float = 0.5, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
