"""The guidance invariant: every plan carries "mileage may vary", however it was created,
and rule-based guidance attaches when its rule starts to hold and then stays."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from onboarding import services
from onboarding.catalog import MILEAGE_SLUG
from onboarding.models import Assignment, Guidance, PlanGuidance, TrainingPlan

from .factories import (
    CertificationFactory,
    CourseFactory,
    GuidanceFactory,
    NewHireFactory,
    TrainingPlanFactory,
)

CERTIFICATE = "certificate-is-not-the-job"
FRAMEWORK = "framework-certifications"
NEW_TO_PM = "new-to-product-management"
TUITION = "employer-paid-tuition"


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def mileage() -> Guidance:
    return Guidance.objects.get(slug=MILEAGE_SLUG)


def slugs(plan: TrainingPlan) -> set[str]:
    return set(plan.guidance.values_list("guidance__slug", flat=True))


def assert_carries_mileage(plan: TrainingPlan) -> None:
    attached = PlanGuidance.objects.filter(plan=plan, guidance__slug=MILEAGE_SLUG)
    assert attached.count() == 1
    assert attached.get().body == mileage().body


# --- every creation path ---------------------------------------------------------------------


def test_it_attaches_mileage_through_the_service(owner, hire):
    assert_carries_mileage(services.plan_create(actor=owner, hire=hire))


def test_it_attaches_mileage_through_the_service_from_a_template(owner, hire):
    from onboarding.models import PlanTemplate

    template = PlanTemplate.objects.get(name="SAFe organisation")
    assert_carries_mileage(services.plan_create(actor=owner, hire=hire, template=template))


def test_it_attaches_mileage_through_objects_create(owner, hire):
    plan = TrainingPlan.objects.create(hire=hire, owner=owner, title="From a shell")
    assert_carries_mileage(plan)


def test_it_attaches_mileage_through_the_factory(hire):
    assert_carries_mileage(TrainingPlanFactory(hire=hire))


def test_it_attaches_mileage_through_bulk_create(owner):
    hires = [NewHireFactory(hiring_manager=owner) for _ in range(3)]
    TrainingPlan.objects.bulk_create(
        [TrainingPlan(hire=h, owner=owner, title="Bulk") for h in hires]
    )
    plans = TrainingPlan.objects.filter(title="Bulk")
    assert plans.count() == 3
    for plan in plans:
        assert_carries_mileage(plan)


def test_it_attaches_mileage_through_raw_sql(owner, hire):
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO onboarding_trainingplan "
            "(hire_id, owner_id, title, created_at, updated_at, version) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [hire.pk, owner.pk, "Raw SQL", now, now, 1],
        )
    assert_carries_mileage(TrainingPlan.objects.get(title="Raw SQL"))


def test_it_attaches_mileage_exactly_once_even_after_a_sync(owner, plan):
    services.plan_guidance_sync(plan=plan)
    services.guidance_attach(plan=plan, guidance=mileage())
    assert_carries_mileage(plan)


def test_it_keeps_the_snapshot_when_the_library_text_changes_later(owner, hire):
    before = mileage().body
    plan = services.plan_create(actor=owner, hire=hire)
    Guidance.objects.filter(slug=MILEAGE_SLUG).update(body="Edited by people-ops.")
    assert plan.guidance.get(guidance__slug=MILEAGE_SLUG).body == before
    later = services.plan_create(actor=owner, hire=NewHireFactory(hiring_manager=owner))
    assert later.guidance.get(guidance__slug=MILEAGE_SLUG).body == "Edited by people-ops."


def test_it_keeps_rule_based_snapshots_when_the_library_text_changes(owner, plan):
    course = CourseFactory(certification=CertificationFactory())
    services.assignment_add(actor=owner, plan=plan, course=course, due_date=days(30))
    original = Guidance.objects.get(slug=CERTIFICATE).body
    guidance = Guidance.objects.get(slug=CERTIFICATE)
    guidance.body = "Rewritten."
    guidance.save()
    assert plan.guidance.get(guidance__slug=CERTIFICATE).body == original


# --- rule-based guidance ---------------------------------------------------------------------


def test_it_attaches_only_mileage_to_a_blank_plan_for_an_experienced_hire(owner, hire):
    plan = services.plan_create(actor=owner, hire=hire)
    assert slugs(plan) == {MILEAGE_SLUG}


def test_it_attaches_certificate_guidance_for_a_certification_course(owner, plan):
    course = CourseFactory(certification=CertificationFactory(framework_bound=False))
    services.assignment_add(actor=owner, plan=plan, course=course, due_date=days(30))
    assert slugs(plan) == {MILEAGE_SLUG, CERTIFICATE}


def test_it_attaches_framework_guidance_for_a_framework_bound_certification(owner, plan):
    course = CourseFactory(certification=CertificationFactory(framework_bound=True))
    services.assignment_add(actor=owner, plan=plan, course=course, due_date=days(30))
    assert {CERTIFICATE, FRAMEWORK} <= slugs(plan)


def test_it_attaches_framework_guidance_for_the_shipped_safe_template(owner, hire):
    from onboarding.models import PlanTemplate

    plan = services.plan_create(
        actor=owner, hire=hire, template=PlanTemplate.objects.get(name="SAFe organisation")
    )
    assert {MILEAGE_SLUG, CERTIFICATE, FRAMEWORK} <= slugs(plan)


def test_it_attaches_new_to_pm_guidance_when_the_hire_is_new(owner):
    hire = NewHireFactory(hiring_manager=owner, new_to_product_management=True)
    plan = services.plan_create(actor=owner, hire=hire)
    assert NEW_TO_PM in slugs(plan)


def test_it_attaches_new_to_pm_guidance_when_the_flag_flips_later(owner, hire):
    plan = services.plan_create(actor=owner, hire=hire)
    assert NEW_TO_PM not in slugs(plan)
    services.hire_update(actor=owner, hire=hire, new_to_product_management=True)
    assert NEW_TO_PM in slugs(plan)


def test_it_attaches_tuition_guidance_for_employer_paid_tuition(owner, plan):
    assignment = services.assignment_add(
        actor=owner, plan=plan, course=CourseFactory(), due_date=days(30)
    )
    assert TUITION not in slugs(plan)
    services.assignment_update(
        actor=owner,
        assignment=assignment,
        tuition_cost=Decimal("1300"),
        paid_by=Assignment.PaidBy.EMPLOYER,
    )
    assert TUITION in slugs(plan)


@pytest.mark.parametrize(
    ("tuition", "paid_by"),
    [
        (Decimal("900"), Assignment.PaidBy.HIRE),
        (Decimal("0"), Assignment.PaidBy.EMPLOYER),
        (None, Assignment.PaidBy.EMPLOYER),
    ],
)
def test_it_leaves_tuition_guidance_off_when_the_employer_pays_nothing(
    owner, plan, tuition, paid_by
):
    services.assignment_add(
        actor=owner,
        plan=plan,
        course=CourseFactory(),
        due_date=days(30),
        tuition_cost=tuition,
        paid_by=paid_by,
    )
    assert TUITION not in slugs(plan)


def test_it_keeps_guidance_attached_when_its_rule_stops_holding(owner, plan):
    course = CourseFactory(
        certification=CertificationFactory(framework_bound=True), tuition=Decimal("1000")
    )
    assignment = services.assignment_add(actor=owner, plan=plan, course=course, due_date=days(30))
    assert {CERTIFICATE, FRAMEWORK, TUITION} <= slugs(plan)
    services.assignment_remove(actor=owner, assignment=assignment)
    services.plan_guidance_sync(plan=plan)
    assert {MILEAGE_SLUG, CERTIFICATE, FRAMEWORK, TUITION} <= slugs(plan)


def test_it_keeps_new_to_pm_guidance_when_the_flag_is_cleared(owner):
    hire = NewHireFactory(hiring_manager=owner, new_to_product_management=True)
    plan = services.plan_create(actor=owner, hire=hire)
    services.hire_update(actor=owner, hire=hire, new_to_product_management=False)
    services.plan_guidance_sync(plan=plan)
    assert NEW_TO_PM in slugs(plan)


def test_it_does_not_attach_deactivated_or_manual_guidance_by_rule(owner):
    Guidance.objects.filter(slug=NEW_TO_PM).update(active=False)
    GuidanceFactory(slug="by-hand", rule=Guidance.Rule.MANUAL)
    hire = NewHireFactory(hiring_manager=owner, new_to_product_management=True)
    plan = services.plan_create(actor=owner, hire=hire)
    assert slugs(plan) == {MILEAGE_SLUG}


def test_it_attaches_manual_guidance_once_by_hand(owner, plan):
    manual = GuidanceFactory(rule=Guidance.Rule.MANUAL, body="Talk to the sales team.")
    first = services.guidance_attach(plan=plan, guidance=manual)
    again = services.guidance_attach(plan=plan, guidance=manual)
    assert first.pk == again.pk
    assert first.body == "Talk to the sales team."


# --- notes and "discussed" -------------------------------------------------------------------


def test_it_writes_a_note_and_marks_guidance_discussed(owner, plan):
    attached = plan.guidance.get(guidance__slug=MILEAGE_SLUG)
    services.plan_guidance_update(
        actor=owner, plan_guidance=attached, manager_note="  Our PMs own pricing.  ", discussed=True
    )
    attached.refresh_from_db()
    assert attached.manager_note == "Our PMs own pricing."
    assert attached.acknowledged_by == owner
    assert attached.acknowledged_at is not None
    assert attached.is_discussed
    assert attached.history.first().history_user == owner


def test_it_keeps_the_first_discussion_when_marked_again(owner, people_ops, plan):
    attached = plan.guidance.get(guidance__slug=MILEAGE_SLUG)
    services.plan_guidance_update(actor=owner, plan_guidance=attached, discussed=True)
    first_at = attached.acknowledged_at
    services.plan_guidance_update(actor=people_ops, plan_guidance=attached, discussed=True)
    attached.refresh_from_db()
    assert (attached.acknowledged_by, attached.acknowledged_at) == (owner, first_at)


def test_it_clears_discussed_when_unmarked(owner, plan):
    attached = plan.guidance.get(guidance__slug=MILEAGE_SLUG)
    services.plan_guidance_update(actor=owner, plan_guidance=attached, discussed=True)
    services.plan_guidance_update(actor=owner, plan_guidance=attached, discussed=False)
    attached.refresh_from_db()
    assert (attached.acknowledged_by, attached.acknowledged_at) == (None, None)
    assert PlanGuidance.objects.not_discussed().filter(pk=attached.pk).exists()
