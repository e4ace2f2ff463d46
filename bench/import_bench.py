"""Import benchmark: committing a 2,000-row cohort import with template plans.

`python -m bench.import_bench` (also part of `make bench`). Times imports.commit (the
background task's work: the file checked again, then services.hire_bulk_import) for
ROWS hires, each with a plan from a shipped template, against the management command
`generate_bench_data` making the same numbers of hires, plans and assignments, in the
same run, interleaved round by round (import, generator, import, ...) so that load on
this shared machine falls on both alike. Prints the medians and the median ratio.

`--one-by-one` also times, once, the path the import had before: hire_create and
plan_create per row (25-39 s on SQLite and 115 s on PostgreSQL when measured in
issue 14).

SQLite by default (a scratch file under /tmp); PostgreSQL when DATABASE_URL says so
(use a database of its own: the rounds add hires to it).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = 2000
HEADER = "full_name,email,title,start_date,new_to_product_management,previous_role\r\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="/tmp/onboarding-import-bench.sqlite3")
    parser.add_argument("--one-by-one", action="store_true", help="also time the old path once")
    return parser.parse_args()


def cohort_csv(prefix: str, rows: int) -> bytes:
    lines = [
        f"{prefix} Hire {i},{prefix}-{i}@example.com,Product Manager,"
        f"2026-{1 + i % 12:02d}-{1 + i % 28:02d},{'yes' if i % 3 == 0 else 'no'},Engineer\r\n"
        for i in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


def template_and_importer():
    """The shipped template with the most courses, and a manager who imports."""
    from django.db.models import Count

    from onboarding.models import PlanTemplate, User

    template = (
        PlanTemplate.objects.filter(active=True)
        .annotate(n=Count("items"))
        .order_by("-n", "pk")
        .first()
    )
    user, _ = User.objects.get_or_create(
        username="bench-importer", defaults={"is_staff": True, "is_superuser": True}
    )
    return template, user


def compare(rows: int = ROWS, rounds: int = 3, one_by_one: bool = False) -> dict:
    from django.core.management import call_command

    from onboarding import imports, services
    from onboarding.models import NewHire

    template, user = template_and_importer()
    per_hire = template.items.count()
    samples: dict[str, list[float]] = {"import": [], "generate_bench_data": []}
    for index in range(rounds + 1):  # the first round warms up and is not counted
        content = cohort_csv(f"r{index}", rows)
        begin = time.perf_counter()
        hires = imports.commit(content, user=user, template=template, batch=f"bench{index}")
        import_seconds = time.perf_counter() - begin
        assert len(hires) == rows
        begin = time.perf_counter()
        call_command(
            "generate_bench_data",
            hires=rows,
            assignments_per_hire=per_hire,
            managers=10,
            seed=index,
            verbosity=0,
            stdout=io.StringIO(),  # it reports its counts whatever the verbosity
        )
        generate_seconds = time.perf_counter() - begin
        if index:
            samples["import"].append(import_seconds)
            samples["generate_bench_data"].append(generate_seconds)
        print(
            f"  round {index}{' (warm-up)' if not index else ''}: import {import_seconds:.2f} s, "
            f"generate_bench_data {generate_seconds:.2f} s",
            file=sys.stderr,
        )
    result = {
        "rows": rows,
        "template": template.name,
        "assignments_per_hire": per_hire,
        "import_s": round(statistics.median(samples["import"]), 2),
        "generate_bench_data_s": round(statistics.median(samples["generate_bench_data"]), 2),
        "x_generate_bench_data": round(
            statistics.median(
                i / g
                for i, g in zip(samples["import"], samples["generate_bench_data"], strict=True)
            ),
            2,
        ),
        "hires_in_database": NewHire.objects.count(),
    }
    if one_by_one:
        preview = imports.parse(cohort_csv("old", rows), user=user)
        begin = time.perf_counter()
        from django.db import transaction

        with transaction.atomic():
            for row in preview.rows:
                hire = services.hire_create(actor=user, **row.cleaned)
                services.plan_create(actor=user, hire=hire, template=template)
        result["one_by_one_s"] = round(time.perf_counter() - begin, 2)
    return result


def print_result(result: dict) -> None:
    from django.db import connection

    print(
        f"\nImport commit, {result['rows']} hires with plans from “{result['template']}” "
        f"({result['assignments_per_hire']} courses each), {connection.vendor}:"
    )
    print(f"  import (imports.commit, bulk)  {result['import_s']:8.2f} s (median)")
    print(f"  generate_bench_data, same rows {result['generate_bench_data_s']:8.2f} s (median)")
    print(f"  import / generate_bench_data   {result['x_generate_bench_data']:8.2f}x")
    if "one_by_one_s" in result:
        print(f"  one at a time (before)         {result['one_by_one_s']:8.2f} s (one round)")


def main() -> None:
    args = parse_args()
    from bench.export_bench import setup

    setup(args.database, fresh=True)
    result = compare(args.rows, args.rounds, args.one_by_one)
    print_result(result)


if __name__ == "__main__":
    main()
