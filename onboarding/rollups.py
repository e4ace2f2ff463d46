"""Checks and rebuilds the rollup tables against the rows they summarise.

PlanProgress (per plan) and DailyTotals (per manager, archived state, day and
currency) are kept by database triggers (onboarding/triggers.py). Nothing in
the application writes them, so a difference means a bug or someone disabled
the triggers; `manage.py rebuild_rollups --check` finds one, and without --check
the command recounts both tables from scratch.

The recount here is written in Python with the ORM and rules.py, independently
of the triggers' SQL, so comparing the two (`differences()`) proves the SQL
right; the property tests in tests/test_rollups.py do that after random writes.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, F, Min, Q

from . import triggers
from .models import Assignment, DailyTotals, PlanGuidance, PlanProgress, TrainingPlan
from .rules import UNSCHEDULED_STATUS, UNSPENT_STATUS, is_open, open_q

PROGRESS_FIELDS = (
    "hire_id",
    "hiring_manager_id",
    "hire_start_date",
    "hire_archived",
    "total_count",
    "completed_count",
    "waived_count",
    "next_open_due",
    "next_unscheduled_due",
    "undiscussed_guidance_count",
)
TOTALS_FIELDS = (
    "open_due_count",
    "employer_tuition_cents",
    "hire_tuition_cents",
    "sessions_count",
)


def expected_plan_progress() -> dict[int, dict]:
    """Each plan's progress, counted from its assignments and guidance."""
    expected = {
        plan["pk"]: {
            "hire_id": plan["hire_id"],
            "hiring_manager_id": plan["hire__hiring_manager_id"],
            "hire_start_date": plan["hire__start_date"],
            "hire_archived": plan["hire__archived_at"] is not None,
            "total_count": 0,
            "completed_count": 0,
            "waived_count": 0,
            "next_open_due": None,
            "next_unscheduled_due": None,
            "undiscussed_guidance_count": 0,
        }
        for plan in TrainingPlan.objects.values(
            "pk", "hire_id", "hire__hiring_manager_id", "hire__start_date", "hire__archived_at"
        )
    }
    counts = (
        Assignment.objects.values("plan_id")
        .annotate(
            total_count=Count("pk"),
            completed_count=Count("pk", filter=Q(status=Assignment.Status.COMPLETED)),
            waived_count=Count("pk", filter=Q(status=Assignment.Status.WAIVED)),
            next_open_due=Min("due_date", filter=open_q()),
            next_unscheduled_due=Min("due_date", filter=Q(status=UNSCHEDULED_STATUS)),
        )
        .order_by()
    )
    for row in counts:
        expected[row.pop("plan_id")].update(row)
    undiscussed = (
        PlanGuidance.objects.filter(acknowledged_at__isnull=True)
        .values("plan_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in undiscussed:
        expected[row["plan_id"]]["undiscussed_guidance_count"] = row["n"]
    return expected


def _cents(amount: Decimal | float | None) -> int:
    # SQLite hands back floats; rounding to cents makes both databases agree.
    value = Decimal(str(amount or 0)) * 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_daily_totals() -> dict[tuple, dict]:
    """Per (manager, archived, day, currency): what is due that day and what is booked for it."""
    expected: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(TOTALS_FIELDS, 0))
    rows = Assignment.objects.values(
        "due_date",
        "scheduled_for",
        "status",
        "paid_by",
        "tuition_cost",
        currency=F("course__currency"),
        manager_id=F("plan__hire__hiring_manager_id"),
        archived_at=F("plan__hire__archived_at"),
    ).iterator(chunk_size=5000)
    for row in rows:
        manager, archived = row["manager_id"], row["archived_at"] is not None
        totals = expected[(manager, archived, row["due_date"], row["currency"])]
        status = row["status"]
        if is_open(status):
            totals["open_due_count"] += 1
        if status != UNSPENT_STATUS:
            if row["scheduled_for"] is not None:
                session_day = (manager, archived, row["scheduled_for"], row["currency"])
                expected[session_day]["sessions_count"] += 1
            if row["paid_by"] == Assignment.PaidBy.EMPLOYER:
                totals["employer_tuition_cents"] += _cents(row["tuition_cost"])
            elif row["paid_by"] == Assignment.PaidBy.HIRE:
                totals["hire_tuition_cents"] += _cents(row["tuition_cost"])
    return dict(expected)


def differences() -> list[str]:
    """Every stored rollup value that differs from a recount, in words."""
    found = []
    expected = expected_plan_progress()
    stored = {
        row.pop("plan_id"): row for row in PlanProgress.objects.values("plan_id", *PROGRESS_FIELDS)
    }
    for plan_id in sorted(expected.keys() | stored.keys()):
        want, have = expected.get(plan_id), stored.get(plan_id)
        if have is None:
            found.append(f"plan {plan_id}: no progress row")
        elif want is None:
            found.append(f"plan {plan_id}: progress row for a plan that does not exist")
        else:
            for field in PROGRESS_FIELDS:
                if want[field] != have[field]:
                    found.append(
                        f"plan {plan_id}: {field} is {have[field]}, should be {want[field]}"
                    )

    zero = dict.fromkeys(TOTALS_FIELDS, 0)
    expected_totals = expected_daily_totals()
    stored_totals = {
        (
            row.pop("hiring_manager_id"),
            row.pop("hire_archived"),
            row.pop("day"),
            row.pop("currency"),
        ): row
        for row in DailyTotals.objects.values(
            "hiring_manager_id", "hire_archived", "day", "currency", *TOTALS_FIELDS
        )
    }
    for key in sorted(expected_totals.keys() | stored_totals.keys(), key=str):
        want, have = expected_totals.get(key, zero), stored_totals.get(key, zero)
        for field in TOTALS_FIELDS:
            if want[field] != have[field]:
                manager, archived, day, currency = key
                found.append(
                    f"day {day}, manager {manager}{' (archived)' if archived else ''}, "
                    f"{currency}: "
                    f"{field} is {have[field]}, should be {want[field]}"
                )
    return found


def rebuild() -> None:
    """Recount both tables from scratch (set-based, with the triggers' own SELECTs)."""
    triggers.rebuild(connection)


def compact() -> None:
    """Rewrite the rollup tables after a bulk load (PostgreSQL; nothing to do on SQLite).

    A load in one transaction updates the same rollup rows once per statement,
    and none of the old row versions can be reclaimed before it commits: 6,000
    daily rows once filled 77 MB, and every dashboard read scanned them all.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # VACUUM cannot run inside a transaction (a test's, say); there is nothing
        # to reclaim before it commits anyway.
        return
    tables = "onboarding_planprogress, onboarding_dailytotals"
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (FULL) {tables}")
        # FULL leaves the visibility map empty, and index-only scans (the cohort
        # chart's) would then read every row from the table: a plain VACUUM sets it.
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
