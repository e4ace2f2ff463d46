"""Services: validation, optimistic concurrency, plans from templates, assignment status."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding import services
from onboarding.models import Assignment, HeldCertification, NewHire, TrainingPlan

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
)

S = Assignment.Status


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


# --- hires ---------------------------------------------------------------------------------


def test_it_creates_a_hire_with_trimmed_fields(owner):
    hire = services.hire_create(
        actor=owner,
        full_name="  Ada Lovelace ",
        email=" ada@example.com ",
        hiring_manager=owner,
        start_date=days(3),
        previous_role=" Analyst ",
    )
    hire.refresh_from_db()
    assert (hire.full_name, hire.email, hire.previous_role) == (
        "Ada Lovelace",
        "ada@example.com",
        "Analyst",
    )
    assert hire.version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"full_name": "   "}, "full_name"),
        ({"email": "not an email"}, "email"),
        ({"email": "HANA@example.com"}, "email"),  # the fixture hire has it already
    ],
)
def test_it_refuses_an_invalid_hire(owner, hire, changes, field):
    values = {
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "hiring_manager": owner,
        "start_date": days(3),
    }
    values.update(changes)
    with pytest.raises(ValidationError) as exc:
        services.hire_create(actor=owner, **values)
    assert field in exc.value.message_dict
    assert NewHire.objects.count() == 1


def test_it_updates_a_hire_and_bumps_its_version(owner, hire):
    services.hire_update(actor=owner, hire=hire, expected_version=1, title="Senior PM")
    hire.refresh_from_db()
    assert (hire.title, hire.version) == ("Senior PM", 2)


def test_it_refuses_a_stale_hire_update_and_changes_nothing(owner, people_ops, hire):
    mine = NewHire.objects.get(pk=hire.pk)
    services.hire_update(actor=people_ops, hire=hire, expected_version=1, title="Lead PM")
    with pytest.raises(services.StaleObjectError) as exc:
        services.hire_update(actor=owner, hire=mine, expected_version=1, full_name="Hana Renamed")
    assert exc.value.current.title == "Lead PM"
    assert exc.value.changed["full_name"] == ("Hana Renamed", "Hana Hire")
    assert exc.value.changed["title"] == ("Product Manager", "Lead PM")
    fresh = NewHire.objects.get(pk=hire.pk)
    assert (fresh.full_name, fresh.title, fresh.version) == ("Hana Hire", "Lead PM", 2)
    assert fresh.history.count() == 2  # created + the people-ops edit, nothing from the stale one


def test_it_refuses_to_update_fields_a_hire_form_does_not_own(owner, hire):
    with pytest.raises(TypeError):
        services.hire_update(actor=owner, hire=hire, archived_at=timezone.now())


def test_it_archives_and_unarchives_a_hire_idempotently(owner, hire):
    services.hire_archive(actor=owner, hire=hire)
    first = NewHire.objects.get(pk=hire.pk).archived_at
    services.hire_archive(actor=owner, hire=hire)
    assert first is not None
    assert NewHire.objects.get(pk=hire.pk).archived_at == first
    services.hire_unarchive(actor=owner, hire=hire)
    assert NewHire.objects.get(pk=hire.pk).archived_at is None


# --- plans ---------------------------------------------------------------------------------


@pytest.fixture
def template(db):
    template = PlanTemplateFactory(name="Starter")
    first = PlanTemplateItemFactory(template=template, due_offset_days=7, position=0)
    second = PlanTemplateItemFactory(
        template=template,
        due_offset_days=45,
        position=1,
        course=CourseFactory(tuition=Decimal("1300")),
    )
    free = PlanTemplateItemFactory(
        template=template, due_offset_days=0, position=2, course=CourseFactory(tuition=0)
    )
    template.first, template.second, template.free = first, second, free
    return template


def test_it_creates_a_blank_plan(owner, hire):
    plan = services.plan_create(actor=owner, hire=hire)
    assert (plan.title, plan.owner, plan.template, plan.target_date) == (
        "Training plan",
        owner,
        None,
        None,
    )
    assert not plan.assignments.exists()


def test_it_creates_a_plan_from_a_template_with_due_dates_from_the_start_date(
    owner, hire, template
):
    plan = services.plan_create(actor=owner, hire=hire, template=template)
    due = {a.course_id: a.due_date for a in plan.assignments.all()}
    start = hire.start_date
    assert due == {
        template.first.course_id: start + datetime.timedelta(days=7),
        template.second.course_id: start + datetime.timedelta(days=45),
        template.free.course_id: start,
    }
    assert plan.title == "Starter"
    assert plan.template == template
    assert [a.course_id for a in plan.assignments.order_by("position")] == [
        template.first.course_id,
        template.second.course_id,
        template.free.course_id,
    ]


def test_it_defaults_the_target_date_to_the_last_due_date(owner, hire, template):
    plan = services.plan_create(actor=owner, hire=hire, template=template)
    plan.refresh_from_db()
    assert plan.target_date == hire.start_date + datetime.timedelta(days=45)


def test_it_keeps_an_explicit_target_date(owner, hire, template):
    plan = services.plan_create(actor=owner, hire=hire, template=template, target_date=days(200))
    plan.refresh_from_db()
    assert plan.target_date == days(200)


def test_it_lets_the_caller_override_template_due_dates(owner, hire, template):
    plan = services.plan_create(
        actor=owner, hire=hire, template=template, due_dates={template.second.pk: days(100)}
    )
    due = {a.course_id: a.due_date for a in plan.assignments.all()}
    assert due[template.second.course_id] == days(100)
    assert due[template.first.course_id] == hire.start_date + datetime.timedelta(days=7)
    plan.refresh_from_db()
    assert plan.target_date == days(100)


def test_it_copies_tuition_and_payer_from_the_catalog(owner, hire, template):
    plan = services.plan_create(actor=owner, hire=hire, template=template)
    by_course = {a.course_id: a for a in plan.assignments.all()}
    paid = by_course[template.second.course_id]
    free = by_course[template.free.course_id]
    unknown = by_course[template.first.course_id]
    assert (paid.tuition_cost, paid.paid_by) == (Decimal("1300"), "employer")
    assert (free.tuition_cost, free.paid_by) == (None, "free")
    assert (unknown.tuition_cost, unknown.paid_by) == (None, "employer")


def test_it_creates_a_plan_from_a_shipped_template(owner, hire):
    from onboarding.models import PlanTemplate

    template = PlanTemplate.objects.get(name="New to product management")
    plan = services.plan_create(actor=owner, hire=hire, template=template)
    offsets = sorted((a.due_date - hire.start_date).days for a in plan.assignments.all())
    assert offsets == [7, 14, 45, 60, 90]


def test_it_refuses_a_stale_plan_update(owner, plan):
    services.plan_update(actor=owner, plan=plan, expected_version=1, title="First")
    stale = TrainingPlan.objects.get(pk=plan.pk)
    stale.version = 1
    with pytest.raises(services.StaleObjectError):
        services.plan_update(actor=owner, plan=stale, expected_version=1, title="Second")
    assert TrainingPlan.objects.get(pk=plan.pk).title == "First"


# --- assignments ---------------------------------------------------------------------------


def test_it_adds_an_assignment_at_the_end(owner, plan):
    first = services.assignment_add(
        actor=owner, plan=plan, course=CourseFactory(), due_date=days(5)
    )
    second = services.assignment_add(
        actor=owner, plan=plan, course=CourseFactory(), due_date=days(1), scheduled_for=days(1)
    )
    assert (first.position, second.position) == (0, 1)
    assert (first.status, second.status) == (S.ASSIGNED, S.SCHEDULED)


def test_it_refuses_a_course_already_in_the_plan(owner, plan):
    course = CourseFactory()
    services.assignment_add(actor=owner, plan=plan, course=course, due_date=days(5))
    with pytest.raises(ValidationError) as exc:
        services.assignment_add(actor=owner, plan=plan, course=course, due_date=days(9))
    assert "course" in exc.value.message_dict
    assert plan.assignments.count() == 1


@pytest.fixture
def assignment(plan):
    return AssignmentFactory(
        plan=plan, course=CourseFactory(certification=CertificationFactory()), due_date=days(10)
    )


def test_it_completes_an_assignment_today_by_default(owner, assignment):
    services.assignment_complete(actor=owner, assignment=assignment)
    assignment.refresh_from_db()
    assert (assignment.status, assignment.completed_on) == (S.COMPLETED, days(0))


def test_it_completes_an_assignment_on_a_given_date(owner, assignment):
    services.assignment_complete(actor=owner, assignment=assignment, completed_on=days(-3))
    assignment.refresh_from_db()
    assert assignment.completed_on == days(-3)


def test_it_refuses_a_completion_date_in_the_future(owner, assignment):
    with pytest.raises(ValidationError):
        services.assignment_complete(actor=owner, assignment=assignment, completed_on=days(1))
    assignment.refresh_from_db()
    assert (assignment.status, assignment.completed_on) == (S.ASSIGNED, None)


def test_it_needs_a_reason_to_waive(owner, assignment):
    with pytest.raises(ValidationError) as exc:
        services.assignment_waive(actor=owner, assignment=assignment, reason="  ")
    assert "reason" in exc.value.message_dict
    assignment.refresh_from_db()
    assert assignment.status == S.ASSIGNED


def test_it_waives_with_a_reason_and_no_dates(owner, assignment):
    services.assignment_complete(actor=owner, assignment=assignment, completed_on=days(-1))
    services.assignment_waive(actor=owner, assignment=assignment, reason="Did it last job")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.completed_on, assignment.certification_earned_on) == (
        S.WAIVED,
        None,
        None,
    )
    assert "Waived: Did it last job" in assignment.notes


def test_it_reopens_a_completed_assignment_and_clears_its_dates(owner, assignment):
    services.assignment_complete(
        actor=owner, assignment=assignment, completed_on=days(-1), certification_earned_on=days(-1)
    )
    services.assignment_reopen(actor=owner, assignment=assignment)
    assignment.refresh_from_db()
    assert (assignment.status, assignment.completed_on, assignment.certification_earned_on) == (
        S.ASSIGNED,
        None,
        None,
    )


def test_it_reopens_a_booked_assignment_as_scheduled(owner, assignment):
    services.assignment_update(actor=owner, assignment=assignment, scheduled_for=days(3))
    services.assignment_waive(actor=owner, assignment=assignment, reason="Not needed")
    services.assignment_reopen(actor=owner, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == S.SCHEDULED


def test_it_refuses_an_unknown_status(owner, assignment):
    with pytest.raises(ValidationError):
        services.assignment_set_status(actor=owner, assignment=assignment, status="finished")


def test_it_refuses_a_stale_status_change(owner, assignment):
    services.assignment_update(actor=owner, assignment=assignment, notes="Booked")
    stale = Assignment.objects.get(pk=assignment.pk)
    with pytest.raises(services.StaleObjectError):
        services.assignment_complete(actor=owner, assignment=stale, expected_version=1)
    assert Assignment.objects.get(pk=assignment.pk).status == S.ASSIGNED


def test_it_records_a_certification_earned_by_completing_an_assignment(owner, hire, assignment):
    services.assignment_complete(
        actor=owner,
        assignment=assignment,
        completed_on=days(-2),
        certification_earned_on=days(-2),
        certification_expires_on=days(363),
    )
    held = HeldCertification.objects.get(hire=hire)
    assert held.certification == assignment.course.certification
    assert (held.earned_on, held.expires_on, held.assignment) == (days(-2), days(363), assignment)


def test_it_refuses_a_certification_that_expires_before_it_was_earned(owner, assignment):
    with pytest.raises(ValidationError):
        services.assignment_complete(
            actor=owner,
            assignment=assignment,
            certification_earned_on=days(-2),
            certification_expires_on=days(-3),
        )
    assert not HeldCertification.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == S.ASSIGNED


def test_it_refuses_a_certification_for_a_course_without_one(owner, plan):
    assignment = AssignmentFactory(plan=plan)
    with pytest.raises(ValidationError) as exc:
        services.assignment_complete(
            actor=owner, assignment=assignment, certification_earned_on=days(-1)
        )
    assert "certification_earned_on" in exc.value.message_dict
    assert not HeldCertification.objects.exists()


def test_it_moves_an_assignment_and_renumbers_the_plan(owner, plan):
    a, b, c = (
        services.assignment_add(actor=owner, plan=plan, course=CourseFactory(), due_date=days(n))
        for n in (1, 2, 3)
    )

    def order() -> list[int]:
        return list(plan.assignments.order_by("position").values_list("pk", flat=True))

    services.assignment_move(actor=owner, assignment=c, offset=-1)
    assert order() == [a.pk, c.pk, b.pk]
    services.assignment_move(actor=owner, assignment=a, offset=+1)
    assert order() == [c.pk, a.pk, b.pk]
    services.assignment_move(actor=owner, assignment=c, offset=-1)  # already first
    assert order() == [c.pk, a.pk, b.pk]
    assert list(plan.assignments.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
    ]


def test_it_removes_an_assignment_and_keeps_its_history(owner, assignment):
    pk = assignment.pk
    services.assignment_remove(actor=owner, assignment=assignment)
    assert not Assignment.objects.filter(pk=pk).exists()
    deleted = Assignment.history.filter(id=pk, history_type="-").get()
    assert deleted.history_user == owner


# --- history -------------------------------------------------------------------------------


def test_it_records_who_acted_in_the_history(owner, people_ops, template):
    hire = services.hire_create(
        actor=owner,
        full_name="Ada",
        email="ada@example.com",
        hiring_manager=owner,
        start_date=days(0),
    )
    assert hire.history.first().history_user == owner
    services.hire_update(actor=people_ops, hire=hire, title="Lead PM")
    assert hire.history.first().history_user == people_ops

    plan = services.plan_create(actor=people_ops, hire=hire, template=template)
    assert plan.history.first().history_user == people_ops
    assignment = plan.assignments.first()
    assert assignment.history.first().history_user == people_ops  # bulk-created from template
    services.assignment_complete(actor=owner, assignment=assignment)
    assert assignment.history.first().history_user == owner
    assert assignment.history.first().status == S.COMPLETED
