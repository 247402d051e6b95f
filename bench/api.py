#!/usr/bin/env python3
"""Load bench of the Tasks API under gunicorn, PostgreSQL and Redis. Run by hand, never in CI.

    .venv/bin/python bench/api.py                       # 2 gthread workers x 4 threads, 20 s rows
    BENCH_DURATION=10 .venv/bin/python bench/api.py --runs 3 --workers 2 --threads 8
    .venv/bin/python bench/api.py --duration 3 --warmup 1 --loads "get post" --conns "8"

It drops and recreates the database --database (default torale_bench), migrates it, creates
an API key for `benchuser`, starts gunicorn on 127.0.0.1:--port with DEBUG=false and the rate
limits raised far out of the way (they are still checked in Redis on every request), runs
../shared/bench/bench_api.sh (wrk; `apt-get install -y wrk`) and prints req/s and p50/p99 per
load and connection count. No Celery worker or beat runs. Everything it started is stopped
on exit, Ctrl-C and failure included.

Targets (shared/bench/README.md; 2 cores, medians of three runs, runs vary by +-30%):
at 8 and 32 connections get >= 1,600 req/s, list >= 1,000 req/s, create >= 390 req/s,
and p99 < 50 ms at 32 connections.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from processes import Processes, interrupt

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
# req/s at 8 and 32 connections, per load (list20 and list are both "list").
TARGETS = {"get": 1600, "list20": 1000, "list": 1000, "post": 390}
P99_TARGET_MS = 50
HIGH_LIMIT = "1000000000"


def parse_args() -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    p.add_argument("--worker-class", default="gthread", help="gthread (default) or sync")
    p.add_argument(
        "--gunicorn-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra gunicorn argument (repeatable), e.g. --gunicorn-arg=--backlog=512",
    )
    p.add_argument(
        "--duration",
        type=int,
        default=int(env("BENCH_DURATION", "20")),
        help="measured seconds per row (BENCH_DURATION, 20)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=int(env("BENCH_WARMUP", "5")),
        help="warm-up seconds per row (BENCH_WARMUP, 5)",
    )
    p.add_argument(
        "--loads",
        default=env("BENCH_LOADS", "list20 list get post"),
        help='which loads (BENCH_LOADS, "list20 list get post")',
    )
    p.add_argument(
        "--conns",
        default=env("BENCH_CONNS", "1 8 32"),
        help='connection counts (BENCH_CONNS, "1 8 32")',
    )
    p.add_argument(
        "--runs",
        type=int,
        default=1,
        help="bench runs against one server; "
        "the summary shows medians (1; the targets are medians of 3)",
    )
    p.add_argument("--port", type=int, default=8765, help="gunicorn port on 127.0.0.1 (8765)")
    p.add_argument("--database", default="torale_bench", help="database to drop and recreate")
    p.add_argument(
        "--pg",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL, without the database name",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    p.add_argument("--bench-script", default=str(REPO / ".." / "shared" / "bench" / "bench_api.sh"))
    p.add_argument("--out", default="", help="where bench_api.sh writes raw output (a temp dir)")
    return p.parse_args()


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{args.pg.rstrip('/')}/{args.database}",
        REDIS_URL=args.redis_url,
        SECRET_KEY="bench-secret-key-not-for-production",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        TORALE_RATE_LIMIT_PER_MINUTE=HIGH_LIMIT,
        TORALE_RATE_LIMIT_PER_HOUR=HIGH_LIMIT,
        TORALE_RATE_LIMIT_PER_DAY=HIGH_LIMIT,
        TORALE_VAR_DIR=str(REPO / "var" / "bench"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def run(cmd: list[str], env: dict[str, str], **kw) -> str:
    """Run a setup command to completion; its stdout, or SystemExit with its stderr."""
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, **kw)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}... failed:\n{done.stderr[-2000:]}")
    return done.stdout


def recreate_database(args: argparse.Namespace, env: dict[str, str]) -> None:
    # psycopg is the project's driver; this script itself stays stdlib only.
    code = (
        "import psycopg, sys\n"
        "with psycopg.connect(sys.argv[1] + '/postgres', autocommit=True) as c:\n"
        "    c.execute(f'DROP DATABASE IF EXISTS \"{sys.argv[2]}\" WITH (FORCE)')\n"
        "    c.execute(f'CREATE DATABASE \"{sys.argv[2]}\"')\n"
    )
    run([PYTHON, "-c", code, args.pg.rstrip("/"), args.database], env)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)


def wait_until_serving(base: str, key: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{base}/api/v1/tasks", headers={"Authorization": f"Bearer {key}"}
    )
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode} during start-up")
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"gunicorn did not answer {base}/api/v1/tasks within {timeout:.0f} s")


def warn_if_busy() -> None:
    """Other work on the machine's two cores lowers every figure: say so before measuring."""

    def idle_and_total() -> tuple[int, int]:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return ticks[3] + ticks[4], sum(ticks)  # idle + iowait, all

    idle0, total0 = idle_and_total()
    time.sleep(1)
    idle1, total1 = idle_and_total()
    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    if busy > 0.15:
        print(
            f"[bench] WARNING: the CPUs were {busy:.0%} busy just before this run (server "
            "idle): something else is running and the figures will be low",
            file=sys.stderr,
        )


