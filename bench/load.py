"""Load and concurrency run: `make load` (or `python -m bench.load`).

Starts gunicorn on 127.0.0.1 with production settings (DEBUG off, the real
middleware stack, throttling on) over the demo data plus `--hires` bench hires, then:

1. reads: for the home page and the hires list, at each of `--clients` (2 and 20 by
   default), that many clients signed in as the demo's people-ops user request the
   page back to back for `--seconds`: requests/s, p50, p99 and errors. Throughput at
   20 clients should stay at least 90% of that at 2 (no collapse);
2. a bounded mix of reads and writes from `--mixed-clients` clients, then checks in
   the database that every write that answered success is there, and that the
   trigger-kept rollup tables still match a recount (clients change different
   assignments of the same plans at once).

Runs on SQLite, and on PostgreSQL when reachable.

Only loopback traffic; every loop is bounded in time and count and stops by itself.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import math
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "load-test-password-2026"
DEFAULT_PG = "postgres://postgres:postgres@127.0.0.1:5432/onboarding_load"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created_emails: list[str] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if method == "POST":
            req.add_header("X-CSRFToken", self.csrf())
            req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except OSError as error:
            # A reset or refused connection, or a timeout: an error of the run, never a
            # client thread that stops without a word.
            return 0, f"{type(error).__name__}: {error}"

    def sign_in(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request(
            "POST", "/accounts/login/", {"username": username, "password": PASSWORD}
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {username} answered {status}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def prepare(env: dict, hires: int) -> None:
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo", "--password", PASSWORD)
    if hires:
        manage(env, "generate_bench_data", "--hires", str(hires))


def wait_until_up(base: str, process: subprocess.Popen, seconds: int = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz in time")


def worker(base: str, username: str, index: int, deadline: float, max_requests: int, stats: Stats):
    rng = random.Random(index)
    client = Client(base)
    try:
        client.sign_in(username)
    except Exception as error:  # reported as an error of the run
        with stats.lock:
            stats.errors.append(f"client {index}: {error}")
        return
    _, home = client.request("GET", "/hires/")
    hire_paths = sorted(set(re.findall(r'href="(/hires/\d+/)"', home)))
    plan_paths: list[str] = []
    for hire_path in hire_paths[:10]:  # the first hire of these that has a plan
        _, page = client.request("GET", hire_path)
        plan_paths = sorted(set(re.findall(r'href="(/plans/\d+/)"', page)))
        if plan_paths:
            break
    _, plan = client.request("GET", plan_paths[0]) if plan_paths else (0, "")
    guidance_ids = sorted({int(pk) for pk in re.findall(r'action="/plan-guidance/(\d+)/"', plan)})
    # Each client writes notes on its own guidance item, so the last success must stick.
    my_guidance = guidance_ids[index] if index < len(guidance_ids) else None
    # ... and moves its own assignment of the same plan through the open statuses, so
    # several clients change one plan's progress at once.
    assignment_ids = sorted(
        {int(pk) for pk in re.findall(r'action="/assignments/(\d+)/status/"', plan)}
    )
    my_assignment = assignment_ids[index % len(assignment_ids)] if assignment_ids else None
    statuses = ["scheduled", "in_progress", "assigned"]
    count = 0
    while time.monotonic() < deadline and count < max_requests:
        count += 1
        roll = rng.random()
        start = time.perf_counter()
        expect, email, note = (200,), None, None
        if roll < 0.6:
            path = rng.choice(["/", "/hires/", *hire_paths[:5], *plan_paths[:1]])
            status, _ = client.request("GET", path)
        elif roll < 0.7 and my_assignment is not None:
            status, _ = client.request(
                "POST",
                f"/assignments/{my_assignment}/status/",
                {"status": statuses[count % len(statuses)]},
            )
            expect = (302,)
        elif roll < 0.85 or my_guidance is None:
            email = f"load-{index}-{count}-{rng.randint(0, 10**9)}@example.com"
            status, _ = client.request(
                "POST",
                "/hires/new/",
                {
                    "full_name": f"Load Hire {index}-{count}",
                    "email": email,
                    "title": "Product Manager",
                    "start_date": "2026-12-01",
                },
            )
            expect = (302,)
        else:
            note = f"client {index} note {count}"
            status, _ = client.request(
                "POST", f"/plan-guidance/{my_guidance}/", {"manager_note": note}
            )
            expect = (302,)
        elapsed = (time.perf_counter() - start) * 1000
        with stats.lock:
            stats.latencies.append(elapsed)
            if status not in expect:
                stats.errors.append(f"{status} on request {count} of client {index}")
            elif email:
                stats.created_emails.append(email)
            elif note:
                stats.notes[my_guidance] = note


READ_PAGES = {"home": "/", "hires list": "/hires/"}
READER = "pat"  # the demo's people-ops user: sees every hire


def reader(base: str, path: str, index: int, ready: threading.Barrier, window: dict, stats: Stats):
    client = Client(base)
    try:
        client.sign_in(READER)
        client.request("GET", path)  # warm-up, not counted
    except Exception as error:  # reported as an error of the run
        with stats.lock:
            stats.errors.append(f"client {index}: {error}")
        ready.abort()
        return
    try:
        ready.wait(timeout=120)
    except threading.BrokenBarrierError:
        return
    count = 0
    while time.monotonic() < window["deadline"] and count < window["max_requests"]:
        count += 1
        start = time.perf_counter()
        status, body = client.request("GET", path)
        elapsed = (time.perf_counter() - start) * 1000
        with stats.lock:
            stats.latencies.append(elapsed)
            if status != 200:
                stats.errors.append(f"{status or body} on request {count} of client {index}")


def read_run(base: str, path: str, clients: int, seconds: int, max_requests: int) -> dict:
    """`clients` clients requesting `path` back to back for `seconds` (all signed in first)."""
    stats = Stats()
    window = {"max_requests": max_requests}

    def start_clock():
        window["started"] = time.perf_counter()
        window["deadline"] = time.monotonic() + seconds

    ready = threading.Barrier(clients, action=start_clock)
    threads = [
        threading.Thread(target=reader, args=(base, path, i, ready, window, stats))
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 180)
    wall = time.perf_counter() - window.get("started", time.perf_counter())
    return summary(stats, wall)


def percentile(latencies: list[float], share: float) -> float | None:
    if not latencies:
        return None
    ordered = sorted(latencies)
    return round(ordered[max(0, math.ceil(len(ordered) * share) - 1)], 1)


def summary(stats: Stats, wall: float) -> dict:
    return {
        "requests": len(stats.latencies),
        "requests_per_s": round(len(stats.latencies) / wall, 1) if wall > 0 else 0.0,
        "p50_ms": percentile(stats.latencies, 0.5),
        "p99_ms": percentile(stats.latencies, 0.99),
        "errors": len(stats.errors),
        "error_samples": stats.errors[:5],
    }


def verify(env: dict, stats: Stats) -> int:
    """Count writes that answered success but are not in the database."""
    check = (
        "import json,sys\n"
        "from onboarding.models import NewHire, PlanGuidance\n"
        "data = json.load(sys.stdin)\n"
        "emails = set(NewHire.objects.filter(email__in=data['emails'])"
        ".values_list('email', flat=True))\n"
        "lost = [e for e in data['emails'] if e not in emails]\n"
        "for pk, note in data['notes'].items():\n"
        "    if PlanGuidance.objects.get(pk=int(pk)).manager_note != note: lost.append(pk)\n"
        "print(len(lost))\n"
    )
    import json

    payload = json.dumps({"emails": stats.created_emails, "notes": stats.notes})
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", check],
        cwd=ROOT,
        env=env,
        input=payload,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return int(result.stdout.strip().splitlines()[-1])


def rollup_differences(env: dict) -> int:
    """How many rollup values differ from a recount after the run (0 when all match)."""
    result = subprocess.run(
        [PYTHON, "manage.py", "rebuild_rollups", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        return 0
    found = re.search(r"(\d+) rollup value", result.stderr)
    if not found:
        raise SystemExit(result.stderr)
    return int(found.group(1))


def run(database_url: str, args: argparse.Namespace) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "load-run-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_MANIFEST": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "DEMO_PASSWORD": PASSWORD,
    }
    prepare(env, args.hires)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-c",
            "config/gunicorn.py",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads: list[dict] = []
    try:
        wait_until_up(base, server)
        for page, path in READ_PAGES.items():
            for clients in args.clients:
                found = read_run(base, path, clients, args.seconds, args.max_requests)
                reads.append({"page": page, "clients": clients, **found})
        stats = Stats()
        deadline = time.monotonic() + args.seconds
        # Managers own what they create; people-ops would have to pick a manager.
        users = ["maria", "devon"]
        threads = [
            threading.Thread(
                target=worker,
                args=(base, users[i % len(users)], i, deadline, args.max_requests, stats),
            )
            for i in range(args.mixed_clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    mixed = summary(stats, wall)
    mixed.update(
        writes_ok=len(stats.created_emails) + len(stats.notes),
        lost_writes=verify(env, stats),
        rollup_differences=rollup_differences(env),
    )
    return {"database": database_url.split(":", 1)[0], "reads": reads, "mixed": mixed}


def postgres_available(url: str) -> bool:
    try:
        import psycopg

        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            name = url.rsplit("/", 1)[1]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as error:  # PostgreSQL is optional here
        print(f"PostgreSQL not available ({error}); skipping it.")
        return False


def client_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1 or max(counts) > 100:
        raise argparse.ArgumentTypeError("give client counts between 1 and 100, e.g. 2,20")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument(
        "--clients",
        type=client_counts,
        default=[2, 20],
        help="concurrent readers of each page, comma-separated (default 2,20)",
    )
    parser.add_argument("--mixed-clients", type=int, default=8, help="clients of the write mix")
    parser.add_argument("--seconds", type=int, default=10, help="length of each run (max 120)")
    parser.add_argument("--max-requests", type=int, default=2000, help="per client and run")
    parser.add_argument("--hires", type=int, default=10_000, help="bench hires added to the demo")
    parser.add_argument("--postgres-url", default=os.environ.get("LOAD_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    args.seconds = max(1, min(args.seconds, 120))

    sqlite_path = Path("/tmp/onboarding-load.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    runs = [f"sqlite:///{sqlite_path}"]
    if not args.sqlite_only and postgres_available(args.postgres_url):
        runs.append(args.postgres_url)
    failed = False
    for url in runs:
        result = run(url, args)
        print(f"\n{result['database']}, {args.hires} bench hires, {args.seconds} s per run")
        print(
            f"  {'page':11} {'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'errors':>6}"
        )
        for row in result["reads"]:
            print(
                f"  {row['page']:11} {row['clients']:7} {row['requests']:8} "
                f"{row['requests_per_s']:7} {row['p50_ms']!s:>8} {row['p99_ms']!s:>8} "
                f"{row['errors']:6}"
            )
            for sample in row["error_samples"]:
                print(f"      {sample}")
            failed |= bool(row["errors"])
        for page in READ_PAGES:
            rows = [r for r in result["reads"] if r["page"] == page]
            low, high = min(rows, key=lambda r: r["clients"]), max(rows, key=lambda r: r["clients"])
            if high is not low and low["requests_per_s"]:
                share = high["requests_per_s"] / low["requests_per_s"]
                print(
                    f"  {page}: {high['clients']} clients reach {share:.0%} of the throughput "
                    f"of {low['clients']} (target at least 90%)"
                )
        mixed = result["mixed"]
        print(
            f"  read/write mix, {args.mixed_clients} clients: {mixed['requests']} requests, "
            f"{mixed['requests_per_s']} req/s, p50 {mixed['p50_ms']} ms, p99 "
            f"{mixed['p99_ms']} ms, {mixed['errors']} errors, {mixed['writes_ok']} writes, "
            f"{mixed['lost_writes']} lost, {mixed['rollup_differences']} rollup values off"
        )
        for sample in mixed["error_samples"]:
            print(f"      {sample}")
        failed |= bool(mixed["errors"] or mixed["lost_writes"] or mixed["rollup_differences"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
