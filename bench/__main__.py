"""Benchmark suite: `make bench` (or `python -m bench`).

Every figure is a ratio against baselines timed in the same run, on the same data,
interleaved with the page (round-robin: page, its raw SQL, the yardstick, page, ...)
so that load drift on this shared machine falls on all three alike. Medians over
repeated rounds after a warm-up. Output: a table on stdout and JSON (`--json FILE`)
for comparison between commits.

Baselines:
- "yardstick": a stock Django admin changelist of the same hires, with the same
  filter and page size (bench/yardstick.py: a plain ModelAdmin on its own AdminSite,
  five columns, list_select_related, 50 rows). It does not change when our code
  does, so page / yardstick is comparable between commits and machines.
  Targets: home <= 0.8x, hires list <= 0.5x.
- "raw SQL": the very queries the page ran, replayed on the database connection
  (the limit: no ORM, no template; the moonshot is a page within 2x of it);
- "sqlite3 CLI": the sqlite3 command-line tool exporting the same rows (SQLite only).
- "generate_bench_data": the bulk generator making as many hires, plans and
  assignments as a 2,000-row import with template plans (bench/import_bench.py).

Pages are timed as users meet them: served from the cache while the data is unchanged
(caching.py), and, as the "after a write" rows, with nothing cached, as the first
request after any change is.

Production settings (DEBUG off), one process, the Django test client, signed in as a
people-ops user who is not a superuser (the "People ops" group, as users have).
SQLite by default (a scratch file under /tmp); PostgreSQL when DATABASE_URL says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_PAGE = 50
# Page / yardstick targets of the issue "Speed under load".
TARGETS = {
    "home": 0.8,
    "hires page 1": 0.5,
    "home after a write": 0.8,
    "hires after a write": 0.5,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--hires", type=int, default=10_000, help="hires at full size")
    parser.add_argument("--small-hires", type=int, default=1_000, help="hires at small size")
    parser.add_argument("--per-hire", type=int, default=10, help="assignments per hire")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds per page")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--database", default="/tmp/onboarding-bench.sqlite3")
    parser.add_argument("--keep", action="store_true", help="reuse the database if present")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument(
        "--skip-import", action="store_true", help="skip the 2,000-row import commit"
    )
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    # Production settings: DEBUG off (cached templates, no query log), whatever the shell says.
    os.environ["DEBUG"] = "0"
    from bench.export_bench import setup

    setup(args.database, fresh=not args.keep)
    from django.conf import settings
    from django.urls import clear_url_caches

    # The project's URLs plus the yardstick changelists; config.urls never has them.
    settings.ROOT_URLCONF = "bench.urls"
    clear_url_caches()


def page_timer(client, url: str, *, cold: bool = False):
    """A request for `url`; `cold`: as the first after a write (nothing cached)."""
    from django.core.cache import cache

    def run():
        if cold:
            cache.clear()
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass

    return run


def captured_queries(client, url: str, *, cold: bool = False) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        page_timer(client, url, cold=cold)()
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
                if cursor.description:  # BEGIN, SET LOCAL and COMMIT return no rows
                    cursor.fetchall()

    return run


def query_count(client, url: str, *, cold: bool = False) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page_timer(client, url)()  # a warm page is measured warm
    with CaptureQueriesContext(connection) as ctx:
        page_timer(client, url, cold=cold)()
    return len(ctx.captured_queries)


def interleaved(timers: dict, rounds: int) -> dict[str, list[float]]:
    """Milliseconds of each timer per round, run round-robin (a, b, c, a, b, c, ...)."""
    for fn in timers.values():  # warm-up: caches, connection, template loading
        fn()
        fn()
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, fn in timers.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def median_ratio(numerators: list[float], denominators: list[float]) -> float | None:
    """The median of per-round ratios: each round's pair ran back to back, under one load."""
    ratios = [n / d for n, d in zip(numerators, denominators, strict=True) if d]
    return round(statistics.median(ratios), 2) if ratios else None