def read_results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def summarize(runs: list[list[dict[str, str]]], label: str) -> None:
    """One row per (load, conns): median req/s, p50, p99 over the runs, and the target."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for rows in runs:
        for row in rows:
            groups.setdefault((row["load"], row["conns"]), []).append(row)

    def median(rows, field):
        values = [float(r[field]) for r in rows if r[field] not in ("-", "")]
        return statistics.median(values) if values else float("nan")

    print(f"\nTasks API on gunicorn {label}: median of {len(runs)} run(s)")
    head = f"{'load':<7}{'conns':>6}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}  target"
    print(head + "\n" + "-" * len(head) + "-" * 12)
    for (load, conns), rows in groups.items():
        rps, p50, p99 = median(rows, "req_s"), median(rows, "p50_ms"), median(rows, "p99_ms")
        errors = sum(int(r["errors"]) for r in rows if r["errors"].isdigit())
        verdict = ""
        if load in TARGETS and conns in ("8", "32"):
            ok = rps >= TARGETS[load] and (conns != "32" or p99 < P99_TARGET_MS)
            want = f">= {TARGETS[load]}" + (f", p99 < {P99_TARGET_MS}" if conns == "32" else "")
            verdict = f"{'ok  ' if ok else 'MISS'} ({want})"
        print(f"{load:<7}{conns:>6}{rps:>9.0f}{p50:>8.1f}{p99:>8.1f}{errors:>8}  {verdict}")
    if len(runs) > 1:
        print(
            "per run req/s: "
            + "; ".join(
                f"{load}/{conns}: " + " ".join(r["req_s"] for r in rows)
                for (load, conns), rows in groups.items()
            )
        )


def main() -> int:
    args = parse_args()
    bench_script = Path(args.bench_script).resolve()
    if not bench_script.exists():
        raise SystemExit(f"bench script not found: {bench_script} (use --bench-script)")
    env = server_env(args)
    base = f"http://127.0.0.1:{args.port}"
    label = f"{args.worker_class}, {args.workers} workers x {args.threads} threads" + (
        " " + " ".join(args.gunicorn_arg) if args.gunicorn_arg else ""
    )
    out_root = Path(args.out or tempfile.mkdtemp(prefix="torale-bench-"))

    # One orderly exit for Ctrl-C, kill and a closed terminal (also when started with SIGINT
    # ignored, as a shell does for background jobs).
    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for sig in stop_signals:
        signal.signal(sig, interrupt)
    procs = Processes()
    try:
        print(f"[bench] recreating database {args.database} and migrating", file=sys.stderr)
        recreate_database(args, env)
        key = run([PYTHON, "manage.py", "createapikey", "benchuser"], env).strip().splitlines()[-1]

        server = procs.start(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "torale.wsgi:application",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--worker-class",
                args.worker_class,
                "--log-level",
                "warning",
                "--no-control-socket",  # another gunicorn on the machine would share its path
                *args.gunicorn_arg,
            ],
            env,
        )
        wait_until_serving(base, key, server)
        print(f"[bench] gunicorn {label} serving on {base}", file=sys.stderr)

        runs = []
        for i in range(1, args.runs + 1):
            out = out_root / f"run{i}"
            bench_env = dict(
                os.environ,
                BENCH_DURATION=str(args.duration),
                BENCH_WARMUP=str(args.warmup),
                BENCH_LOADS=args.loads,
                BENCH_CONNS=args.conns,
                BENCH_OUT=str(out),
            )
            print(f"[bench] run {i}/{args.runs}: {bench_script}", file=sys.stderr)
            warn_if_busy()
            bench = procs.start(
                "bench_api.sh", ["bash", str(bench_script), base, f"Bearer {key}"], bench_env
            )
            if bench.wait() != 0:
                raise SystemExit(f"bench_api.sh exited with {bench.returncode}")
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with {server.returncode} during the bench")
            runs.append(read_results(out / "results.tsv"))
        summarize(runs, label)
        print(f"(raw wrk output under {out_root})")
        return 0
    except KeyboardInterrupt:
        print("\n[bench] interrupted; stopping", file=sys.stderr)
        return 130
    finally:
        for sig in stop_signals:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
