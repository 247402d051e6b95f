#!/usr/bin/env python3
"""Scheduler bench: dispatch lag, start-up time and memory of beat. Run by hand, never in CI.

    .venv/bin/python bench/scheduler.py --tasks 10000 --scheduler ours
    .venv/bin/python bench/scheduler.py --tasks 10000 --scheduler stock
    .venv/bin/python bench/scheduler.py --tasks 100000 --scheduler ours --py-spy /tmp/beat.svg

What it does:
1. Drops and recreates the database --database (torale_schedbench), migrates it and loads N
   active tasks in bulk, as task_schedule_sync would leave them: a PeriodicTask mirror
   `torale-task:<uuid>` each (kwargs {"task_id"}, crontab rows shared per expression) and
   `next_run_at`. Every schedule is hourly, `M * * * *`: (1 - burst fraction) of the tasks
   spread evenly over the 60 minutes, the rest all on one minute (the burst), chosen to start
   70-90 s after beat is spawned (the spawn waits up to 20 s for that). The loading runs in
   a Django subprocess (this file with --_load); this process itself imports no Django.
2. Flushes Redis DB --redis-db (9) and starts `celery -A torale.celery beat` with our
   TaskScheduler (ours) or django-celery-beat's DatabaseScheduler (stock), at DEBUG level. No
   worker runs: a thread here BRPOPs the "celery" list and stamps each message on arrival.
3. Measures, until --observe seconds after the spawn (default: 60 s after the burst):
   - start-up: spawn -> beat's first "beat: Waking up" line, which celery logs right after the
     first tick returned (for stock: after the full schedule load and its first pass; for
     ours: after the leader lock and the first dispatch query). Python + Django import time
     ("beat: Starting...") is shown separately in the details.
   - dispatch lag per slot (task, cron instant): time published - the cron instant. Ours sends
     chunks [[task_id, scheduled_for], ...] with "published_at" (beat's own clock, taken when
     the message is built); stock sends one message per task with only {"task_id"}, so its
     slot is the latest instant of that task's minute at or before arrival, and its publish
     time is the arrival time. Expected slots are the cron instants in (end of loading,
     stop - --drain]; a slot not dispatched by the stop is censored, and a percentile that
     falls on one is printed as ">N" (it was at least N seconds late). Duplicates are slots
     published more than once.
   - beat's peak RSS (VmHWM, also sampled VmRSS) and CPU seconds (utime + stime) from /proc.
4. Stops beat (SIGTERM, then SIGKILL) and everything it started, on success, failure and
   Ctrl-C, flushes the Redis DB and drops the database (unless --keep-db).

Targets (issue 3): p99 <= 1 s, start-up <= 30 s, RSS <= 1 GB at 100,000 tasks. Other work
on the machine makes the figures noisy: compare runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from processes import Processes, interrupt

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
SCHEDULERS = {
    "ours": "tasks_app.scheduler:TaskScheduler",
    "stock": "django_celery_beat.schedulers:DatabaseScheduler",
}
DISPATCH_TASK = "torale.executions.dispatch_slots"  # ours: a chunk of slots
RUN_SCHEDULED_TASK = "torale.executions.run_scheduled"  # stock: one slot per message
QUEUE = "celery"
LOAD_BATCH = 5000
# Where the spawn falls relative to the burst: early enough that beat is up, late enough
# that the run stays short; and never within 10 s before a minute boundary.
BURST_AFTER_SPAWN = (70.0, 90.0)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=10000, help="active tasks to load (10000)")
    p.add_argument("--scheduler", choices=sorted(SCHEDULERS), default="ours")
    p.add_argument(
        "--burst-fraction", type=float, default=0.1, help="share of tasks on one minute (0.1)"
    )
    p.add_argument(
        "--observe",
        type=float,
        default=None,
        help="seconds to observe after spawning beat (default: until 60 s after the burst)",
    )
    p.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="cron instants in the last DRAIN seconds are not expected (5)",
    )
    p.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    p.add_argument("--database", default="torale_schedbench", help="database to recreate")
    p.add_argument(
        "--pg",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL, without the database name",
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis, without the DB")
    p.add_argument("--redis-db", type=int, default=9, help="Redis DB to flush and use (9)")
    p.add_argument(
        "--py-spy",
        default="",
        metavar="OUT",
        help="profile beat with py-spy into OUT (.svg flamegraph, .json speedscope, "
        "anything else: collapsed stacks)",
    )
    p.add_argument("--py-spy-rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--json", default="", metavar="OUT", help="also write the results as JSON")
    p.add_argument("--_load", default="", help=argparse.SUPPRESS)  # the loader subprocess
    args = p.parse_args()
    if args.tasks < 1 or not 0 <= args.burst_fraction <= 1:
        p.error("--tasks must be >= 1 and --burst-fraction within [0, 1]")
    return args


# --- Loader (a Django subprocess) --------------------------------------------------------


def load_main(args: argparse.Namespace) -> int:
    """Migrate, load the tasks, pick the burst minute, and write the plan to args._load."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torale.settings")
    import uuid

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from tasks_app.cron import next_fire_time
    from tasks_app.models import Task, TaskState
    from tasks_app.scheduling import RUN_SCHEDULED_TASK as RUN_TASK
    from tasks_app.scheduling import periodic_task_name

    def log(msg: str) -> None:
        print(f"[bench:load] {msg}", file=sys.stderr, flush=True)

    started = time.time()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.time() - started:.1f} s")
    owner = get_user_model().objects.create_user(
        username="schedbench", email="schedbench@example.com"
    )
    crontabs = {
        m: CrontabSchedule.objects.create(
            minute=str(m),
            hour="*",
            day_of_month="*",
            month_of_year="*",
            day_of_week="*",
            timezone="UTC",
        )
        for m in range(60)
    }

    def expression(minute: int) -> str:
        return f"{minute} * * * *"

    t_start = datetime.now(UTC)
    next_at = {m: next_fire_time(expression(m), "UTC", t_start) for m in range(60)}
    plan_tasks: dict[str, int] = {}

    def insert(minutes: list[int]) -> None:
        for start in range(0, len(minutes), LOAD_BATCH):
            batch = minutes[start : start + LOAD_BATCH]
            ids = [uuid.uuid4() for _ in batch]
            periodic = [
                PeriodicTask(
                    name=periodic_task_name(task_id),
                    task=RUN_TASK,
                    crontab_id=crontabs[m].pk,
                    kwargs=json.dumps({"task_id": str(task_id)}),
                    enabled=True,
                    description=f"bench task {task_id}",
                    # What the stock scheduler counts from (else date_changed, the same).
                    last_run_at=t_start,
                )
                for task_id, m in zip(ids, batch, strict=True)
            ]
            with transaction.atomic():
                PeriodicTask.objects.bulk_create(periodic)
                Task.objects.bulk_create(
                    [
                        Task(
                            id=task_id,
                            owner=owner,
                            name=f"bench task {task_id}",
                            search_query="bench search query",
                            condition_description="bench condition description",
                            schedule=expression(m),
                            timezone="UTC",
                            state=TaskState.ACTIVE,
                            next_run_at=next_at[m],
                            periodic_task_id=pt.pk,
                            created_at=t_start,
                            updated_at=t_start,
                        )
                        for task_id, m, pt in zip(ids, batch, periodic, strict=True)
                    ]
                )
            plan_tasks.update((str(task_id), m) for task_id, m in zip(ids, batch, strict=True))

    n_burst = round(args.tasks * args.burst_fraction)
    n_spread = args.tasks - n_burst
    t0 = time.time()
    insert([i % 60 for i in range(n_spread)])
    spread_seconds = time.time() - t0
    log(f"loaded {n_spread} spread tasks in {spread_seconds:.1f} s")

    # Pick the burst so that it starts 70-90 s after the (estimated) spawn of beat.
    per_task = spread_seconds / n_spread if n_spread else 0.001
    earliest = time.time() + n_burst * per_task * 1.3 + 5.0  # + ANALYZE, refresh
    burst = math.ceil((earliest + BURST_AFTER_SPAWN[0]) / 60) * 60
    spawn_at = max(earliest, burst - BURST_AFTER_SPAWN[1])
    burst_minute = int(burst // 60) % 60
    t1 = time.time()
    insert([burst_minute] * n_burst)
    log(f"loaded {n_burst} burst tasks on minute {burst_minute} in {time.time() - t1:.1f} s")
    with connection.cursor() as cursor:  # as autovacuum would, before any real beat ran
        cursor.execute(f"ANALYZE {Task._meta.db_table}")
        cursor.execute(f"ANALYZE {PeriodicTask._meta.db_table}")

    load_seconds = time.time() - started
    # Cron instants that passed while loading are not part of the bench: move those tasks
    # past them, as if they had just run (only the expressions concerned are touched).
    time.sleep(max(0.0, spawn_at - 0.3 - time.time()))
    t_ref = datetime.now(UTC)
    for m in range(60):
        fresh = next_fire_time(expression(m), "UTC", t_ref)
        if fresh != next_at[m]:
            Task.objects.filter(schedule=expression(m)).update(next_run_at=fresh)
            PeriodicTask.objects.filter(crontab_id=crontabs[m].pk).update(last_run_at=t_ref)
    plan = {
        "t_ref": t_ref.timestamp(),
        "spawn_at": spawn_at,
        "burst": burst,
        "burst_minute": burst_minute,
        "n_spread": n_spread,
        "n_burst": n_burst,
        "load_seconds": load_seconds,
        "tasks": plan_tasks,
    }
    Path(args._load).write_text(json.dumps(plan))
    return 0


# --- Processes ------------------------------------------------------------------------------


def run(name: str, cmd: list[str], env: dict[str, str], procs: Processes, timeout: float) -> None:
    """Run a setup step to completion as a stoppable child; SystemExit when it fails."""
    proc = procs.start(name, cmd, env)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{name} did not finish in {timeout:.0f} s") from None
    if code != 0:
        raise SystemExit(f"{name} exited with {code}")


# --- Services -------------------------------------------------------------------------------


def recreate_database(args: argparse.Namespace, *, create: bool = True) -> None:
    import psycopg  # the project's driver

    with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{args.database}"')


def redis_client(args: argparse.Namespace):
    import redis  # the project's client

    return redis.Redis.from_url(f"{args.redis.rstrip('/')}/{args.redis_db}", socket_timeout=10)


class Consumer(threading.Thread):
    """BRPOPs the Celery queue and keeps (arrival time, raw message); decoding waits until
    the run is over so that this process takes as little CPU from beat as possible."""

    def __init__(self, args: argparse.Namespace):
        super().__init__(daemon=True, name="consumer")
        self.client = redis_client(args)
        self.received: list[tuple[float, bytes]] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                item = self.client.brpop([QUEUE], timeout=1)
                if item is not None:
                    self.received.append((time.time(), item[1]))
            # Drain what beat published before it stopped (bounded: the list only shrinks).
            while (raw := self.client.rpop(QUEUE)) is not None:
                self.received.append((time.time(), raw))
        except BaseException as exc:  # reported by the main thread
            self.error = exc


class BeatLog(threading.Thread):
    """Copies beat's output to a file and notes when the milestones appear."""

    def __init__(self, proc: subprocess.Popen, path: Path):
        super().__init__(daemon=True, name="beat-log")
        self.proc = proc
        self.path = path
        self.starting_at: float | None = None
        self.first_wake_at: float | None = None
        self.errors = 0

    def run(self) -> None:
        with open(self.path, "wb") as out:
            for line in self.proc.stdout:
                now = time.time()
                out.write(line)
                if self.first_wake_at is None and b"beat: Waking up" in line:
                    self.first_wake_at = now
                elif self.starting_at is None and b"beat: Starting..." in line:
                    self.starting_at = now
                if b"ERROR" in line or b"Traceback" in line:
                    self.errors += 1


def proc_stats(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (MB) and CPU seconds of a live process; {} once it is gone."""
    stats: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                stats[key] = int(value.split()[0]) / 1024
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        stats["cpu"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return {}
    return stats


# --- Analysis -------------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, dict]:
    """Task name and kwargs of a kombu Redis message (Celery protocol 2, JSON)."""
    envelope = json.loads(raw)
    body = envelope["body"]
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    _args, kwargs, _embed = json.loads(body)
    return envelope.get("headers", {}).get("task", ""), kwargs


def percentile(values: list[float], p: float) -> float:
    """Nearest rank; math.inf stands for a slot not dispatched in time."""
    if not values:
        return math.nan
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


def analyse(plan: dict, received: list[tuple[float, bytes]], t_stop: float, drain: float) -> dict:
    minute_of = plan["tasks"]
    by_minute: dict[int, int] = {}
    for m in minute_of.values():
        by_minute[m] = by_minute.get(m, 0) + 1
    # Expected: every cron instant in (t_ref, t_stop - drain].
    last_expected = t_stop - drain
    instants = range(int(plan["t_ref"] // 60 + 1) * 60, int(last_expected) + 1, 60)
    expected = {i: by_minute.get(int(i // 60) % 60, 0) for i in instants}

    published: dict[tuple[str, float], float] = {}
    duplicates = outside = late = messages = other = 0
    consumer_delay = 0.0
    for arrival, raw in received:
        task, kwargs = decode(raw)
        if task == DISPATCH_TASK:
            sent = kwargs.get("published_at") or arrival
            consumer_delay = max(consumer_delay, arrival - sent)
            slots = [
                (tid, datetime.fromisoformat(when).timestamp()) for tid, when in kwargs["slots"]
            ]
        elif task == RUN_SCHEDULED_TASK:
            sent = arrival
            tid = kwargs["task_id"]
            offset = minute_of[tid] * 60
            slots = [(tid, (sent - offset) // 3600 * 3600 + offset)]
        else:
            other += 1  # the reaper's own beat entry
            continue
        messages += 1
        if sent > t_stop:
            late += len(slots)
            continue
        for slot in slots:
            if slot[1] not in expected:
                outside += 1
            elif slot in published:
                duplicates += 1
            else:
                published[slot] = sent

    def lag_stats(only: float | None) -> dict:
        lags: list[float] = []
        censored: list[float] = []
        n_expected = 0
        found: dict[float, int] = {}
        for (_, instant), sent in published.items():
            if only is None or instant == only:
                lags.append(sent - instant)
                found[instant] = found.get(instant, 0) + 1
        for instant, count in expected.items():
            if only is None or instant == only:
                n_expected += count
                censored += [t_stop - instant] * (count - found.get(instant, 0))
        values = sorted(lags) + [math.inf] * len(censored)
        bound = min(censored) if censored else math.nan
        return {
            "observed": len(lags),
            "expected": n_expected,
            "p50": percentile(values, 50),
            "p99": percentile(values, 99),
            "max": values[-1] if values else math.nan,
            "first": min(lags) if lags else math.nan,
            "last_observed": max(lags) if lags else math.nan,
            "censored_at_least": bound,
        }

    per_instant = {}
    for instant, count in expected.items():
        stats = lag_stats(instant)
        first = fmt_lag(stats["first"], math.nan)
        worst = fmt_lag(stats["max"], stats["censored_at_least"])
        label = datetime.fromtimestamp(instant, UTC).strftime("%H:%M")
        per_instant[label] = f"{stats['observed']}/{count} slots, lag {first}..{worst} s"
    burst = float(plan["burst"])
    return {
        "all": lag_stats(None),
        "burst": lag_stats(burst) if burst in expected else None,
        "duplicates": duplicates,
        "outside_window": outside,
        "after_stop": late,
        "messages": messages,
        "other_messages": other,
        "consumer_delay_max": consumer_delay,
        "instants": per_instant,
    }


def fmt_lag(value: float, bound: float) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return f">{bound:.0f}"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def print_table(results: dict) -> None:
    r = results

    def lags(stats: dict | None) -> tuple[str, str]:
        if not stats:
            return "-", "-"
        bound = stats["censored_at_least"]
        trio = "/".join(fmt_lag(stats[k], bound) for k in ("p50", "p99", "max"))
        return f"{stats['observed']}/{stats['expected']}", trio

    slots_all, lag_all = lags(r["analysis"]["all"])
    slots_burst, lag_burst = lags(r["analysis"]["burst"])
    startup = f"{r['startup_s']:.2f}" if r["startup_s"] is not None else "-"
    head = (
        f"{'scheduler':<10}{'N':>8}{'start-up s':>12}{'RSS MB':>8}{'CPU s':>7}"
        f"{'slots obs/exp':>16}{'dup':>5}{'lag s p50/p99/max':>22}"
        f"{'burst obs/exp':>16}{'burst lag s p50/p99/max':>26}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    print(
        f"{r['scheduler']:<10}{r['tasks']:>8}{startup:>12}{r['rss_peak_mb']:>8.0f}"
        f"{r['cpu_s']:>7.1f}{slots_all:>16}{r['analysis']['duplicates']:>5}{lag_all:>22}"
        f"{slots_burst:>16}{lag_burst:>26}"
    )
    print(
        "targets (issue 3, at 100,000 tasks): lag p99 <= 1 s, start-up <= 30 s, RSS <= 1024 MB; "
        '">N": not dispatched by the stop, at least N s late'
    )


# --- Main -------------------------------------------------------------------------------------


def bench_env(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="torale.settings",
        DATABASE_URL=f"{args.pg.rstrip('/')}/{args.database}",
        REDIS_URL=f"{args.redis.rstrip('/')}/{args.redis_db}",
        SECRET_KEY="bench",
        DEBUG="false",
        TORALE_VAR_DIR=str(workdir),
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def main() -> int:
    args = parse_args()
    if args._load:
        return load_main(args)

    workdir = Path(tempfile.mkdtemp(prefix="torale-schedbench-"))
    env = bench_env(args, workdir)
    # SIGTERM gets the same orderly exit as Ctrl-C; SIGINT is set explicitly because a shell
    # starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    procs = Processes()
    consumer: Consumer | None = None
    try:
        print(f"[bench] recreating {args.database}, loading {args.tasks} tasks", file=sys.stderr)
        recreate_database(args)
        plan_path = workdir / "plan.json"
        loader_cmd = [PYTHON, str(Path(__file__).resolve()), "--_load", str(plan_path)]
        loader_cmd += ["--tasks", str(args.tasks), "--burst-fraction", str(args.burst_fraction)]
        run("loader", loader_cmd, env, procs, timeout=3600)
        plan = json.loads(plan_path.read_text())
        time.sleep(max(0.0, plan["spawn_at"] - time.time()))

        redis_client(args).flushdb()
        consumer = Consumer(args)
        consumer.start()
        beat_cmd = [str(VENV_BIN / "celery"), "-A", "torale.celery", "beat"]
        beat_cmd += ["--scheduler", SCHEDULERS[args.scheduler], "-l", "DEBUG"]
        beat_cmd += ["-s", str(workdir / "celerybeat-schedule")]
        t_spawn = time.time()
        beat = procs.start("beat", beat_cmd, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        beat_log = BeatLog(beat, workdir / "beat.log")
        beat_log.start()
        if args.py_spy:
            out = Path(args.py_spy).resolve()
            fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(out.suffix, "raw")
            spy = [str(VENV_BIN / "py-spy"), "record", "--pid", str(beat.pid), "--output"]
            spy += [str(out), "--format", fmt, "--rate", str(args.py_spy_rate), "--nonblocking"]
            procs.start("py-spy", spy, env, stdout=subprocess.DEVNULL)
        burst = plan["burst"]
        t_stop = t_spawn + args.observe if args.observe is not None else burst + 60
        print(
            f"[bench] beat ({args.scheduler}) spawned; burst of "
            f"{plan['n_burst'] + plan['n_spread'] // 60} slots at "
            f"{datetime.fromtimestamp(burst, UTC):%H:%M:%S} UTC (+{burst - t_spawn:.0f} s); "
            f"observing for {t_stop - t_spawn:.0f} s; log {beat_log.path}",
            file=sys.stderr,
        )

        rss_peak = 0.0
        last: dict[str, float] = {}
        startup_cpu = None
        while time.time() < t_stop:  # bounded by t_stop
            if beat.poll() is not None:
                raise SystemExit(f"beat exited with {beat.returncode}; see {beat_log.path}")
            stats = proc_stats(beat.pid)
            if stats:
                last = stats
                rss_peak = max(rss_peak, stats["VmRSS"])
                if startup_cpu is None and beat_log.first_wake_at is not None:
                    startup_cpu = stats["cpu"]
            time.sleep(min(0.25, max(0.0, t_stop - time.time())))
        last = proc_stats(beat.pid) or last
        procs.stop("beat")
        procs.stop("py-spy", sig=signal.SIGINT, timeout=30)  # writes its profile on exit
        consumer.stopping.set()
        consumer.join(timeout=60)
        if consumer.error:
            raise SystemExit(f"the Redis consumer failed: {consumer.error!r}")

        analysis = analyse(plan, consumer.received, t_stop, args.drain)
        wake = beat_log.first_wake_at
        results = {
            "scheduler": args.scheduler,
            "tasks": args.tasks,
            "startup_s": wake - t_spawn if wake else None,
            "import_s": beat_log.starting_at - t_spawn if beat_log.starting_at else None,
            "rss_peak_mb": max(rss_peak, last.get("VmHWM", 0.0)),
            "rss_end_mb": last.get("VmRSS", 0.0),
            "cpu_s": last.get("cpu", 0.0),
            "startup_cpu_s": startup_cpu,
            "load_s": plan["load_seconds"],
            "burst_after_spawn_s": burst - t_spawn,
            "observed_s": t_stop - t_spawn,
            "log_errors": beat_log.errors,
            "analysis": analysis,
        }
        a = analysis
        print(
            f"[bench] loaded in {plan['load_seconds']:.0f} s; beat imported in "
            f"{results['import_s'] or math.nan:.2f} s; per cron instant (UTC) "
            f"{a['instants']}; {a['messages']} dispatch messages; outside the window "
            f"{a['outside_window']}; after the stop {a['after_stop']}; "
            f"consumer delay max {a['consumer_delay_max'] * 1000:.0f} ms; "
            f"error lines in the log {beat_log.errors}",
            file=sys.stderr,
        )
        if a["burst"] and a["burst"]["observed"]:
            b = a["burst"]
            spread = b["last_observed"] - b["first"]
            rate = f"{b['observed'] / spread:.0f} slots/s" if spread > 0 else "one go"
            print(
                f"[bench] burst: first slot published {b['first']:.2f} s after the instant, "
                f"last observed {b['last_observed']:.2f} s ({b['observed']} slots, {rate})",
                file=sys.stderr,
            )
        print_table(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        return 0
    except KeyboardInterrupt:
        print("\n[bench] interrupted; stopping", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut cleanup
        procs.stop_all()
        if consumer is not None:
            consumer.stopping.set()
            consumer.join(timeout=10)
        with contextlib.suppress(Exception):
            redis_client(args).flushdb()
        if not args.keep_db:
            with contextlib.suppress(Exception):
                recreate_database(args, create=False)


if __name__ == "__main__":
    sys.exit(main())
