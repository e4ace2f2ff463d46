"""Numbers and chart data for the dashboard home.

Every figure is one aggregate query over rows the user may see (`visible_to`),
so the cost of the home page does not grow with the number of hires. Rules such
as "overdue" and "health" come from querysets.py; nothing here re-defines them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from . import expiry
from .models import Assignment, HeldCertification, NewHire, PlanGuidance, TrainingPlan, User
from .querysets import overdue_q

# Hires who start this soon without a plan need one now.
PLAN_NEEDED_WITHIN_DAYS = 14
# "Training sessions coming up" looks this far ahead.
SESSIONS_WITHIN_DAYS = 30
# How many rows each "needs attention" list shows; the card gives the full count.
ATTENTION_LIMIT = 8
COHORT_MONTHS = 12

DONE_STATUSES = [Assignment.Status.COMPLETED, Assignment.Status.WAIVED]


def _active_assignments(user: User):
    # Archived hires are out of the day-to-day picture everywhere on the home page.
    return Assignment.objects.visible_to(user).filter(plan__hire__archived_at__isnull=True)


def _spent_q() -> Q:
    """Tuition that is (or will be) spent: a waived course costs nothing."""
    return ~Q(status=Assignment.Status.WAIVED) & Q(tuition_cost__isnull=False)


@dataclass(frozen=True)
class Cards:
    active_hires: int
    plans_on_track: int
    plans_at_risk: int
    plans_overdue: int
    plans_complete: int
    overdue_assignments: int
    sessions_soon: int
    employer_tuition_this_year: Decimal
    year: int


def cards(user: User, today: datetime.date | None = None) -> Cards:
    """The summary cards: four queries whatever the data size."""
    today = today or timezone.localdate()
    active_hires = NewHire.objects.visible_to(user).active().count()

    # Health is an aggregate per plan; counting plans per health needs the per-plan
    # query as a subquery, which Django builds when aggregating over annotations.
    plans = (
        TrainingPlan.objects.visible_to(user)
        .filter(hire__archived_at__isnull=True)
        .with_progress(today)
    )
    health = plans.aggregate(
        on_track=Count("pk", filter=Q(health="on_track")),
        at_risk=Count("pk", filter=Q(health="at_risk")),
        overdue=Count("pk", filter=Q(health="overdue")),
        complete=Count("pk", filter=Q(health="complete")),
    )

    sessions_end = today + datetime.timedelta(days=SESSIONS_WITHIN_DAYS)
    figures = _active_assignments(user).aggregate(
        overdue=Count("pk", filter=overdue_q(today)),
        sessions=Count(
            "pk",
            filter=Q(scheduled_for__gte=today, scheduled_for__lte=sessions_end)
            & ~Q(status=Assignment.Status.WAIVED),
        ),
        tuition=Sum(
            "tuition_cost",
            filter=_spent_q() & Q(paid_by=Assignment.PaidBy.EMPLOYER, due_date__year=today.year),
        ),
    )
    return Cards(
        active_hires=active_hires,
        plans_on_track=health["on_track"] or 0,
        plans_at_risk=health["at_risk"] or 0,
        plans_overdue=health["overdue"] or 0,
        plans_complete=health["complete"] or 0,
        overdue_assignments=figures["overdue"] or 0,
        sessions_soon=figures["sessions"] or 0,
        employer_tuition_this_year=figures["tuition"] or Decimal("0"),
        year=today.year,
    )


@dataclass(frozen=True)
class Attention:
    overdue: list[Assignment]
    hires_without_plan: list[NewHire]
    guidance_plans: list[TrainingPlan]
    guidance_total: int
    certifications: list[HeldCertification]

    @property
    def empty(self) -> bool:
        return not (
            self.overdue or self.hires_without_plan or self.guidance_plans or self.certifications
        )


def attention(
    user: User, today: datetime.date | None = None, limit: int = ATTENTION_LIMIT
) -> Attention:
    """What needs the manager now: a few rows of each kind, in bounded queries.

    The number of overdue assignments is on the summary card (Cards), so it is
    not counted twice here.
    """
    today = today or timezone.localdate()
    overdue_rows = list(
        _active_assignments(user)
        .filter(overdue_q(today))
        .select_related("course", "plan__hire")
        .order_by("due_date", "pk")[:limit]
    )

    soon = today + datetime.timedelta(days=PLAN_NEEDED_WITHIN_DAYS)
    has_plan = TrainingPlan.objects.filter(hire=OuterRef("pk"))
    hires_without_plan = list(
        NewHire.objects.visible_to(user)
        .active()
        .filter(start_date__gte=today, start_date__lte=soon)
        .filter(~Exists(has_plan))
        .order_by("start_date", "pk")[:limit]
    )

    # One row per plan (every plan starts with undiscussed guidance, so listing each
    # attachment would drown the list). Pick the plans first, then count their
    # undiscussed guidance: grouping every plan to show a handful is the slow way.
    undiscussed = PlanGuidance.objects.filter(acknowledged_at__isnull=True)
    guidance = (
        TrainingPlan.objects.visible_to(user)
        .filter(hire__archived_at__isnull=True)
        .filter(Exists(undiscussed.filter(plan=OuterRef("pk"))))
    )
    guidance_plans = list(
        guidance.select_related("hire").order_by("hire__start_date", "pk")[:limit]
    )
    counts = dict(
        undiscussed.filter(plan__in=[plan.pk for plan in guidance_plans])
        .values_list("plan")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for plan in guidance_plans:
        plan.undiscussed_count = counts.get(plan.pk, 0)
    certifications = list(
        expiry.needing_attention(
            HeldCertification.objects.visible_to(user).filter(hire__archived_at__isnull=True),
            today,
        )
        .select_related("hire", "certification")
        .order_by("expires_on", "pk")[:limit]
    )
    return Attention(
        overdue=overdue_rows,
        hires_without_plan=hires_without_plan,
        guidance_plans=guidance_plans,
        guidance_total=guidance.count(),
        certifications=certifications,
    )


def _month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """First day of the month `back` months before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def cohort_completion(user: User, today: datetime.date | None = None) -> list[dict]:
    """Share of assignments completed or waived, by the hires' start month.

    Covers the last COHORT_MONTHS months of start dates (this month included);
    a month without assignments has `percent` None (nothing to measure).
    """
    today = today or timezone.localdate()
    first = _month_start(today, COHORT_MONTHS - 1)
    last = _month_start(today, -1) - datetime.timedelta(days=1)
    # Grouped by start day in SQL, folded into months here: SQLite's month truncation
    # is a Python callback per row, far slower than grouping on the raw date.
    rows = (
        _active_assignments(user)
        .filter(plan__hire__start_date__gte=first, plan__hire__start_date__lte=last)
        .values("plan__hire__start_date")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(status__in=DONE_STATUSES)),
            # A hire has one start date, so per-day distinct counts add up exactly.
            hires=Count("plan__hire", distinct=True),
        )
        .order_by()
    )
    by_month: dict[datetime.date, dict[str, int]] = {}
    for row in rows:
        month = row["plan__hire__start_date"].replace(day=1)
        sums = by_month.setdefault(month, {"total": 0, "done": 0, "hires": 0})
        for key in sums:
            sums[key] += row[key]
    cohorts = []
    for back in range(COHORT_MONTHS - 1, -1, -1):
        month = _month_start(today, back)
        row = by_month.get(month, {})
        total, done = row.get("total", 0), row.get("done", 0)
        cohorts.append(
            {
                "label": month.strftime("%b %Y"),
                "month": month.isoformat(),
                "hires": row.get("hires", 0),
                "total": total,
                "done": done,
                "percent": round(done * 100 / total) if total else None,
            }
        )
    return cohorts


