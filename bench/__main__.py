"""Benchmark suite: `make bench` (or `python -m bench`).

Every figure is printed as a ratio against a baseline measured in the same run on
the same data, because these machines are noisy: a ratio holds, an absolute time
does not. Medians over repeated runs after a warm-up. Output: a table on stdout and
JSON (`--json FILE`) for comparison between commits.

Baselines:
- "raw SQL": the very queries the page ran, replayed on the database connection
  (the limit: no ORM, no template);
- "admin": Django admin's changelist of the same hires (what a user would
  otherwise use);
- "sqlite3 CLI": the sqlite3 command-line tool exporting the same rows (SQLite only).

SQLite by default (a scratch file under /tmp); PostgreSQL when DATABASE_URL says so.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--hires", type=int, default=10_000, help="hires at full size")
    parser.add_argument("--small-hires", type=int, default=1_000, help="hires at small size")
    parser.add_argument("--per-hire", type=int, default=10, help="assignments per hire")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per figure")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--database", default="/tmp/onboarding-bench.sqlite3")
    parser.add_argument("--keep", action="store_true", help="reuse the database if present")
    parser.add_argument("--skip-export", action="store_true")
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    from bench.export_bench import setup

    setup(args.database, fresh=not args.keep)


def median_ms(fn, repeat: int) -> float:
    fn()  # warm-up: caches, connection, template loading
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def page_timer(client, url: str):
    def run():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass

    return run


def captured_queries(client, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        page_timer(client, url)()
    # Session and auth lookups are the same for every page; keep the page's own queries.
    # A server-side cursor (PostgreSQL, .iterator()) is replayed as its plain SELECT.
    return [
        re.sub(r"^DECLARE .*? CURSOR .*? FOR ", "", q["sql"], flags=re.DOTALL)
        for q in ctx.captured_queries
        if "django_session" not in q["sql"]
        and 'FROM "onboarding_user"' not in q["sql"]
        and "SAVEPOINT" not in q["sql"]
    ]


def raw_timer(queries: list[str]):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            for sql in queries:
                cursor.execute(sql)
                cursor.fetchall()

    return run


def query_count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        page_timer(client, url)()
    return len(ctx.captured_queries)


def make_client():
    from django.contrib.auth.models import Permission
    from django.test import Client

    from onboarding.models import User

    user, _ = User.objects.get_or_create(
        username="bench-people-ops", defaults={"is_staff": True, "is_superuser": True}
    )
    user.user_permissions.add(Permission.objects.get(codename="view_all_hires"))
    client = Client()
    client.force_login(user)
    return client


def pages(client) -> dict[str, str]:
    from onboarding.models import NewHire, TrainingPlan

    hire = NewHire.objects.order_by("-start_date", "full_name").first()
    plan = TrainingPlan.objects.filter(hire=hire).first()
    last_page = max(1, NewHire.objects.filter(archived_at__isnull=True).count() // 50)
    return {
        "home": "/",
        "hires page 1": "/hires/",
        "hires deep page": f"/hires/?page={last_page}",
        "hires filtered (overdue)": "/hires/?has_overdue=true",
        "hires filtered deep": f"/hires/?has_overdue=true&page={max(1, last_page // 2)}",
        "hire detail": f"/hires/{hire.pk}/",
        "plan detail": f"/plans/{plan.pk}/",
        "assignments page 1": "/assignments/",
        "outcomes": "/outcomes/",
    }


ADMIN_BASELINE = {
    "home": "/admin/onboarding/newhire/",
    "hires page 1": "/admin/onboarding/newhire/",
    "hires deep page": "/admin/onboarding/newhire/?p={deep}",
    "hires filtered (overdue)": "/admin/onboarding/newhire/",
    "hires filtered deep": "/admin/onboarding/newhire/?p={deep}",
}


def generate(hires: int, per_hire: int) -> None:
    from django.core.management import call_command

    from onboarding.models import NewHire

    missing = hires - NewHire.objects.count()
    if missing > 0:
        call_command(
            "generate_bench_data", hires=missing, assignments_per_hire=per_hire, verbosity=0
        )


def main() -> None:
    args = parse_args()
    setup_django(args)
    from django.db import connection

    results: dict = {"database": connection.vendor, "pages": {}, "query_counts": {}}

    generate(args.small_hires, args.per_hire)
    client = make_client()
    small_counts = {name: query_count(client, url) for name, url in pages(client).items()}

    generate(args.hires, args.per_hire)
    client = make_client()
    large_pages = pages(client)
    for name, url in large_pages.items():
        results["query_counts"][name] = {
            f"{args.small_hires} hires": small_counts[name],
            f"{args.hires} hires": query_count(client, url),
        }

    from onboarding.models import NewHire

    deep = max(1, NewHire.objects.count() // 100)
    for name, url in large_pages.items():
        page_ms = median_ms(page_timer(client, url), args.repeat)
        raw_ms = median_ms(raw_timer(captured_queries(client, url)), args.repeat)
        row = {"url": url, "page_ms": round(page_ms, 2), "raw_sql_ms": round(raw_ms, 2)}
        row["x_raw_sql"] = round(page_ms / raw_ms, 2) if raw_ms else None
        if name in ADMIN_BASELINE:
            admin_url = ADMIN_BASELINE[name].format(deep=deep)
            admin_ms = median_ms(page_timer(client, admin_url), args.repeat)
            row["admin_url"] = admin_url
            row["admin_ms"] = round(admin_ms, 2)
            row["x_admin"] = round(page_ms / admin_ms, 2)
        results["pages"][name] = row

    if not args.skip_export:
        from bench import export_bench

        results["export"] = export_bench.compare_with_cli(client)

    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nJSON written to {args.json}")


def print_table(results: dict) -> None:
    print(f"\nDatabase: {results['database']}\n")
    print(f"{'page':28} {'ms':>8} {'raw SQL ms':>11} {'x raw':>7} {'admin ms':>9} {'x admin':>8}")
    for name, row in results["pages"].items():
        print(
            f"{name:28} {row['page_ms']:8.2f} {row['raw_sql_ms']:11.2f} "
            f"{row['x_raw_sql'] or 0:7.2f} {row.get('admin_ms', 0):9.2f} "
            f"{row.get('x_admin', 0):8.2f}"
        )
    print("\nQueries per page (must not grow with data):")
    for name, counts in results["query_counts"].items():
        print(f"  {name:28} " + "  ".join(f"{k}: {v}" for k, v in counts.items()))
    if "export" in results:
        print("\nAssignments export:")
        for key, value in results["export"].items():
            print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
