"""The rules of the product, each written once.

What counts as open, overdue, due soon and at risk; how a plan's health is worked
out and what each health is called; when check-ins are due and what the ramp gap
is; who sees every hire and who may manage one.
QuerySets, the rollup triggers' SQL (onboarding/triggers.py), stats, filters,
templates, the admin, exports and reminders all read these definitions, so a
rule changed here changes everywhere, or a test fails.

To change what counts as overdue, edit `overdue_cutoff()` (the first due date
that is not yet overdue) or `CLOSED_STATUSES` (what no longer needs doing).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import User


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    WAIVED = "waived", "Waived"


# An assignment in one of these needs nothing more: it is closed. Every other
# status is open.
CLOSED_STATUSES = (AssignmentStatus.COMPLETED, AssignmentStatus.WAIVED)
OPEN_STATUSES = tuple(s for s in AssignmentStatus if s not in CLOSED_STATUSES)
# Open and nobody has booked or started it yet: what "at risk" looks for.
UNSCHEDULED_STATUS = AssignmentStatus.ASSIGNED
# Waived training costs nothing and books no session.
UNSPENT_STATUS = AssignmentStatus.WAIVED

# An open assignment due within this many days that nobody has scheduled or
# started yet puts its plan at risk.
AT_RISK_WINDOW_DAYS = 14
# "Due soon" (the daily digest's list): open and due within this many days.
DUE_SOON_DAYS = 7


class Health(models.TextChoices):
    """A plan's (or hire's) health, in the order lists show and sort them: worst first."""

    OVERDUE = "overdue", "Overdue"
    AT_RISK = "at_risk", "At risk"
    ON_TRACK = "on_track", "On track"
    COMPLETE = "complete", "Complete"
    NO_PLAN = "no_plan", "No plan"


HEALTH_RULES = {
    Health.OVERDUE: "At least one assignment is past its due date and neither completed "
    "nor waived.",
    Health.AT_RISK: f"An assignment due within {AT_RISK_WINDOW_DAYS} days is neither scheduled "
    "nor started, or the plan has no assignments yet.",
    Health.ON_TRACK: "Nothing is overdue and nothing due in the next "
    f"{AT_RISK_WINDOW_DAYS} days is still unscheduled.",
    Health.COMPLETE: "Every assignment is completed or waived.",
    Health.NO_PLAN: "The hire has no training plan yet.",
}
HEALTH_LABELS = dict(Health.choices)

# --- dates -------------------------------------------------------------------------------


def today_or(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def overdue_cutoff(today: datetime.date | None = None) -> datetime.date:
    """An open assignment due before this date is overdue.

    The one definition of overdue: the ORM filter, the plan health, the rollup
    sums of the dashboard and the Python check all compare with this date.
    """
    return today_or(today)


def at_risk_end(today: datetime.date | None = None) -> datetime.date:
    return today_or(today) + datetime.timedelta(days=AT_RISK_WINDOW_DAYS)


# --- single assignments, in Python -----------------------------------------------------------


def is_open(status: str) -> bool:
    return status not in CLOSED_STATUSES


def is_overdue(status: str, due_date: datetime.date, today: datetime.date | None = None) -> bool:
    return is_open(status) and due_date < overdue_cutoff(today)


# --- the same, as ORM conditions -------------------------------------------------------------


def open_q(prefix: str = "") -> Q:
    """An assignment that still needs doing: not in CLOSED_STATUSES."""
    return ~Q(**{f"{prefix}status__in": list(CLOSED_STATUSES)})


def overdue_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    return Q(**{f"{prefix}due_date__lt": overdue_cutoff(today)}) & open_q(prefix)


def due_within_q(days: int, today: datetime.date | None = None, prefix: str = "") -> Q:
    """Open and due between today and `days` days from now, both included."""
    start = today_or(today)
    end = start + datetime.timedelta(days=days)
    return Q(**{f"{prefix}due_date__gte": start, f"{prefix}due_date__lte": end}) & open_q(prefix)


def at_risk_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    return due_within_q(AT_RISK_WINDOW_DAYS, today, prefix) & Q(
        **{f"{prefix}status": UNSCHEDULED_STATUS}
    )


# --- the same, as SQL for the triggers (onboarding/triggers.py) -----------------------------


def _sql_list(values: tuple[str, ...]) -> str:
    # Status codes are constants of this module (lowercase words), never user input.
    return ", ".join(f"'{value}'" for value in values)


def sql_is_open(column: str) -> str:
    return f"{column} NOT IN ({_sql_list(CLOSED_STATUSES)})"


def sql_is_status(column: str, status: str) -> str:
    return f"{column} = '{status}'"


# --- health ----------------------------------------------------------------------------------


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


def percent_of(*, total: int, completed: int, waived: int) -> int:
    if total > waived:
        return completed * 100 // (total - waived)
    return 100 if total else 0


def health_expression(today: datetime.date | None = None, no_plan_q: Q | None = None) -> Case:
    """HEALTH_RULES over progress counts (`total_count`, ..., `next_unscheduled_due`).

    The earliest open due date before the overdue cutoff means something is
    overdue. Once nothing is overdue, no open assignment is due before the
    cutoff, so the earliest unscheduled due date inside the window is exactly
    at_risk_q.
    """
    whens = []
    if no_plan_q is not None:
        whens.append(When(no_plan_q, then=Value(Health.NO_PLAN)))
    whens += [
        When(next_open_due__lt=overdue_cutoff(today), then=Value(Health.OVERDUE)),
        When(total_count=0, then=Value(Health.AT_RISK)),
        When(total_count=F("completed_count") + F("waived_count"), then=Value(Health.COMPLETE)),
        When(next_unscheduled_due__lte=at_risk_end(today), then=Value(Health.AT_RISK)),
    ]
    return Case(*whens, default=Value(Health.ON_TRACK), output_field=models.CharField())


def health_rank_expression() -> Case:
    """Sorts the `health` annotation worst first (the order of Health)."""
    return Case(
        *(When(health=value, then=Value(rank)) for rank, value in enumerate(Health.values)),
        default=Value(len(Health.values)),
        output_field=IntegerField(),
    )


def health_of(
    *, total: int, completed: int, waived: int, overdue: int, at_risk: int, plans: int = 1
) -> str:
    """The same rule as health_expression, for counts already in Python."""
    if plans == 0:
        return Health.NO_PLAN
    if overdue:
        return Health.OVERDUE
    if total == 0:
        return Health.AT_RISK
    if total == completed + waived:
        return Health.COMPLETE
    if at_risk:
        return Health.AT_RISK
    return Health.ON_TRACK


# --- ramp: check-ins, levels, the gap ------------------------------------------------------


class CheckInKind(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    DAY_30 = "day_30", "Day 30"
    DAY_60 = "day_60", "Day 60"
    DAY_90 = "day_90", "Day 90"


# Each check-in is due this many days after the hire's start date.
CHECK_IN_OFFSET_DAYS = {
    CheckInKind.BASELINE: 0,
    CheckInKind.DAY_30: 30,
    CheckInKind.DAY_60: 60,
    CheckInKind.DAY_90: 90,
}
LEVELS = (1, 2, 3, 4)
LEVEL_CHOICES = [(level, str(level)) for level in LEVELS]
# The outcome report shows no number for a group smaller than this: with a handful
# of hires the difference says more about the people than about the course.
OUTCOME_MIN_GROUP = 5


class CheckInState(models.TextChoices):
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    COMPLETED = "completed", "Completed"


def check_in_due_date(start_date: datetime.date, kind: str) -> datetime.date:
    return start_date + datetime.timedelta(days=CHECK_IN_OFFSET_DAYS[kind])


def check_in_open_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}completed_at__isnull": True})


def check_in_overdue_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    """The same overdue as assignments': due before the cutoff and not completed."""
    return Q(**{f"{prefix}due_date__lt": overdue_cutoff(today)}) & check_in_open_q(prefix)


