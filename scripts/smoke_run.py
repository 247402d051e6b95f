"""Smoke run of the whole product (see scripts/smoke).

Starts a Gemini stand-in (unless GEMINI_API_KEY is set), then web (gunicorn), a Celery
worker and beat on PostgreSQL + Redis; creates the reference's example tasks over HTTP with
a `* * * * *` schedule, lets the scheduler run them for two minutes, and checks what a user
would look at: each run's answer, reasoning and sources, `once` completing the task, each
task's `last_execution`, and the notifications of met conditions: an email received by a local
SMTP server and a signed webhook verified with the Standard Webhooks library, once per run and
channel. Prints every check and exits non-zero if one fails.

Settings: SMOKE_DATABASE_URL (recreated!), SMOKE_REDIS_URL (flushed!), SMOKE_WEB_PORT,
SMOKE_STANDIN_PORT.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from tests.support.processes import Proc, start_beat, start_worker, wait_until
from tests.support.receivers import HttpReceiver, SmtpReceiver

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get(
    "SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/torale_smoke"
)
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/11")
WEB_PORT = int(os.environ.get("SMOKE_WEB_PORT", "8910"))
STANDIN_PORT = int(os.environ.get("SMOKE_STANDIN_PORT", "8911"))
BASE = f"http://127.0.0.1:{WEB_PORT}"

TASKS = {
    "iphone": {
        "name": "iPhone Release Monitor",
        "search_query": "When is the next iPhone being released?",
        "condition_description": "Apple has officially announced a specific release date",
        "notify_behavior": "once",
    },
    "ps5": {
        "name": "PS5 Pro Stock Monitor",
        "search_query": "PS5 Pro in stock Best Buy",
        "condition_description": "PS5 Pro is available for purchase at Best Buy",
        "notify_behavior": "once",
    },
    "london": {
        "name": "London Apartment Monitor",
        "search_query": "apartments for sale london e2 0fq",
        "condition_description": "Price below 450000 GBP",
        "notify_behavior": "always",
    },
}

failures: list[str] = []
passes: list[str] = []


def say(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def check(condition: bool, message: str) -> None:
    print(f"{'ok  ' if condition else 'FAIL'} {message}", flush=True)
    (passes if condition else failures).append(message)


def recreate_database() -> None:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = DATABASE_URL.replace(parts.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def http(method: str, path: str, key: str, body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        BASE + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def scheduled_runs(key: str, task_id: str) -> list[dict]:
    status, page = http("GET", f"/api/v1/tasks/{task_id}/executions?limit=100", key)
    assert status == 200, page
    return [run for run in page["executions"] if run["trigger"] == "scheduled"]


def main() -> int:
    real_gemini = bool(os.environ.get("GEMINI_API_KEY")) and not os.environ.get("GEMINI_BASE_URL")
    log_dir = Path(tempfile.mkdtemp(prefix="torale-smoke-"))
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "smoke-test-secret"),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TORALE_VAR_DIR": str(log_dir / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    if not real_gemini:
        env["GEMINI_API_KEY"] = "smoke-standin-key"
        env["GEMINI_BASE_URL"] = f"http://127.0.0.1:{STANDIN_PORT}"
    provider = "Google Gemini" if real_gemini else f"local stand-in {env['GEMINI_BASE_URL']}"
    say(f"provider: {provider}")
    say(f"logs in {log_dir}")

    recreate_database()
    flush_redis()
    manage(env, "migrate", "--noinput")
    key = (
        manage(env, "createapikey", "smoke", "--email", "smoke@example.com")
        .strip()
        .splitlines()[-1]
    )

    procs: list[Proc] = []
    smtp = SmtpReceiver().__enter__()
    hooks = HttpReceiver("127.0.0.1").__enter__()
    env |= {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        # The webhook receiver is on this machine: allow loopback targets for this run only.
        "TORALE_ALLOW_PRIVATE_WEBHOOKS": "true",
    }
    try:
        if not real_gemini:
            standin = [str(VENV_BIN / "python"), "-m", "tests.support.gemini_standin"]
            procs.append(Proc("gemini", [*standin, "--port", str(STANDIN_PORT)], env, log_dir))
        gunicorn = [str(VENV_BIN / "gunicorn"), "torale.wsgi", "--bind", f"127.0.0.1:{WEB_PORT}"]
        procs.append(
            Proc("web", [*gunicorn, "--workers", "2", "--no-control-socket"], env, log_dir)
        )
        procs.append(start_worker("worker", env, log_dir, concurrency=3))
        procs.append(start_beat("beat", env, log_dir))
        wait_until(
            lambda: _up() and http("GET", "/api/v1/tasks", key)[0] == 200,
            60,
            message="the web server",
        )

        status, hook = http("PUT", "/api/v1/webhooks/config", key, {"url": hooks.url("/hook")})
        check(
            status == 200 and str(hook.get("secret", "")).startswith("whsec_"),
            f"webhook configured, signing secret shown once: {status}",
        )
        check(
            http("GET", "/api/v1/webhooks/config", key)[1].get("secret") is None,
            "webhook config no longer shows the secret",
        )
        created = {}
        for label, fields in TASKS.items():
            status, task = http("POST", "/api/v1/tasks", key, {**fields, "schedule": "* * * * *"})
            check(status == 201, f"create {fields['name']}: {status}")
            created[label] = task
        first_slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        say(f"tasks created; the scheduler runs them at {first_slot:%H:%M}Z and every minute")

        def finished_runs(count: int):
            runs = {label: scheduled_runs(key, t["id"]) for label, t in created.items()}
            done = all(
                sum(r["status"] in ("success", "failed") for r in runs[label]) >= count
                for label in ("ps5", "london")
            ) and any(r["status"] in ("success", "failed") for r in runs["iphone"])
            return runs if done else None

        # Every 5 s: three list calls stay well inside the key's 100 requests a minute.
        runs = wait_until(lambda: finished_runs(2), 200, interval=5, message="two minutes of runs")
        dead = [proc.name for proc in procs if not proc.alive()]
        if dead:
            check(False, f"processes died: {dead}")

        for label, task in created.items():
            name = TASKS[label]["name"]
            for run in runs[label]:
                check(
                    run["status"] == "success",
                    f"{name}: run at {run['scheduled_for']} "
                    f"ended {run['status']} {run['error_message'] or ''}".rstrip(),
                )
                result = run["result"] or {}
                check(
                    bool(result.get("answer")) and bool(result.get("reasoning")),
                    f"{name}: run has an answer and reasoning",
                )
                sources = run["grounding_sources"]
                check(
                    bool(sources) and all(s.get("uri") and "title" in s for s in sources),
                    f"{name}: run cites {len(sources)} sources",
                )
            status, fresh = http("GET", f"/api/v1/tasks/{task['id']}", key)
            newest = max(runs[label], key=lambda r: r["created_at"])
            check(
                fresh["last_execution_id"] == newest["id"]
                and fresh["last_execution"]["status"] == newest["status"],
                f"{name}: last_execution is its newest run ({newest['status']})",
            )
            print(
                f"     {name}: state={fresh['state']} answer="
                f"{(newest['result'] or {}).get('answer', '')[:90]!r}"
            )

        iphone = http("GET", f"/api/v1/tasks/{created['iphone']['id']}", key)[1]
        check(iphone["state"] == "completed", "iPhone (once, met): task completed")
        check(len(runs["iphone"]) == 1, "iPhone: no run after it completed")
        check(iphone["last_known_state"] is not None, "iPhone: last_known_state recorded")
        if not real_gemini:
            check(
                all(r["condition_met"] is False for r in runs["ps5"]),
                "PS5 Pro (not in stock): condition not met",
            )
            check(
                all(r["condition_met"] is True for r in runs["london"]),
                "London (always, met): condition met on every run",
            )
        ps5 = http("GET", f"/api/v1/tasks/{created['ps5']['id']}", key)[1]
        london = http("GET", f"/api/v1/tasks/{created['london']['id']}", key)[1]
        check(
            ps5["state"] == "active" and london["state"] == "active", "PS5 and London stay active"
        )
        # No new runs from here on, so the notifications can be counted against the runs.
        next(p for p in procs if p.name == "beat").stop()

        def settled_runs():
            fresh = {label: scheduled_runs(key, t["id"]) for label, t in created.items()}
            busy = any(
                r["status"] in ("pending", "running", "retrying") for v in fresh.values() for r in v
            )
            return None if busy else fresh

        runs = wait_until(settled_runs, 120, interval=3, message="runs in flight to finish")
        check_notifications(key, created, runs, smtp, hooks, hook.get("secret", ""))
    except Exception as exc:  # report, then stop everything
        check(False, f"smoke run aborted: {exc!r}")
    finally:
        for proc in procs:
            proc.stop()
        smtp.__exit__(None, None, None)
        hooks.__exit__(None, None, None)

    if failures:
        say(f"logs in {log_dir}")
    print(f"smoke: {len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


def check_notifications(key, created, runs, smtp, hooks, secret: str) -> None:
    """Every met run was notified once by email and once by signed webhook; no other run."""
    met_runs = [r for label in created for r in runs[label] if r["condition_met"]]

    def all_sent():
        status, page = http("GET", "/api/v1/notifications/sends?limit=200", key)
        sends = page["sends"] if status == 200 else []
        done = len(sends) >= 2 * len(met_runs) and all(
            s["status"] in ("sent", "failed", "skipped") for s in sends
        )
        return sends if done else None

    sends = wait_until(all_sent, 60, interval=2, message="notifications sent")
    check(
        all(s["status"] == "sent" and s["attempts"] == 1 for s in sends),
        f"{len(sends)} deliveries for {len(met_runs)} met runs, all sent on the first attempt",
    )
    check(len(smtp.messages) == len(met_runs), f"SMTP server received {len(smtp.messages)} emails")
    verifier = Webhook(secret)
    ids = set()
    for received in hooks.requests:
        event = verifier.verify(received.body, received.headers)
        ids.add(received.headers["webhook-id"])
        check(
            event["type"] == "task.condition_met" and event["id"] == received.headers["webhook-id"],
            f"webhook for {event['data']['task']['name']} verified (Standard Webhooks)",
        )
    check(
        len(ids) == len(hooks.requests) == len(met_runs),
        f"{len(hooks.requests)} webhooks for {len(met_runs)} met runs, none repeated",
    )
    status, page = http("GET", "/api/v1/notifications?limit=100", key)
    check(
        status == 200 and page["total"] == len(met_runs),
        f"GET /notifications lists the {len(met_runs)} met runs",
    )
    status, run = http(
        "GET", f"/api/v1/tasks/{met_runs[0]['task_id']}/executions/{met_runs[0]['id']}", key
    )
    check(run.get("notified") is True, "a notified run reads notified: true")


def _up() -> bool:
    try:
        urllib.request.urlopen(BASE + "/api/schema/", timeout=2).close()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