def tuition_by_quarter(user: User, today: datetime.date | None = None) -> dict:
    """Employer-paid and hire-paid tuition per quarter of this year and the last.

    A quarter is that of the assignment's due date (as in the tuition export);
    waived courses cost nothing and are left out.
    """
    today = today or timezone.localdate()
    years = [today.year - 1, today.year]
    rows = (
        _active_assignments(user)
        .filter(_spent_q())
        .filter(
            due_date__gte=datetime.date(years[0], 1, 1),
            due_date__lte=datetime.date(years[1], 12, 31),
            paid_by__in=[Assignment.PaidBy.EMPLOYER, Assignment.PaidBy.HIRE],
        )
        # By day in SQL, folded into quarters here (see cohort_completion for why).
        .values("due_date", "paid_by")
        .annotate(total=Sum("tuition_cost"))
        .order_by()
    )
    sums: dict[tuple[int, int, str], Decimal] = {}
    for row in rows:
        due = row["due_date"]
        key = (due.year, (due.month - 1) // 3 + 1, row["paid_by"])
        sums[key] = sums.get(key, Decimal(0)) + (row["total"] or Decimal(0))
    quarters = []
    for year in years:
        for quarter in range(1, 5):
            employer = sums.get((year, quarter, Assignment.PaidBy.EMPLOYER), Decimal(0))
            hire = sums.get((year, quarter, Assignment.PaidBy.HIRE), Decimal(0))
            quarters.append(
                {
                    "label": f"Q{quarter} {year}",
                    "employer": float(employer),
                    "hire": float(hire),
                    "total": float(employer + hire),
                }
            )
    return {"years": years, "quarters": quarters}
