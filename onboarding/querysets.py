"""QuerySets: the one place each rule about *which rows* lives.

Scoping (`visible_to`), overdue, due soon, progress and health are defined here
once and used by the dashboard, the admin, exports and reminders alike.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import models
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

if TYPE_CHECKING:
    from .models import User

VIEW_ALL_PERMISSION = "onboarding.view_all_hires"

# An open assignment due within this many days that nobody has scheduled or
# started yet puts its plan at risk.
AT_RISK_WINDOW_DAYS = 14

HEALTH_RULES = {
    "complete": "Every assignment is completed or waived.",
    "on_track": "Nothing is overdue and nothing due in the next "
    f"{AT_RISK_WINDOW_DAYS} days is still unscheduled.",
    "at_risk": f"An assignment due within {AT_RISK_WINDOW_DAYS} days is neither scheduled "
    "nor started, or the plan has no assignments yet.",
    "overdue": "At least one assignment is past its due date and neither completed nor waived.",
    "no_plan": "The hire has no training plan yet.",
}


def can_view_all(user: User) -> bool:
    return user.is_active and user.has_perm(VIEW_ALL_PERMISSION)


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def open_q(prefix: str = "") -> Q:
    """An assignment that still needs doing: neither completed nor waived."""
    return ~Q(**{f"{prefix}status__in": ["completed", "waived"]})


def overdue_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    """The single definition of overdue: due before today and still open."""
    return Q(**{f"{prefix}due_date__lt": _today(today)}) & open_q(prefix)


def due_within_q(days: int, today: datetime.date | None = None, prefix: str = "") -> Q:
    """Open and due between today and `days` days from now, both included."""
    start = _today(today)
    end = start + datetime.timedelta(days=days)
    return Q(**{f"{prefix}due_date__gte": start, f"{prefix}due_date__lte": end}) & open_q(prefix)


def at_risk_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    return due_within_q(AT_RISK_WINDOW_DAYS, today, prefix) & Q(**{f"{prefix}status": "assigned"})


def progress_annotations(prefix: str, *, across_plans: bool) -> dict:
    """Counts and dates from the PlanProgress rows reached through `prefix`.

    A plan has one progress row (`prefix` "rollup__"); a hire's rows are summed
    over its plans ("plans__rollup__"). The join is a chain of one-to-one and
    one-to-many links with no second many-side, so nothing is counted twice.
    """
    fields = ["total_count", "completed_count", "waived_count"]
    dates = ["next_open_due", "next_unscheduled_due"]
    if across_plans:
        counts = {name: Coalesce(Sum(f"{prefix}{name}"), 0) for name in fields}
        return counts | {name: Min(f"{prefix}{name}") for name in dates}
    counts = {name: Coalesce(F(f"{prefix}{name}"), 0) for name in fields}
    return counts | {name: F(f"{prefix}{name}") for name in dates}


def percent_expression() -> Case:
    """Completed share of the assignments that still count (waived ones do not)."""
    return Case(
        When(
            total_count__gt=F("waived_count"),
            then=F("completed_count") * 100 / (F("total_count") - F("waived_count")),
        ),
        When(total_count__gt=0, then=Value(100)),
        default=Value(0),
        output_field=IntegerField(),
    )


def health_expression(today: datetime.date | None = None, no_plan_q: Q | None = None) -> Case:
    """HEALTH_RULES over progress_annotations().

    The earliest open due date before today means something is overdue. Once
    nothing is overdue, no open assignment is due before today, so the earliest
    'assigned' due date falling inside the window is exactly at_risk_q.
    """
    today = _today(today)
    risk_end = today + datetime.timedelta(days=AT_RISK_WINDOW_DAYS)
    whens = []
    if no_plan_q is not None:
        whens.append(When(no_plan_q, then=Value("no_plan")))
    whens += [
        When(next_open_due__lt=today, then=Value("overdue")),
        When(total_count=0, then=Value("at_risk")),
        When(total_count=F("completed_count") + F("waived_count"), then=Value("complete")),
        When(next_unscheduled_due__lte=risk_end, then=Value("at_risk")),
    ]
    return Case(*whens, default=Value("on_track"), output_field=models.CharField())


def overdue_count_subquery(outer: str, today: datetime.date | None = None) -> Coalesce:
    """How many overdue assignments the outer row has; `outer` leads from an assignment to it.

    A subquery, not a join, so it can sit beside the progress sums without
    multiplying them. Only pages that print the number ask for it.
    """
    assignment = apps.get_model("onboarding", "Assignment")
    rows = (
        assignment.objects.filter(overdue_q(today), **{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def health_of(
    *, total: int, completed: int, waived: int, overdue: int, at_risk: int, plans: int = 1
) -> str:
    """The same rule as health_expression, for counts already in Python."""
    if plans == 0:
        return "no_plan"
    if overdue:
        return "overdue"
    if total == 0:
        return "at_risk"
    if total == completed + waived:
        return "complete"
    if at_risk:
        return "at_risk"
    return "on_track"


def percent_of(*, total: int, completed: int, waived: int) -> int:
    if total > waived:
        return completed * 100 // (total - waived)
    return 100 if total else 0


class ScopedQuerySet(models.QuerySet):
    """Rows a user may see: their own hires' rows, or all of them for people-ops."""

    manager_lookup: str = ""

    def visible_to(self, user: User):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_view_all(user):
            return self
        return self.filter(**{self.manager_lookup: user})