def check_in_due_within_q(days: int, today: datetime.date | None = None, prefix: str = "") -> Q:
    start = today_or(today)
    end = start + datetime.timedelta(days=days)
    return Q(**{f"{prefix}due_date__gte": start, f"{prefix}due_date__lte": end}) & (
        check_in_open_q(prefix)
    )


def check_in_state(
    completed_at: datetime.datetime | None,
    due_date: datetime.date,
    today: datetime.date | None = None,
) -> str:
    if completed_at is not None:
        return CheckInState.COMPLETED
    if due_date < overdue_cutoff(today):
        return CheckInState.OVERDUE
    return CheckInState.DUE


def sql_check_in_offset(kind_column: str) -> str:
    """CHECK_IN_OFFSET_DAYS as SQL: the days after the start date that `kind_column` is due."""
    whens = " ".join(f"WHEN '{kind}' THEN {days}" for kind, days in CHECK_IN_OFFSET_DAYS.items())
    return f"CASE {kind_column} {whens} END"


def level_gap(expected: int | None, level: int | None) -> int | None:
    """How far a rating sits below the expected level (0 when at or above; None if unrated).

    The ramp gap of a hire is this per competency of their role profile, for their
    latest manager rating, and the sum of it in total.
    """
    if expected is None or level is None:
        return None
    return max(expected - level, 0)


