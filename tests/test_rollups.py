"""The rollup tables (PlanProgress, DailyTotals) match a recount after every kind of write.

The triggers that keep them are database code, so these tests write the way the
application and people really do (services, the admin's querysets, bulk_create,
raw SQL, cascading deletes) and compare with `rollups.differences()`, which
recounts from the source rows without the triggers' SQL.
"""

import datetime
import io
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding import rollups, services
from onboarding.models import Assignment, DailyTotals, NewHire, PlanProgress, TrainingPlan

from .factories import (
    AssignmentFactory,
    CourseFactory,
    ManagerFactory,
    NewHireFactory,
    TrainingPlanFactory,
)

S = Assignment.Status
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def assert_rollups_match():
    assert rollups.differences() == []


def test_it_gives_every_new_plan_a_progress_row_with_its_hire(owner, hire):
    plan = services.plan_create(actor=owner, hire=hire, title="Plan")
    progress = PlanProgress.objects.get(plan=plan)
    assert (progress.hire_id, progress.hiring_manager_id) == (hire.pk, owner.pk)
    assert (progress.total_count, progress.next_open_due) == (0, None)
    # The "always" guidance the plan carries is counted as not yet discussed.
    assert progress.undiscussed_guidance_count == plan.guidance.count() > 0
    assert_rollups_match()


def test_it_follows_every_assignment_service(owner, hire, plan):
    courses = [CourseFactory(tuition=Decimal("100.10")) for _ in range(4)]
    added = [
        services.assignment_add(
            actor=owner,
            plan=plan,
            course=course,
            due_date=TODAY + n * DAY - 2 * DAY,
            tuition_cost=Decimal("100.10"),
            paid_by=Assignment.PaidBy.EMPLOYER if n % 2 else Assignment.PaidBy.HIRE,
        )
        for n, course in enumerate(courses)
    ]
    assert_rollups_match()
    progress = PlanProgress.objects.get(plan=plan)
    assert (progress.total_count, progress.next_open_due) == (4, TODAY - 2 * DAY)

    services.assignment_complete(actor=owner, assignment=added[0], completed_on=TODAY)
    assert_rollups_match()
    services.assignment_waive(actor=owner, assignment=added[1], reason="Knows it already")
    assert_rollups_match()
    services.assignment_reopen(actor=owner, assignment=added[1])
    assert_rollups_match()
    services.assignment_update(
        actor=owner, assignment=added[2], due_date=TODAY + 40 * DAY, tuition_cost=Decimal("5")
    )
    assert_rollups_match()
    services.assignment_set_status(actor=owner, assignment=added[3], status=S.SCHEDULED)
    assert_rollups_match()
    services.assignment_move(actor=owner, assignment=added[3], offset=-1)
    assert_rollups_match()
    services.assignment_remove(actor=owner, assignment=added[2])
    assert_rollups_match()
    progress.refresh_from_db()
    assert (progress.total_count, progress.completed_count) == (3, 1)


def test_it_counts_booked_sessions_on_their_own_day(owner, plan):
    booked = AssignmentFactory(plan=plan, due_date=TODAY + 20 * DAY, scheduled_for=TODAY + 5 * DAY)
    AssignmentFactory(
        plan=plan, due_date=TODAY + 9 * DAY, scheduled_for=TODAY + 5 * DAY, status=S.WAIVED
    )
    session_day = DailyTotals.objects.get(day=TODAY + 5 * DAY)
    assert (session_day.sessions_count, session_day.open_due_count) == (1, 0)
    assert DailyTotals.objects.get(day=TODAY + 20 * DAY).open_due_count == 1

    services.assignment_update(actor=owner, assignment=booked, scheduled_for=TODAY + 6 * DAY)
    assert DailyTotals.objects.get(day=TODAY + 5 * DAY).sessions_count == 0
    assert DailyTotals.objects.get(day=TODAY + 6 * DAY).sessions_count == 1
    assert_rollups_match()


def test_it_follows_guidance_being_discussed_and_attached(owner, plan):
    attachment = plan.guidance.first()
    services.plan_guidance_update(
        actor=owner, plan_guidance=attachment, discussed=True, manager_note="Talked it through"
    )
    assert_rollups_match()
    before = PlanProgress.objects.get(plan=plan).undiscussed_guidance_count
    attachment.delete()
    assert PlanProgress.objects.get(plan=plan).undiscussed_guidance_count == before
    assert_rollups_match()


def test_it_moves_a_hires_numbers_when_archived_or_handed_to_another_manager(
    owner, outsider, people_ops
):
    hire = NewHireFactory(hiring_manager=owner)
    plan = TrainingPlanFactory(hire=hire)
    AssignmentFactory(plan=plan, due_date=TODAY - 3 * DAY, tuition_cost=Decimal("250.00"))
    AssignmentFactory(plan=plan, due_date=TODAY + 3 * DAY)

    services.hire_archive(actor=owner, hire=hire)
    assert PlanProgress.objects.get(plan=plan).hire_archived
    assert not DailyTotals.objects.filter(hiring_manager=owner, hire_archived=False).exclude(
        open_due_count=0
    )
    assert_rollups_match()

    services.hire_unarchive(actor=owner, hire=hire)
    services.hire_update(actor=people_ops, hire=hire, hiring_manager=outsider)
    assert PlanProgress.objects.get(plan=plan).hiring_manager_id == outsider.pk
    overdue = DailyTotals.objects.get(hiring_manager=outsider, day=TODAY - 3 * DAY)
    assert (overdue.open_due_count, overdue.employer_tuition_cents) == (1, 25000)
    assert_rollups_match()

    services.hire_update(actor=outsider, hire=hire, start_date=TODAY - 30 * DAY)
    assert PlanProgress.objects.get(plan=plan).hire_start_date == TODAY - 30 * DAY
    assert_rollups_match()