class NewHireQuerySet(ScopedQuerySet):
    manager_lookup = "hiring_manager"

    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def with_progress(self, today: datetime.date | None = None):
        return (
            self.annotate(
                plan_count=Count("plans"),
                **progress_annotations("plans__rollup__", across_plans=True),
            )
            .annotate(percent_complete=percent_expression())
            .annotate(health=health_expression(today, Q(plan_count=0)))
        )

    def with_overdue_count(self, today: datetime.date | None = None):
        return self.annotate(overdue_count=overdue_count_subquery("plan__hire", today))

    def search(self, text: str):
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(full_name__icontains=text) | Q(email__icontains=text))


class TrainingPlanQuerySet(ScopedQuerySet):
    manager_lookup = "hire__hiring_manager"

    def with_progress(self, today: datetime.date | None = None):
        return (
            self.annotate(**progress_annotations("rollup__", across_plans=False))
            .annotate(percent_complete=percent_expression())
            .annotate(health=health_expression(today))
        )

    def with_overdue_count(self, today: datetime.date | None = None):
        return self.annotate(overdue_count=overdue_count_subquery("plan", today))


class AssignmentQuerySet(ScopedQuerySet):
    manager_lookup = "plan__hire__hiring_manager"

    def open(self):
        return self.filter(open_q())

    def overdue(self, today: datetime.date | None = None):
        return self.filter(overdue_q(today))

    def due_within(self, days: int, today: datetime.date | None = None):
        return self.filter(due_within_q(days, today))


class HeldCertificationQuerySet(ScopedQuerySet):
    manager_lookup = "hire__hiring_manager"

    def expiring_within(self, days: int, today: datetime.date | None = None):
        start = _today(today)
        return self.filter(
            expires_on__gte=start, expires_on__lte=start + datetime.timedelta(days=days)
        )

    def expired(self, today: datetime.date | None = None):
        return self.filter(expires_on__lt=_today(today))


class RollupQuerySet(ScopedQuerySet):
    """The rollup tables carry the hire's manager and archived state: no joins."""

    manager_lookup = "hiring_manager"

    def active(self):
        return self.filter(hire_archived=False)


class PlanProgressQuerySet(RollupQuerySet):
    def with_health(self, today: datetime.date | None = None):
        return self.annotate(health=health_expression(today))


class DailyTotalsQuerySet(RollupQuerySet):
    pass


class PlanGuidanceQuerySet(ScopedQuerySet):
    manager_lookup = "plan__hire__hiring_manager"

    def not_discussed(self):
        return self.filter(acknowledged_at__isnull=True)