def sql_level_gap(expected: str, level: str) -> str:
    """level_gap() as SQL over two columns (NULL when unrated)."""
    return (
        f"CASE WHEN {level} IS NULL OR {expected} IS NULL THEN NULL "
        f"WHEN {level} < {expected} THEN {expected} - {level} ELSE 0 END"
    )


def gap_expression(expected: str, level: str) -> Case:
    """level_gap() in SQL, over two columns or annotations."""
    return Case(
        When(**{f"{level}__isnull": True}, then=Value(None)),
        When(**{f"{level}__lt": F(expected)}, then=F(expected) - F(level)),
        default=Value(0),
        output_field=IntegerField(),
    )


def too_few_to_tell(*group_sizes: int) -> bool:
    return min(group_sizes) < OUTCOME_MIN_GROUP


# --- who sees what, who may manage ----------------------------------------------------------

VIEW_ALL_PERMISSION = "onboarding.view_all_hires"
MANAGE_PERMISSION = "onboarding.add_newhire"


def can_view_all(user: User) -> bool:
    """People-ops: they see (and manage) every hire."""
    return user.is_active and user.has_perm(VIEW_ALL_PERMISSION)


def is_hire_account(user: User) -> bool:
    """A hire signed in to their own plan: they see /me/ and nothing of the manager's product.

    A flag on the account (set when the invitation creates it), so that asking
    costs no query on every request.
    """
    return bool(user.is_authenticated and getattr(user, "is_hire_account", False))


def manager_candidates(actor: User, current: User | None = None) -> QuerySet[User]:
    """The users `actor` may make a hire's hiring manager or a plan's owner.

    The one rule behind the hire and plan forms, the admin, the cohort import
    and the API: people-ops choose any active user who may manage hires
    (directly, through a group, or as a superuser); anyone else only themselves.
    `current` (the value the object already has) stays choosable so that an edit
    that leaves it alone never fails.
    """
    from .models import User

    if can_view_all(actor):
        app_label, codename = MANAGE_PERMISSION.split(".")
        direct = User.objects.filter(
            user_permissions__codename=codename,
            user_permissions__content_type__app_label=app_label,
        )
        grouped = User.objects.filter(
            groups__permissions__codename=codename,
            groups__permissions__content_type__app_label=app_label,
        )
        allowed = Q(is_active=True) & (
            Q(is_superuser=True) | Q(pk__in=direct.values("pk")) | Q(pk__in=grouped.values("pk"))
        )
    else:
        allowed = Q(pk=actor.pk, is_active=True)
    if current is not None:
        allowed |= Q(pk=current.pk)
    return User.objects.filter(allowed).order_by("first_name", "last_name", "username")


def may_manage(actor: User, user: User, current: User | None = None) -> bool:
    """Whether `actor` may make `user` a hire's manager or a plan's owner."""
    return manager_candidates(actor, current).filter(pk=user.pk).exists()


def normalized_email(address: str) -> str:
    """The one spelling of an email address the tracker stores and compares.

    Lower-cased in Python, which folds every letter (SQLite's lower() folds only
    A-Z), so uniqueness "whatever the letter case" holds the same on every database.
    """
    return address.strip().lower()
