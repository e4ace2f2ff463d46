"""Property: whatever sequence of writes, through whichever door, the rollups equal a recount.

Hypothesis draws sequences of creates, status changes, date changes,
reassignments, archiving, currency changes and deletes, and applies each
through the services, the admin (actions and change forms, over HTTP) or the
bulk paths (bulk_create, QuerySet.update/delete, raw SQL). After every step the
trigger-kept tables must equal the Python recount of rollups.py, which is
written with rules.py and the ORM, independently of the triggers' SQL. The
suite runs on SQLite and on PostgreSQL, so both sets of triggers are proven.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding import rollups, services
from onboarding.models import Assignment, Course, NewHire, TrainingPlan

from .factories import (
    CourseFactory,
    ManagerFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
)
from .test_admin import form_data

S = Assignment.Status
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)

KINDS = (
    "service_add",
    "service_status",
    "service_dates",
    "service_remove",
    "service_plan",
    "service_archive",
    "service_reassign",
    "service_guidance",
    "admin_action",
    "admin_change",
    "bulk_create",
    "bulk_update",
    "raw_sql",
    "bulk_delete",
    "currency",
    "move_plan",
)
steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=50),  # which object
        st.integers(min_value=-30, max_value=30),  # a day offset
        st.sampled_from(list(S.values)),
        st.sampled_from(list(Assignment.PaidBy.values)),
    ),
    min_size=1,
    max_size=10,
)


class World:
    """Two managers, three hires, a template, courses in two currencies."""

    def __init__(self, people_ops) -> None:
        self.people_ops = people_ops
        self.managers = [ManagerFactory(), ManagerFactory()]
        self.hires = [NewHireFactory(hiring_manager=self.managers[n % 2]) for n in range(3)]
        self.courses = [
            CourseFactory(currency="EUR" if n % 2 else "USD", tuition=Decimal(100 + n))
            for n in range(6)
        ]
        self.template = PlanTemplateFactory()
        for n, course in enumerate(self.courses[:2]):
            PlanTemplateItemFactory(template=self.template, course=course, due_offset_days=10 * n)
        services.plan_create(actor=None, hire=self.hires[0], template=self.template)

    @staticmethod
    def pick(rows: list, index: int):
        return rows[index % len(rows)] if rows else None

    def plans(self) -> list[TrainingPlan]:
        return list(TrainingPlan.objects.order_by("pk"))

    def assignments(self) -> list[Assignment]:
        return list(Assignment.objects.select_related("plan__hire").order_by("pk"))

    def free_course(self, plan: TrainingPlan) -> Course | None:
        taken = set(plan.assignments.values_list("course_id", flat=True))
        return next((c for c in self.courses if c.pk not in taken), None)


def _status_fields(status: str) -> dict:
    return {"status": status, "completed_on": TODAY if status == S.COMPLETED else None}


def apply(world: World, client, kind: str, index: int, offset: int, status: str, payer: str):
    actor = world.people_ops
    assignment = world.pick(world.assignments(), index)
    plan = world.pick(world.plans(), index)
    hire = world.pick(world.hires, index)
    day = TODAY + offset * DAY
    if kind == "service_add" and plan and (course := world.free_course(plan)):
        services.assignment_add(
            actor=actor,
            plan=plan,
            course=course,
            due_date=day,
            paid_by=payer,
            scheduled_for=day - DAY if offset % 3 == 0 else None,
        )
    elif kind == "service_status" and assignment:
        services.assignment_set_status(
            actor=actor, assignment=assignment, status=status, reason="Drawn by hypothesis"
        )
    elif kind == "service_dates" and assignment:
        services.assignment_update(
            actor=actor,
            assignment=assignment,
            due_date=day,
            scheduled_for=day if offset % 2 else None,
        )
    elif kind == "service_remove" and assignment:
        services.assignment_remove(actor=actor, assignment=assignment)
    elif kind == "service_plan":
        services.plan_create(actor=actor, hire=hire, template=world.template)
    elif kind == "service_archive":
        hire.refresh_from_db()
        toggle = services.hire_unarchive if hire.is_archived else services.hire_archive
        toggle(actor=actor, hire=hire)
    elif kind == "service_reassign":
        hire.refresh_from_db()
        other = next(m for m in world.managers if m.pk != hire.hiring_manager_id)
        services.hire_update(actor=actor, hire=hire, hiring_manager=other)
    elif kind == "service_guidance" and plan:
        attached = plan.guidance.first()
        services.plan_guidance_update(
            actor=actor, plan_guidance=attached, discussed=attached.acknowledged_at is None
        )
    elif kind == "admin_action" and assignment:
        action = {S.COMPLETED: "complete_selected", S.WAIVED: "waive_selected"}.get(
            status, "reopen_selected"
        )
        response = client.post(
            reverse("admin:onboarding_assignment_changelist"),
            {
                "action": action,
                "_selected_action": [assignment.pk],
                "post": "yes",
                "reason": "Drawn by hypothesis",
            },
        )
        assert response.status_code in (200, 302)
    elif kind == "admin_change" and assignment:
        page = reverse("admin:onboarding_assignment_change", args=[assignment.pk])
        data = form_data(client.get(page))
        data.update(
            due_date=str(day),
            status=status,
            reason="Drawn by hypothesis",
            completed_on=str(TODAY) if status == S.COMPLETED else "",
        )
        if status != S.COMPLETED:
            data["certification_earned_on"] = ""
        response = client.post(page, data)
        assert response.status_code in (200, 302)
    elif kind == "bulk_create" and plan and (course := world.free_course(plan)):
        Assignment.objects.bulk_create(
            [
                Assignment(
                    plan=plan,
                    course=course,
                    due_date=day,
                    paid_by=payer,
                    tuition_cost=Decimal("12.34"),
                    **_status_fields(status),
                )
            ]
        )
    elif kind == "bulk_update" and assignment:
        Assignment.objects.filter(plan=assignment.plan).update(
            due_date=day, certification_earned_on=None, **_status_fields(status)
        )
    elif kind == "raw_sql" and assignment:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE onboarding_assignment SET scheduled_for = %s, paid_by = %s, "
                "tuition_cost = %s WHERE id = %s",
                [day, payer, Decimal(offset % 7) * 10, assignment.pk],
            )
    elif kind == "bulk_delete" and plan:
        if offset % 2:
            TrainingPlan.objects.filter(pk=plan.pk).delete()
        else:
            Assignment.objects.filter(plan=plan, due_date__lt=TODAY).delete()
    elif kind == "currency":
        course = world.pick(world.courses, index)
        Course.objects.filter(pk=course.pk).update(
            currency="USD" if Course.objects.get(pk=course.pk).currency == "EUR" else "EUR"
        )
    elif kind == "move_plan" and plan:
        target = world.pick([h for h in world.hires if h.pk != plan.hire_id], offset)
        TrainingPlan.objects.filter(pk=plan.pk).update(hire=target)


@pytest.fixture
def admin_client(client, people_ops):
    client.force_login(people_ops)
    return client


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_it_matches_a_recount_after_any_sequence_of_writes(admin_client, people_ops, sequence):
    with transaction.atomic():
        world = World(people_ops)
        assert rollups.differences() == []
        for step in sequence:
            try:
                with transaction.atomic():
                    apply(world, admin_client, *step)
            except (ValidationError, IntegrityError):
                pass  # a refused write changes nothing; the rollups must still match
            assert rollups.differences() == [], step
        assert NewHire.objects.exists()
        transaction.set_rollback(True)