def make_client():
    """Signed in as a people-ops user as users have them: staff, not a superuser."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from onboarding.models import User

    user, _ = User.objects.get_or_create(username="bench-people-ops")
    user.is_staff, user.is_superuser = True, False
    user.save()
    # The "People ops" group comes with the migrations (0014), permissions included.
    user.groups.add(Group.objects.get(name="People ops"))
    client = Client()
    client.force_login(user)
    return client


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    yardstick: str | None = None  # the changelist with the same rows, filter and page size
    headline: bool = False  # also timed at the small size
    cold: bool = False  # every request misses the cache, as the first after a write does


def cases() -> list[Case]:
    from bench import yardstick
    from onboarding.models import NewHire, TrainingPlan

    hire = NewHire.objects.order_by("-start_date", "full_name").first()
    plan = TrainingPlan.objects.filter(hire=hire).first()
    active = NewHire.objects.filter(archived_at__isnull=True).count()
    last_page = max(1, -(-active // PER_PAGE))
    overdue = len(
        yardstick.selectors.filtered("hires", {"has_overdue": "true"}, user=None).values("pk")
    )
    middle = max(1, -(-overdue // PER_PAGE) // 2)
    return [
        Case("home", "/", yardstick.url("all"), headline=True),
        Case("hires page 1", "/hires/", yardstick.url("all"), headline=True),
        Case("home after a write", "/", yardstick.url("all"), headline=True, cold=True),
        Case("hires after a write", "/hires/", yardstick.url("all"), headline=True, cold=True),
        Case("hires last page", f"/hires/?page={last_page}", yardstick.url("all", last_page)),
        Case("hires overdue", "/hires/?has_overdue=true", yardstick.url("overdue")),
        Case(
            "hires overdue middle",
            f"/hires/?has_overdue=true&page={middle}",
            yardstick.url("overdue", middle),
        ),
        Case("hire detail", f"/hires/{hire.pk}/"),
        Case("plan detail", f"/plans/{plan.pk}/"),
        Case("assignments page 1", "/assignments/"),
        Case("outcomes", "/outcomes/"),
        Case("outcomes after a write", "/outcomes/", cold=True),
    ]


def generate(hires: int, per_hire: int) -> None:
    from django.core.management import call_command

    from onboarding.models import NewHire

    missing = hires - NewHire.objects.count()
    if missing > 0:
        call_command(
            "generate_bench_data", hires=missing, assignments_per_hire=per_hire, verbosity=0
        )


def measure(client, size: str, *, headline_only: bool, rounds: int) -> dict:
    """Query counts of every page, and interleaved timings at this data size."""
    found: dict = {"query_counts": {}, "pages": {}}
    for case in cases():
        found["query_counts"][case.name] = query_count(client, case.url, cold=case.cold)
        if headline_only and not case.headline:
            continue
        timers = {
            "page": page_timer(client, case.url, cold=case.cold),
            "raw": raw_timer(captured_queries(client, case.url, cold=case.cold)),
        }
        if case.yardstick:
            timers["yardstick"] = page_timer(client, case.yardstick)
        samples = interleaved(timers, rounds)
        row = {
            "url": case.url,
            "page_ms": round(statistics.median(samples["page"]), 2),
            "raw_sql_ms": round(statistics.median(samples["raw"]), 2),
            "x_raw_sql": median_ratio(samples["page"], samples["raw"]),
        }
        if case.yardstick:
            row["yardstick_url"] = case.yardstick
            row["yardstick_ms"] = round(statistics.median(samples["yardstick"]), 2)
            row["x_yardstick"] = median_ratio(samples["page"], samples["yardstick"])
        found["pages"][case.name] = row
        print(f"  [{size}] {case.name}: {row}", file=sys.stderr)
    return found


def main() -> None:
    args = parse_args()
    setup_django(args)
    from django.db import connection

    results: dict = {"database": connection.vendor, "sizes": {}}
    for hires, headline_only in ((args.small_hires, True), (args.hires, False)):
        generate(hires, args.per_hire)
        client = make_client()
        size = f"{hires} hires"
        results["sizes"][size] = measure(
            client, size, headline_only=headline_only, rounds=args.repeat
        )

    if not args.skip_export:
        from bench import export_bench

        results["export"] = export_bench.compare_with_cli(client)

    if not args.skip_import:
        # Last: its rounds add hires, which would change the pages' numbers.
        from bench import import_bench

        results["import"] = import_bench.compare()

    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nJSON written to {args.json}")


def print_table(results: dict) -> None:
    print(f"\nDatabase: {results['database']} (DEBUG off, people-ops user, not a superuser)")
    for size, found in results["sizes"].items():
        print(f"\n{size}: medians of interleaved rounds")
        print(
            f"  {'page':22} {'ms':>8} {'raw SQL':>8} {'x raw':>6} {'yardstick':>10} "
            f"{'x yardstick':>11}"
        )
        for name, row in found["pages"].items():
            yard = (
                f"{row['yardstick_ms']:10.2f} {row['x_yardstick']:11.2f}"
                if row.get("yardstick_ms")
                else f"{'':10} {'':11}"
            )
            print(
                f"  {name:22} {row['page_ms']:8.2f} {row['raw_sql_ms']:8.2f} "
                f"{row['x_raw_sql'] or 0:6.2f} {yard}"
            )
    print("\nPage / yardstick (stock admin changelist, same rows, 50 a page):")
    for name, target in TARGETS.items():
        figures = []
        for size, found in results["sizes"].items():
            ratio = found["pages"].get(name, {}).get("x_yardstick")
            if ratio is not None:
                verdict = "met" if ratio <= target else "MISSED"
                figures.append(f"{size}: {ratio:.2f}x ({verdict})")
        print(f"  {name:19} target <= {target}x   " + "   ".join(figures))
    print("\nQueries per page (must not grow with data):")
    names = next(iter(results["sizes"].values()))["query_counts"]
    for name in names:
        counts = "  ".join(
            f"{size}: {found['query_counts'][name]}" for size, found in results["sizes"].items()
        )
        print(f"  {name:22} {counts}")
    if "export" in results:
        print("\nAssignments export:")
        for key, value in results["export"].items():
            print(f"  {key}: {value}")
    if "import" in results:
        from bench import import_bench

        import_bench.print_result(results["import"])


if __name__ == "__main__":
    main()
