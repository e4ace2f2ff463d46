"""QuerySets: which rows a user may see (`visible_to`), and the rules as filters.

Scoping is defined here once; the rules themselves (open, overdue, due soon,
health) come from rules.py. Both are used by the dashboard, the admin, exports
and reminders alike.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import models
from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from .rules import (
    can_view_all,
    check_in_due_within_q,
    check_in_open_q,
    check_in_overdue_q,
    due_within_q,
    health_expression,
    open_q,
    overdue_q,
    percent_expression,
    today_or,
)

if TYPE_CHECKING:
    from .models import User


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


class ScopedQuerySet(models.QuerySet):
    """Rows a user may see: their own hires' rows, or all of them for people-ops."""

    manager_lookup: str = ""

    def visible_to(self, user: User):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_view_all(user):
            return self
        return self.filter(**{self.manager_lookup: user})


class HireImportQuerySet(ScopedQuerySet):
    # An import run is seen by the person who started it (and people-ops).
    manager_lookup = "created_by"


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
        start = today_or(today)
        return self.filter(
            expires_on__gte=start, expires_on__lte=start + datetime.timedelta(days=days)
        )

    def expired(self, today: datetime.date | None = None):
        return self.filter(expires_on__lt=today_or(today))


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


class CheckInQuerySet(ScopedQuerySet):
    manager_lookup = "hire__hiring_manager"

    def open(self):
        return self.filter(check_in_open_q())

    def overdue(self, today: datetime.date | None = None):
        return self.filter(check_in_overdue_q(today))

    def due_within(self, days: int, today: datetime.date | None = None):
        return self.filter(check_in_due_within_q(days, today))

    def completed(self):
        return self.filter(completed_at__isnull=False)


class CompetencyRatingQuerySet(ScopedQuerySet):
    manager_lookup = "check_in__hire__hiring_manager"


class HireInvitationQuerySet(ScopedQuerySet):
    manager_lookup = "hire__hiring_manager"

    def pending(self, now=None):
        from django.utils import timezone

        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )


class EvidenceQuerySet(ScopedQuerySet):
    """Evidence of an assignment or of a held certification: scoped through either."""

    def visible_to(self, user: User):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_view_all(user):
            return self
        return self.filter(
            Q(assignment__plan__hire__hiring_manager=user)
            | Q(held_certification__hire__hiring_manager=user)
        )

    def of_hire_account(self, user: User):
        """The evidence of the hire whose own account `user` is."""
        return self.filter(
            Q(assignment__plan__hire__account=user) | Q(held_certification__hire__account=user)
        )

    def to_review(self):
        return self.filter(reviewed_at__isnull=True)


class CourseFeedbackQuerySet(ScopedQuerySet):
    manager_lookup = "assignment__plan__hire__hiring_manager"


class ApiTokenQuerySet(models.QuerySet):
    """A token is its user's: people-ops see every token (to revoke a leaked one), others
    only their own."""

    def visible_to(self, user: User):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_view_all(user):
            return self
        return self.filter(user=user)
