"""Benchmark of /exports/assignments.csv (not a test).

    DJANGO_SETTINGS_MODULE=config.settings SECRET_KEY=x python -m bench.export_bench [--rows N]

Prints, in one run, on the same data:
- rows/s of /exports/assignments.csv through the Django test client (streaming
  content consumed), as a people-ops user (every row);
- rows/s of the sqlite3 command-line tool running the very same SQL with
  `.mode csv` into a file (the limit: no Python at all);
- rows/s of django-import-export exporting the same queryset (a ModelResource with
  the same columns and select_related: what a user would otherwise pick);
- peak resident memory (RSS, as the kernel counts it) of a fresh process that serves
  the streaming export once, at about 10,000 rows and at all rows, and the growth
  between them: what a worker process really holds, C buffers of the database
  driver included, which tracemalloc does not see.
Targets: at least 1/3 of the sqlite3 CLI rate, at least 10x django-import-export,
memory growth under 30 MB.

`run(rows)` does everything on a scratch SQLite database under /tmp (it sets
DATABASE_URL before django.setup()); `compare_with_cli(client)` is the part the
bench suite (`python -m bench`) calls on its own, already populated database.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "/tmp/onboarding-export-bench.sqlite3"
EXPORT_URL = "/exports/assignments.csv"
SMALL_ROWS = 10_000
REPEAT = 3
TARGETS = {"x_sqlite3_cli": 1 / 3, "x_import_export": 10.0, "memory_growth_mb": 30.0}


def setup(database: str = DEFAULT_DATABASE, *, fresh: bool = True) -> None:
    """Point Django at a scratch SQLite file (unless DATABASE_URL is set) and migrate."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(assignments: int, per_hire: int = 10) -> None:
    """Top the database up to `assignments` assignments (bulk_create, in batches)."""
    from django.core.management import call_command

    from onboarding.models import Assignment

    missing = assignments - Assignment.objects.count()
    if missing > 0:
        hires = -(-missing // per_hire)
        call_command("generate_bench_data", hires=hires, assignments_per_hire=per_hire, verbosity=0)


def people_ops_client():
    from django.contrib.auth.models import Permission
    from django.test import Client

    from onboarding.models import User

    user, _ = User.objects.get_or_create(username="bench-export-people-ops")
    user.user_permissions.add(Permission.objects.get(codename="view_all_hires"))
    client = Client()
    client.force_login(user)
    return client


def _consume(client, url: str) -> int:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    return size


def _best_seconds(fn, repeat: int = REPEAT) -> float:
    """The fastest of `repeat` runs after a warm-up: on a shared, noisy machine the
    least-disturbed run is the most faithful figure (and it is the same rule for
    every contender)."""
    fn()  # warm-up: page cache, connection, URL resolver
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def _export_rows(data: dict | None = None):
    """The export's own query (values_list) for a people-ops user."""
    from onboarding import selectors
    from onboarding.models import User

    user = User.objects.get(username="bench-export-people-ops")
    return selectors.export_rows("assignments", data or {}, user=user)


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def export_sql(rows_queryset) -> str:
    """The export's SQL with its parameters inlined, for the sqlite3 CLI."""
    sql, params = rows_queryset.query.sql_with_params()
    return sql % tuple(_sql_literal(p) for p in params)


def time_sqlite_cli(sql: str) -> float | None:
    from django.db import connection

    if connection.vendor != "sqlite" or not shutil.which("sqlite3"):
        return None
    database = connection.settings_dict["NAME"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cli.csv"
        script = f".headers on\n.mode csv\n.output {out}\n{sql};\n"

        def run():
            subprocess.run(
                ["sqlite3", "-readonly", str(database)], input=script, text=True, check=True
            )

        return _best_seconds(run)


def time_import_export() -> float:
    """django-import-export 4 exporting the same rows, with select_related."""
    from django.db.models import Exists, OuterRef
    from import_export import fields, resources

    from onboarding.models import Assignment, PlanGuidance

    def column(attribute: str, name: str) -> fields.Field:
        return fields.Field(attribute=attribute, column_name=name)

    class AssignmentResource(resources.ModelResource):
        hire = column("plan__hire__full_name", "hire")
        email = column("plan__hire__email", "email")
        hiring_manager = column("plan__hire__hiring_manager__username", "hiring_manager")
        role_profile = column("plan__hire__role_profile__name", "role_profile")
        plan_title = column("plan__title", "plan")
        course_title = column("course__title", "course")
        provider = column("course__provider", "provider")
        certification = column("course__certification__name", "certification")
        overdue = fields.Field(column_name="overdue")
        currency = column("course__currency", "currency")
        guidance_discussed = fields.Field(column_name="guidance_discussed")

        class Meta:
            model = Assignment
            fields = (
                "hire",
                "email",
                "hiring_manager",
                "role_profile",
                "plan_title",
                "course_title",
                "provider",
                "certification",
                "status",
                "due_date",
                "scheduled_for",
                "completed_on",
                "overdue",
                "tuition_cost",
                "currency",
                "paid_by",
                "certification_earned_on",
                "guidance_discussed",
            )
            export_order = fields

        def dehydrate_overdue(self, obj):
            return "yes" if obj.is_overdue() else "no"

        def dehydrate_guidance_discussed(self, obj):
            return "no" if obj.has_undiscussed else "yes"

    undiscussed = PlanGuidance.objects.filter(plan=OuterRef("plan_id"), acknowledged_at=None)
    queryset = (
        Assignment.objects.filter(plan__hire__archived_at__isnull=True)
        .select_related(
            "plan__hire__hiring_manager", "plan__hire__role_profile", "course__certification"
        )
        .annotate(has_undiscussed=Exists(undiscussed))
        .order_by("due_date", "pk")
    )

    def run():
        AssignmentResource().export(queryset=queryset).csv  # noqa: B018 - the work measured

    return _best_seconds(run, repeat=2)


def peak_rss_mb(url: str) -> float:
    """Peak RSS, in MB, of a fresh process that signs in and consumes `url` once.

    The child reads its own high-water mark (VmHWM) rather than the parent reading
    getrusage: Linux keeps ru_maxrss across exec, so a child forked from this large
    process reported this process's size (260 MB at every row count) instead of its own.
    The child inherits DATABASE_URL (set by setup()).
    """
    result = subprocess.run(
        [sys.executable, "-m", "bench.export_bench", "--serve-once", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"the export process for {url} failed:\n{result.stderr}")
    return int(result.stdout.split()[-1]) / 1024  # kilobytes


def serve_once(url: str) -> None:
    """In the child: Django set up on the existing database (no migrate), one export,
    then the process's peak resident memory in kB on stdout."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()
    _consume(people_ops_client(), url)
    status = Path("/proc/self/status").read_text()
    print(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))


def _subset_filter(rows: int) -> tuple[str, int]:
    """A ?due_before= that keeps about `rows` assignments, and the exact count."""
    from onboarding.models import Assignment

    base = Assignment.objects.filter(plan__hire__archived_at__isnull=True)
    dates = base.order_by("due_date").values_list("due_date", flat=True)
    cutoff = dates[min(rows, base.count()) - 1]
    return f"due_before={cutoff.isoformat()}", base.filter(due_date__lte=cutoff).count()


def compare_with_cli(client=None) -> dict:
    """Every figure on the data already in the database (the bench suite calls this)."""
    from onboarding.models import Assignment

    client = client or people_ops_client()
    people_ops_client()  # makes sure the user _export_rows() acts as exists
    rows = Assignment.objects.filter(plan__hire__archived_at__isnull=True).count()
    ours = _best_seconds(lambda: _consume(client, EXPORT_URL))
    cli = time_sqlite_cli(export_sql(_export_rows()))
    theirs = time_import_export()

    subset, subset_rows = _subset_filter(SMALL_ROWS)
    small_mb = peak_rss_mb(f"{EXPORT_URL}?{subset}")
    large_mb = peak_rss_mb(EXPORT_URL)

    ours_rate = rows / ours
    result = {
        "rows": rows,
        "ours_rows_per_s": round(ours_rate),
        "sqlite3_cli_rows_per_s": round(rows / cli) if cli else None,
        "import_export_rows_per_s": round(rows / theirs),
        "x_sqlite3_cli": round(ours_rate / (rows / cli), 3) if cli else None,
        "x_import_export": round(ours_rate / (rows / theirs), 1),
        f"peak_rss_mb_at_{subset_rows}_rows": round(small_mb, 2),
        f"peak_rss_mb_at_{rows}_rows": round(large_mb, 2),
        "memory_growth_mb": round(large_mb - small_mb, 2),
    }
    result["targets_met"] = {
        "x_sqlite3_cli": cli is None or result["x_sqlite3_cli"] >= TARGETS["x_sqlite3_cli"],
        "x_import_export": result["x_import_export"] >= TARGETS["x_import_export"],
        "memory_growth_mb": result["memory_growth_mb"] < TARGETS["memory_growth_mb"],
    }
    return result


def run(rows: int = 100_000, database: str = DEFAULT_DATABASE, fresh: bool = True) -> dict:
    """Set up a scratch database, generate `rows` assignments, measure, print, return."""
    setup(database, fresh=fresh)
    started = time.perf_counter()
    generate(rows)
    generated_s = time.perf_counter() - started
    result = compare_with_cli(people_ops_client())
    result["generate_seconds"] = round(generated_s, 1)
    print_result(result)
    return result


def print_result(result: dict) -> None:
    print("\n/exports/assignments.csv")
    for key, value in result.items():
        if key != "targets_met":
            print(f"  {key:34} {value}")
    print(
        "  targets: "
        + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets_met"].items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.export_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=100_000, help="assignments to export")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--keep", action="store_true", help="reuse the database if present")
    parser.add_argument("--serve-once", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_once:
        serve_once(args.serve_once)
        return
    run(args.rows, args.database, fresh=not args.keep)


if __name__ == "__main__":
    main()