def test_it_moves_a_plans_numbers_when_the_plan_changes_hire(owner, outsider):
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    other = NewHireFactory(hiring_manager=outsider)
    TrainingPlan.objects.filter(pk=plan.pk).update(hire=other)
    assert PlanProgress.objects.get(plan=plan).hire_id == other.pk
    assert_rollups_match()


def test_it_follows_bulk_writes_raw_sql_and_cascading_deletes(owner):
    hires = NewHire.objects.bulk_create(
        [
            NewHire(
                full_name=f"Bulk {n}",
                email=f"bulk{n}@example.com",
                hiring_manager=owner,
                start_date=TODAY,
            )
            for n in range(3)
        ]
    )
    plans = TrainingPlan.objects.bulk_create(
        [TrainingPlan(hire=h, title="Plan", owner=owner) for h in hires]
    )
    course = CourseFactory()
    Assignment.objects.bulk_create(
        [
            Assignment(
                plan=p, course=course, due_date=TODAY - n * DAY, tuition_cost=Decimal("9.99")
            )
            for n, p in enumerate(plans)
        ]
    )
    assert_rollups_match()

    Assignment.objects.filter(plan__in=plans[:2]).update(status=S.WAIVED)
    assert_rollups_match()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE onboarding_assignment SET status = 'in_progress', due_date = %s "
            "WHERE plan_id = %s",
            [TODAY + 5 * DAY, plans[0].pk],
        )
    assert_rollups_match()

    plans[1].delete()
    assert not PlanProgress.objects.filter(plan_id=plans[1].pk).exists()
    assert_rollups_match()
    hires[2].delete()
    assert_rollups_match()
    assert PlanProgress.objects.count() == 1


assignment_rows = st.lists(
    st.tuples(
        st.sampled_from(list(S.values)),
        st.integers(min_value=-20, max_value=20),
        st.sampled_from(list(Assignment.PaidBy.values)),
        st.one_of(st.none(), st.decimals(min_value=0, max_value=5000, places=2)),
        st.one_of(st.none(), st.integers(min_value=-5, max_value=5)),
    ),
    max_size=6,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=assignment_rows, after=assignment_rows)
def test_it_matches_a_recount_for_any_mix_of_assignments(owner, before, after):
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    rows = [AssignmentFactory(plan=plan, **_assignment_fields(*values)) for values in before]
    assert_rollups_match()
    for row, values in zip(rows, after, strict=False):
        Assignment.objects.filter(pk=row.pk).update(**_assignment_fields(*values))
    assert_rollups_match()


def _assignment_fields(status, offset, paid_by, cost, session) -> dict:
    return {
        "status": status,
        "due_date": TODAY + offset * DAY,
        "scheduled_for": None if session is None else TODAY + session * DAY,
        "completed_on": TODAY if status == S.COMPLETED else None,
        "paid_by": paid_by,
        "tuition_cost": cost,
    }


@pytest.mark.django_db(transaction=True)
def test_it_generates_bench_data_that_the_rollups_match():
    call_command(
        "generate_bench_data", hires=20, assignments_per_hire=3, managers=2, stdout=io.StringIO()
    )
    assert (NewHire.objects.count(), Assignment.objects.count()) == (20, 60)
    assert PlanProgress.objects.count() == 20
    assert_rollups_match()


# --- rebuild_rollups ---------------------------------------------------------------------


def test_it_reports_and_repairs_rollups_that_drifted(owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY, tuition_cost=Decimal("10.00"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE onboarding_planprogress SET total_count = 99")
        cursor.execute("UPDATE onboarding_dailytotals SET open_due_count = open_due_count + 2")

    with pytest.raises(CommandError, match="2 rollup value"):
        call_command("rebuild_rollups", "--check")
    assert PlanProgress.objects.get(plan=plan).total_count == 99  # --check changes nothing

    call_command("rebuild_rollups")
    assert PlanProgress.objects.get(plan=plan).total_count == 1
    assert DailyTotals.objects.get(day=TODAY - DAY).open_due_count == 1
    call_command("rebuild_rollups", "--check")


# --- concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Needs PostgreSQL: SQLite serialises writers, so two transactions never "
    "count the same plan at once there. Run with DATABASE_URL=postgres://...",
)
@pytest.mark.django_db(transaction=True)
def test_it_counts_both_of_two_concurrent_changes_to_one_plan():
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=ManagerFactory()))
    first, second = (AssignmentFactory(plan=plan, due_date=TODAY - DAY) for _ in range(2))
    first_changed, release_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def complete(assignment: Assignment, hold: bool) -> None:
        try:
            if not hold:
                first_changed.wait(timeout=30)
            with transaction.atomic():
                Assignment.objects.filter(pk=assignment.pk).update(
                    status=S.COMPLETED, completed_on=TODAY
                )
                if hold:
                    first_changed.set()
                    release_first.wait(timeout=30)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=complete, args=(first, True)),
        threading.Thread(target=complete, args=(second, False)),
    ]
    for thread in threads:
        thread.start()
    # The second transaction has changed its row and waits in the trigger for the
    # first: without that wait it would count the plan without the first's change.
    first_changed.wait(timeout=30)
    assert _a_backend_waits_for_a_lock(), "the second writer never waited for the first"
    release_first.set()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    progress = PlanProgress.objects.get(plan=plan)
    assert (progress.completed_count, progress.next_open_due) == (2, None)
    assert_rollups_match()


def _a_backend_waits_for_a_lock(timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False
