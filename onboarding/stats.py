"""Numbers and chart data for the dashboard home.

Every figure is one aggregate query over rows the user may see (`visible_to`),
so the cost of the home page does not grow with the number of hires. Rules such
as "overdue" and "health" come from rules.py; nothing here re-defines them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from . import expiry, selectors
from .filters import HireFilterSet
from .models import (
    Assignment,
    CheckIn,
    CourseFeedback,
    DailyTotals,
    Evidence,
    HeldCertification,
    NewHire,
    PlanProgress,
    TrainingPlan,
    User,
)
from .rules import (
    DUE_SOON_DAYS,
    Health,
    can_view_all,
    check_in_due_within_q,
    check_in_overdue_q,
    overdue_cutoff,
    overdue_q,
)

# Hires who start this soon without a plan need one now.
PLAN_NEEDED_WITHIN_DAYS = 14
# Feedback from hires stays under "Needs attention" this long.
FEEDBACK_RECENT_DAYS = 14
# "Training sessions coming up" looks this far ahead.
SESSIONS_WITHIN_DAYS = 30
# How many rows each "needs attention" list shows; the card gives the full count.
ATTENTION_LIMIT = 8
COHORT_MONTHS = 12
# The tuition chart looks this many quarters back from this one (two years in all),
# and this many ahead for courses already booked.
TUITION_PAST_QUARTERS = 7
TUITION_FUTURE_QUARTERS = 4


def _active_assignments(user: User):
    # Archived hires are out of the day-to-day picture everywhere on the home page.
    return Assignment.objects.visible_to(user).filter(plan__hire__archived_at__isnull=True)


def _from_cents(cents: int | None) -> Decimal:
    return Decimal(cents or 0) / 100


@dataclass(frozen=True)
class Cards:
    active_hires: int
    plans_on_track: int
    plans_at_risk: int
    plans_overdue: int
    plans_complete: int
    overdue_assignments: int
    sessions_soon: int
    # Currency -> amount, in currency order; amounts in different currencies are never added.
    employer_tuition_this_year: dict[str, Decimal]
    year: int
    plans_with_undiscussed_guidance: int
    hires_below_expectations: int


def cards(
    user: User, today: datetime.date | None = None, *, active_hires: int | None = None
) -> Cards:
    """The summary cards: four queries whatever the data size.

    `active_hires` may be given when the caller has already counted them (the home
    page's unfiltered hires table has).
    """
    today = today or timezone.localdate()
    if active_hires is None:
        active_hires = NewHire.objects.visible_to(user).active().count()

    # Each plan's progress row carries its health inputs and its hire's manager and
    # archived flag: one table, one row per plan, no assignments and no joins.
    health = (
        PlanProgress.objects.visible_to(user)
        .active()
        .with_health(today)
        .aggregate(
            on_track=Count("pk", filter=Q(health=Health.ON_TRACK)),
            at_risk=Count("pk", filter=Q(health=Health.AT_RISK)),
            overdue=Count("pk", filter=Q(health=Health.OVERDUE)),
            complete=Count("pk", filter=Q(health=Health.COMPLETE)),
            guidance=Count("pk", filter=Q(undiscussed_guidance_count__gt=0)),
        )
    )

    # Overdue means open and due before the cutoff (rules.overdue_cutoff). The
    # daily totals hold per day what is due and what is booked, so each figure
    # sums a few thousand rows.
    # One grouped query: a row per currency, whose counts add up across currencies
    # while the money stays apart.
    sessions_end = today + datetime.timedelta(days=SESSIONS_WITHIN_DAYS)
    per_currency = list(
        DailyTotals.objects.visible_to(user)
        .active()
        .values("currency")
        .annotate(
            overdue=Sum("open_due_count", filter=Q(day__lt=overdue_cutoff(today))),
            sessions=Sum("sessions_count", filter=Q(day__gte=today, day__lte=sessions_end)),
            cents=Sum(
                "employer_tuition_cents",
                filter=Q(
                    day__gte=datetime.date(today.year, 1, 1),
                    day__lte=datetime.date(today.year, 12, 31),
                ),
            ),
        )
        .order_by("currency")
    )
    return Cards(
        active_hires=active_hires,
        plans_on_track=health["on_track"] or 0,
        plans_at_risk=health["at_risk"] or 0,
        plans_overdue=health["overdue"] or 0,
        plans_complete=health["complete"] or 0,
        overdue_assignments=sum(row["overdue"] or 0 for row in per_currency),
        sessions_soon=sum(row["sessions"] or 0 for row in per_currency),
        employer_tuition_this_year={
            row["currency"]: _from_cents(row["cents"]) for row in per_currency if row["cents"]
        },
        year=today.year,
        plans_with_undiscussed_guidance=health["guidance"] or 0,
        hires_below_expectations=selectors.below_expectations_at_day_90(user).count(),
    )


@dataclass(frozen=True)
class Attention:
    overdue: list[Assignment]
    hires_without_plan: list[NewHire]
    guidance_plans: list[TrainingPlan]
    certifications: list[HeldCertification]
    check_ins: list[CheckIn]
    check_ins_count: int
    evidence: list[Evidence]
    feedback: list[CourseFeedback]

    @property
    def empty(self) -> bool:
        return not (
            self.overdue
            or self.hires_without_plan
            or self.guidance_plans
            or self.certifications
            or self.check_ins
            or self.evidence
            or self.feedback
        )


def attention(
    user: User, today: datetime.date | None = None, limit: int = ATTENTION_LIMIT
) -> Attention:
    """What needs the manager now: a few rows of each kind, in bounded queries.

    The number of overdue assignments is on the summary card (Cards), so it is
    not counted twice here.
    """
    today = today or timezone.localdate()
    # The lists load only the columns home.html shows: compiling a select_related of
    # every column of four tables cost more than running the query.
    overdue_rows = list(
        _active_assignments(user)
        .filter(overdue_q(today))
        .select_related("course", "plan__hire")
        .only("due_date", "plan__hire__full_name", "course__title")
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
    # attachment would drown the list); the progress row holds the count.
    guidance = (
        PlanProgress.objects.visible_to(user).active().filter(undiscussed_guidance_count__gt=0)
    )
    guidance_plans = list(
        TrainingPlan.objects.filter(
            pk__in=guidance.order_by("hire_start_date", "plan_id").values("plan_id")[:limit]
        )
        .select_related("hire")
        .annotate(undiscussed_count=F("rollup__undiscussed_guidance_count"))
        .order_by("hire__start_date", "pk")
    )
    certifications = list(
        expiry.needing_attention(
            HeldCertification.objects.visible_to(user).filter(hire__archived_at__isnull=True),
            today,
        )
        .select_related("hire", "certification")
        .order_by("expires_on", "pk")[:limit]
    )
    # Check-ins overdue or due within DUE_SOON_DAYS, the oldest first.
    check_ins = CheckIn.objects.visible_to(user).filter(
        Q(check_in_overdue_q(today)) | Q(check_in_due_within_q(DUE_SOON_DAYS, today)),
        hire__archived_at__isnull=True,
    )
    return Attention(
        overdue=overdue_rows,
        hires_without_plan=hires_without_plan,
        guidance_plans=guidance_plans,
        certifications=certifications,
        check_ins=list(check_ins.select_related("hire").order_by("due_date", "pk")[:limit]),
        check_ins_count=check_ins.count(),
        # What hires sent from their own page: files to look at, and what they said.
        evidence=list(
            Evidence.objects.visible_to(user)
            .to_review()
            .filter(assignment__plan__hire__archived_at__isnull=True)
            .select_related("assignment__course", "assignment__plan__hire")
            .only(
                "original_name",
                "uploaded_at",
                "assignment__course__title",
                "assignment__plan__hire__full_name",
            )
            .order_by("-uploaded_at", "-pk")[:limit]
        ),
        # The recent feedback is picked first (IN a subquery): joined plainly, SQLite with
        # fresh statistics and little feedback started from every plan instead (22 ms at
        # 10,000 hires for no rows at all).
        feedback=list(
            CourseFeedback.objects.visible_to(user)
            .filter(
                pk__in=CourseFeedback.objects.filter(
                    submitted_at__gte=timezone.now() - datetime.timedelta(days=FEEDBACK_RECENT_DAYS)
                ).values("pk"),
                assignment__plan__hire__archived_at__isnull=True,
            )
            .select_related("assignment__course", "assignment__plan__hire")
            .only(
                "usefulness",
                "submitted_at",
                "assignment__course__title",
                "assignment__plan__hire__full_name",
            )
            .order_by("-submitted_at", "-pk")[:limit]
        ),
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
    # From the plans' progress rows, not the assignments: a tenth of the rows.
    # Grouped by start day in SQL, folded into months here: SQLite's month truncation
    # is a Python callback per row, far slower than grouping on the raw date.
    rows = (
        PlanProgress.objects.visible_to(user)
        .active()
        .filter(hire_start_date__gte=first, hire_start_date__lte=last)
        .values("hire_start_date")
        .annotate(
            total=Sum("total_count"),
            done=Sum("completed_count") + Sum("waived_count"),
            # A hire has one start date, so per-day distinct counts add up exactly.
            hires=Count("hire", distinct=True),
        )
        .order_by()
    )
    by_month: dict[datetime.date, dict[str, int]] = {}
    for row in rows:
        month = row["hire_start_date"].replace(day=1)
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


def _quarter_index(day: datetime.date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def _quarter_start(index: int) -> datetime.date:
    return datetime.date(index // 4, index % 4 * 3 + 1, 1)


def tuition_by_quarter(user: User, today: datetime.date | None = None) -> dict:
    """Employer-paid and hire-paid tuition per quarter, per currency.

    A quarter is that of the assignment's due date (as in the tuition export);
    waived courses cost nothing and are left out. The quarters run from the first
    with tuition (at most TUITION_PAST_QUARTERS back) to the last with tuition
    booked (at most TUITION_FUTURE_QUARTERS ahead), always including this one: empty
    quarters before any spend are not drawn, and next quarter's booked courses are.
    Each currency has its own quarters (`currencies`, in currency order): amounts are
    never added across currencies.
    """
    today = today or timezone.localdate()
    current = _quarter_index(today)
    window = (current - TUITION_PAST_QUARTERS, current + TUITION_FUTURE_QUARTERS)
    # The totals hold non-waived tuition per due date, payer and currency, in cents.
    rows = (
        DailyTotals.objects.visible_to(user)
        .active()
        .filter(
            day__gte=_quarter_start(window[0]),
            day__lt=_quarter_start(window[1] + 1),
        )
        # By day in SQL, folded into quarters here (see cohort_completion for why).
        .values("day", "currency")
        .annotate(employer=Sum("employer_tuition_cents"), hire=Sum("hire_tuition_cents"))
        .order_by()
    )
    sums: dict[tuple[str, int, str], Decimal] = {}
    for row in rows:
        for payer in (Assignment.PaidBy.EMPLOYER, Assignment.PaidBy.HIRE):
            key = (row["currency"], _quarter_index(row["day"]), payer)
            sums[key] = sums.get(key, Decimal(0)) + _from_cents(row[payer])
    spent = {key[1] for key, amount in sums.items() if amount}
    first, last = min(spent | {current}), max(spent | {current})
    currencies = []
    for currency in sorted({key[0] for key, amount in sums.items() if amount}):
        quarters = []
        for index in range(first, last + 1):
            employer = sums.get((currency, index, Assignment.PaidBy.EMPLOYER), 0)
            hire = sums.get((currency, index, Assignment.PaidBy.HIRE), 0)
            quarters.append(
                {
                    "label": f"Q{index % 4 + 1} {index // 4}",
                    "employer": float(employer),
                    "hire": float(hire),
                    "total": float(employer + hire),
                }
            )
        currencies.append({"currency": currency, "quarters": quarters})
    return {
        "first": f"Q{first % 4 + 1} {first // 4}",
        "last": f"Q{last % 4 + 1} {last // 4}",
        "currencies": currencies,
    }


@dataclass
class ManagerRow:
    """One hiring manager's line of the people-ops breakdown."""

    manager: User
    hires: int
    overdue: int
    at_risk: int


def manager_breakdown(user: User, today: datetime.date | None = None) -> list[ManagerRow]:
    """Active hires, hires with overdue training and hires at risk, per hiring manager,
    for those who see every hire (empty for a manager).

    Each figure is a count of the hires list with the same filter (HireFilterSet), so
    the numbers are exactly what their links show: three grouped queries and one for
    the managers, whatever the number of hires.
    """
    if not can_view_all(user):
        return []

    def per_manager(**filters: str) -> dict[int, int]:
        found = HireFilterSet(filters, queryset=NewHire.objects.visible_to(user), user=user)
        return dict(
            found.qs.order_by()
            .values_list("hiring_manager")
            .annotate(n=Count("pk"))
            .values_list("hiring_manager", "n")
        )

    hires = per_manager()
    overdue = per_manager(has_overdue="true")
    at_risk = per_manager(health=Health.AT_RISK)
    rows = [
        ManagerRow(
            manager=manager,
            hires=hires[manager.pk],
            overdue=overdue.get(manager.pk, 0),
            at_risk=at_risk.get(manager.pk, 0),
        )
        for manager in User.objects.filter(pk__in=hires)
    ]
    # Who needs a look first: most overdue, then most at risk.
    rows.sort(key=lambda row: (-row.overdue, -row.at_risk, str(row.manager).casefold()))
    return rows
