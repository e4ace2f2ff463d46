"""Database constraints and clean() rules of the domain models."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.catalog import MILEAGE_SLUG
from onboarding.models import (
    MAX_DUE_OFFSET_DAYS,
    Assignment,
    Course,
    Guidance,
    HeldCertification,
    NewHire,
    PlanTemplateItem,
)

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    HeldCertificationFactory,
    NewHireFactory,
    PlanTemplateFactory,
)

TODAY = timezone.localdate


def days(n: int) -> datetime.date:
    return TODAY() + datetime.timedelta(days=n)


def assert_db_refuses(make) -> None:
    """The database itself rejects the row (no model validation involved)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


# --- hires ---------------------------------------------------------------------------------


def test_it_refuses_a_second_hire_with_the_same_email_in_other_case_at_db_level(hire):
    assert_db_refuses(
        lambda: NewHire.objects.create(
            full_name="Copy",
            email="HANA@Example.COM",
            hiring_manager=hire.hiring_manager,
            start_date=TODAY(),
        )
    )


def test_it_reports_a_case_insensitive_email_clash_as_a_clean_validation_error(hire):
    copy = NewHire(
        full_name="Copy",
        email=" Hana@EXAMPLE.com ",
        hiring_manager=hire.hiring_manager,
        start_date=TODAY(),
    )
    with pytest.raises(ValidationError) as exc:
        copy.full_clean()
    assert "email" in exc.value.message_dict
    assert "already uses" in " ".join(exc.value.message_dict["email"])


def test_it_lets_a_hire_keep_its_own_email_on_full_clean(hire):
    hire.email = "HANA@example.com"
    hire.full_clean()  # no clash with itself; stored as rules.normalized_email spells it
    hire.save()
    assert NewHire.objects.get(pk=hire.pk).email == "hana@example.com"


# --- assignments ---------------------------------------------------------------------------


def test_it_refuses_a_completed_assignment_without_a_completion_date(plan):
    assert_db_refuses(
        lambda: AssignmentFactory(plan=plan, status=Assignment.Status.COMPLETED, completed_on=None)
    )


@pytest.mark.parametrize(
    "status",
    [
        Assignment.Status.ASSIGNED,
        Assignment.Status.SCHEDULED,
        Assignment.Status.IN_PROGRESS,
        Assignment.Status.WAIVED,
    ],
)
def test_it_refuses_a_completion_date_on_an_assignment_that_is_not_completed(plan, status):
    assert_db_refuses(lambda: AssignmentFactory(plan=plan, status=status, completed_on=days(-1)))


def test_it_accepts_a_completed_assignment_with_its_date(plan):
    assignment = AssignmentFactory(
        plan=plan, status=Assignment.Status.COMPLETED, completed_on=days(-1)
    )
    assert assignment.pk


def test_it_refuses_negative_tuition_on_an_assignment(plan):
    assert_db_refuses(lambda: AssignmentFactory(plan=plan, tuition_cost=Decimal("-1")))


def test_it_refuses_negative_tuition_on_a_course(db):
    assert_db_refuses(lambda: CourseFactory(tuition=Decimal("-0.01")))


def test_it_accepts_zero_and_empty_tuition(plan):
    CourseFactory(tuition=Decimal("0"))
    CourseFactory(tuition=None)
    AssignmentFactory(plan=plan, tuition_cost=Decimal("0"))


def test_it_refuses_a_certification_date_on_an_assignment_that_is_not_completed(plan):
    assert_db_refuses(
        lambda: AssignmentFactory(
            plan=plan, status=Assignment.Status.ASSIGNED, certification_earned_on=days(-1)
        )
    )


def test_it_refuses_the_same_course_twice_in_a_plan(plan):
    course = CourseFactory()
    AssignmentFactory(plan=plan, course=course)
    assert_db_refuses(lambda: AssignmentFactory(plan=plan, course=course))


# --- templates, certifications, guidance ---------------------------------------------------


@pytest.mark.parametrize("offset", [MAX_DUE_OFFSET_DAYS + 1, 5000])
def test_it_refuses_a_template_due_offset_out_of_range(db, offset):
    template, course = PlanTemplateFactory(), CourseFactory()
    assert_db_refuses(
        lambda: PlanTemplateItem.objects.create(
            template=template, course=course, due_offset_days=offset
        )
    )


@pytest.mark.parametrize("offset", [0, MAX_DUE_OFFSET_DAYS])
def test_it_accepts_template_due_offsets_at_the_edges(db, offset):
    item = PlanTemplateItem.objects.create(
        template=PlanTemplateFactory(), course=CourseFactory(), due_offset_days=offset
    )
    item.full_clean()


def test_it_reports_a_template_offset_out_of_range_in_full_clean(db):
    item = PlanTemplateItem(
        template=PlanTemplateFactory(),
        course=CourseFactory(),
        due_offset_days=MAX_DUE_OFFSET_DAYS + 1,
    )
    with pytest.raises(ValidationError) as exc:
        item.full_clean()
    assert "due_offset_days" in exc.value.message_dict


def test_it_refuses_a_held_certification_that_expires_before_it_was_earned(hire):
    cert = CertificationFactory()
    assert_db_refuses(
        lambda: HeldCertification.objects.create(
            hire=hire, certification=cert, earned_on=days(-10), expires_on=days(-11)
        )
    )


def test_it_accepts_a_held_certification_expiring_the_day_it_was_earned(hire):
    held = HeldCertificationFactory(hire=hire, earned_on=days(-10), expires_on=days(-10))
    assert held.days_to_expiry() == -10


def test_it_reports_an_expiry_before_earning_in_full_clean(hire):
    held = HeldCertification(
        hire=hire, certification=CertificationFactory(), earned_on=days(0), expires_on=days(-1)
    )
    with pytest.raises(ValidationError) as exc:
        held.full_clean()
    assert "cannot expire before it was earned" in str(exc.value)


def test_it_refuses_to_deactivate_guidance_whose_rule_is_always(db):
    assert_db_refuses(lambda: Guidance.objects.filter(slug=MILEAGE_SLUG).update(active=False))
    assert Guidance.objects.get(slug=MILEAGE_SLUG).active


def test_it_reports_deactivating_always_guidance_in_full_clean(db):
    guidance = Guidance.objects.get(slug=MILEAGE_SLUG)
    guidance.active = False
    with pytest.raises(ValidationError) as exc:
        guidance.full_clean()
    assert "cannot be deactivated" in str(exc.value)


def test_it_lets_other_guidance_be_deactivated(db):
    guidance = Guidance.objects.exclude(rule=Guidance.Rule.ALWAYS).first()
    guidance.active = False
    guidance.full_clean()
    guidance.save()


def test_it_reports_negative_course_tuition_in_full_clean(db):
    course = Course(title="Odd", provider="Nobody", delivery=Course.Delivery.SELF_PACED, tuition=-5)
    with pytest.raises(ValidationError) as exc:
        course.full_clean()
    assert "tuition" in exc.value.message_dict


# --- Assignment.clean ----------------------------------------------------------------------


def _assignment(plan, **fields) -> Assignment:
    values = {"plan": plan, "course": CourseFactory(), "due_date": days(30)}
    values.update(fields)
    return Assignment(**values)


def _clean_errors(assignment: Assignment) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        assignment.clean()
    return exc.value.message_dict


def test_it_asks_for_the_completion_date_of_a_completed_assignment(plan):
    errors = _clean_errors(_assignment(plan, status=Assignment.Status.COMPLETED))
    assert errors == {"completed_on": ["Give the date the course was completed."]}


def test_it_says_only_a_completed_assignment_has_a_completion_date(plan):
    errors = _clean_errors(
        _assignment(plan, status=Assignment.Status.WAIVED, completed_on=days(-1))
    )
    assert errors == {"completed_on": ["Only a completed assignment has a completion date."]}


def test_it_refuses_a_completion_date_in_the_future(plan):
    errors = _clean_errors(
        _assignment(plan, status=Assignment.Status.COMPLETED, completed_on=days(1))
    )
    assert errors == {"completed_on": ["The completion date cannot be in the future."]}


def test_it_accepts_a_completion_date_of_today(plan):
    _assignment(plan, status=Assignment.Status.COMPLETED, completed_on=days(0)).clean()


def test_it_records_a_certification_only_on_a_completed_course(plan):
    course = CourseFactory(certification=CertificationFactory())
    errors = _clean_errors(
        _assignment(
            plan,
            course=course,
            status=Assignment.Status.IN_PROGRESS,
            certification_earned_on=days(-1),
        )
    )
    assert errors == {"certification_earned_on": ["Record a certification on a completed course."]}


def test_it_refuses_a_certification_for_a_course_that_leads_to_none(plan):
    errors = _clean_errors(
        _assignment(
            plan,
            status=Assignment.Status.COMPLETED,
            completed_on=days(-1),
            certification_earned_on=days(-1),
        )
    )
    assert errors == {"certification_earned_on": ["This course does not lead to a certification."]}


def test_it_refuses_tuition_on_a_free_course(plan):
    errors = _clean_errors(
        _assignment(plan, paid_by=Assignment.PaidBy.FREE, tuition_cost=Decimal("100"))
    )
    assert errors == {"tuition_cost": ["A free course has no tuition; set the payer instead."]}


def test_it_accepts_a_completed_certification_course(plan):
    course = CourseFactory(certification=CertificationFactory())
    _assignment(
        plan,
        course=course,
        status=Assignment.Status.COMPLETED,
        completed_on=days(-1),
        certification_earned_on=days(-1),
    ).full_clean()


def test_it_knows_an_instance_is_overdue_by_the_same_rule(plan):
    assert _assignment(plan, due_date=days(-1)).is_overdue()
    assert not _assignment(plan, due_date=days(0)).is_overdue()
    assert not _assignment(plan, due_date=days(-1), status=Assignment.Status.WAIVED).is_overdue()


def test_it_names_objects_readably(plan):
    assignment = AssignmentFactory(plan=plan, course=CourseFactory(title="Foundations"))
    assert str(assignment) == "Foundations for Hana Hire"
    assert str(plan) == "Training plan — Hana Hire"
    assert str(NewHireFactory(full_name="Ravi Rao")) == "Ravi Rao"
