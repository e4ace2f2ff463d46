"""Plan pages: access, plan creation, assignments, inline status changes, guidance."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import catalog, services
from onboarding.models import Assignment, Guidance, PlanGuidance, TrainingPlan

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    GuidanceFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate


@pytest.fixture
def assignment(plan):
    return AssignmentFactory(plan=plan, course=CourseFactory(title="Foundations"))


@pytest.fixture
def mileage(plan):
    return PlanGuidance.objects.get(plan=plan, guidance__slug=catalog.MILEAGE_SLUG)


def status_url(assignment: Assignment) -> str:
    return reverse("onboarding:assignment_status", args=[assignment.pk])


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- access --------------------------------------------------------------------------------

GET_ROUTES = [
    ("onboarding:plan_create", "hire"),
    ("onboarding:plan_detail", "plan"),
    ("onboarding:plan_edit", "plan"),
    ("onboarding:assignment_edit", "assignment"),
    ("onboarding:assignment_remove", "assignment"),
]


def url_for(name: str, target: str, objects: dict) -> str:
    return reverse(name, args=[objects[target].pk])


@pytest.fixture
def world(hire, plan, assignment, mileage):
    return {"hire": hire, "plan": plan, "assignment": assignment, "plan_guidance": mileage}


@pytest.mark.parametrize(("name", "target"), GET_ROUTES)
def test_it_sends_anonymous_visitors_to_sign_in(client, world, name, target):
    response = client.get(url_for(name, target, world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "target"), GET_ROUTES)
def test_it_answers_404_to_another_manager(outsider_client, world, name, target):
    assert outsider_client.get(url_for(name, target, world)).status_code == 404


@pytest.mark.parametrize(("name", "target"), GET_ROUTES)
def test_it_shows_the_pages_to_the_owner(owner_client, world, name, target):
    assert owner_client.get(url_for(name, target, world)).status_code == 200


@pytest.mark.parametrize(("name", "target"), GET_ROUTES)
def test_it_shows_the_pages_to_people_ops(people_ops_client, world, name, target):
    assert people_ops_client.get(url_for(name, target, world)).status_code == 200


def outsider_posts(world):
    """Every write, with data that would succeed for the owner."""
    plan, assignment = world["plan"], world["assignment"]
    course = CourseFactory()
    manual = GuidanceFactory(rule=Guidance.Rule.MANUAL)
    return [
        (
            reverse("onboarding:plan_create", args=[world["hire"].pk]),
            {"title": "X", "rows_for": ""},
        ),
        (
            reverse("onboarding:plan_edit", args=[plan.pk]),
            {"title": "Hijacked", "owner": plan.owner_id, "version": plan.version},
        ),
        (
            reverse("onboarding:assignment_add", args=[plan.pk]),
            {"course": course.pk, "due_date": "2030-01-01"},
        ),
        (
            reverse("onboarding:plan_guidance_attach", args=[plan.pk]),
            {"guidance": manual.pk},
        ),
        (status_url(assignment), {"status": "completed", "version": assignment.version}),
        (
            reverse("onboarding:assignment_edit", args=[assignment.pk]),
            {"due_date": "2030-01-01", "paid_by": "hire", "version": assignment.version},
        ),
        (reverse("onboarding:assignment_move", args=[assignment.pk]), {"direction": "down"}),
        (reverse("onboarding:assignment_remove", args=[assignment.pk]), {}),
        (
            reverse("onboarding:plan_guidance_update", args=[world["plan_guidance"].pk]),
            {"manager_note": "Hijacked", "discussed": "1"},
        ),
    ]


def snapshot(world) -> tuple:
    plan = TrainingPlan.objects.get(pk=world["plan"].pk)
    return (
        TrainingPlan.objects.count(),
        plan.title,
        plan.version,
        list(Assignment.objects.values_list("pk", "status", "due_date", "version", "position")),
        list(PlanGuidance.objects.values_list("pk", "manager_note", "acknowledged_at")),
    )


def test_it_refuses_every_write_from_another_manager_and_changes_nothing(outsider_client, world):
    posts = outsider_posts(world)
    before = snapshot(world)
    for url, data in posts:
        assert outsider_client.post(url, data).status_code == 404, url
        assert outsider_client.post(url, data, **HTMX).status_code == 404, url
    assert snapshot(world) == before


def test_it_sends_anonymous_writes_to_sign_in(client, world):
    posts = outsider_posts(world)
    before = snapshot(world)
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "name",
    [
        "onboarding:assignment_status",
        "onboarding:assignment_move",
        "onboarding:plan_guidance_update",
    ],
)
def test_it_takes_writes_only_as_post(owner_client, world, name):
    target = world["plan_guidance"] if "guidance" in name else world["assignment"]
    assert owner_client.get(reverse(name, args=[target.pk])).status_code == 405


def test_it_takes_plan_level_writes_only_as_post(owner_client, plan):
    for name in ("onboarding:assignment_add", "onboarding:plan_guidance_attach"):
        assert owner_client.get(reverse(name, args=[plan.pk])).status_code == 405


# --- creating plans ------------------------------------------------------------------------


@pytest.fixture
def template():
    template = PlanTemplateFactory(name="PM essentials")
    PlanTemplateItemFactory(
        template=template, course=CourseFactory(title="Discovery"), due_offset_days=14, position=0
    )
    PlanTemplateItemFactory(
        template=template,
        course=CourseFactory(title="Pricing", tuition=Decimal("1200")),
        due_offset_days=45,
        position=1,
    )
    return template


def test_it_shows_each_template_course_with_its_computed_due_date(owner_client, hire, template):
    url = reverse("onboarding:plan_create", args=[hire.pk])
    response = owner_client.get(url, {"template": template.pk})
    assert response.status_code == 200
    html = response.content.decode()
    for item in template.items.all():
        due = hire.start_date + datetime.timedelta(days=item.due_offset_days)
        assert f'name="due_{item.pk}"' in html
        assert f'value="{due.isoformat()}"' in html
    assert f'name="rows_for" value="{template.pk}"' in html


def test_it_preselects_the_template_that_suits_the_hires_role_profile(owner_client, hire, template):
    from onboarding.models import RoleProfile

    profile = RoleProfile.objects.create(name="Platform PM", archetype="technical")
    template.suits_role_profiles.add(profile)
    services.hire_update(actor=None, hire=hire, role_profile=profile)
    url = reverse("onboarding:plan_create", args=[hire.pk])

    response = owner_client.get(url)
    assert response.context["form"]["template"].value() == template.pk
    html = response.content.decode()
    assert f'<option value="{template.pk}" selected>' in html
    assert "Discovery" in html and "Pricing" in html  # its courses, ready to check
    assert "suits the Platform PM role profile" in html
    # A choice made, even a blank plan, is kept.
    blank = owner_client.get(url, {"template": ""})
    assert blank.context["form"]["template"].value() is None


def test_it_starts_blank_when_no_template_suits_the_role_profile(owner_client, hire, template):
    response = owner_client.get(reverse("onboarding:plan_create", args=[hire.pk]))
    assert response.context["form"]["template"].value() is None


def test_it_links_the_shipped_templates_to_their_role_profiles(db):
    from onboarding.models import PlanTemplate, RoleProfile

    technical = RoleProfile.objects.get(name="Technical product manager (APM-style)")
    owner_profile = RoleProfile.objects.get(name="Business owner (P&L)")
    assert set(technical.suited_templates.values_list("name", flat=True)) == {
        "Experienced product manager"
    }
    assert set(owner_profile.suited_templates.values_list("name", flat=True)) == {"Business owner"}
    assert not PlanTemplate.objects.get(name="SAFe organisation").suits_role_profiles.exists()


def test_it_swaps_in_the_template_rows_for_htmx(owner_client, hire, template):
    url = reverse("onboarding:plan_create", args=[hire.pk])
    response = owner_client.get(url, {"template": template.pk}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Discovery" in html and "Pricing" in html


def test_it_creates_a_plan_from_a_template_with_edited_due_dates(owner_client, hire, template):
    first, second = template.items.order_by("position")
    edited = hire.start_date + datetime.timedelta(days=99)
    response = owner_client.post(
        reverse("onboarding:plan_create", args=[hire.pk]),
        {
            "template": template.pk,
            "rows_for": template.pk,
            "title": "",
            f"due_{first.pk}": (hire.start_date + datetime.timedelta(days=14)).isoformat(),
            f"due_{second.pk}": edited.isoformat(),
        },
    )
    plan = TrainingPlan.objects.get(hire=hire)
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()
    assert plan.title == "PM essentials"
    assert plan.template == template
    dues = dict(plan.assignments.values_list("course__title", "due_date"))
    assert dues == {
        "Discovery": hire.start_date + datetime.timedelta(days=14),
        "Pricing": edited,
    }
    assert plan.target_date == edited
    assert any("created" in text for text in message_texts(response))


def test_it_shows_the_rows_first_when_the_template_changed_unseen(owner_client, hire, template):
    response = owner_client.post(
        reverse("onboarding:plan_create", args=[hire.pk]),
        {"template": template.pk, "rows_for": "", "title": "Mine"},
    )
    assert response.status_code == 200
    assert not TrainingPlan.objects.filter(hire=hire).exists()
    html = response.content.decode()
    assert "Discovery" in html
    assert 'value="Mine"' in html


def test_it_refuses_a_missing_due_date(owner_client, hire, template):
    first, second = template.items.order_by("position")
    response = owner_client.post(
        reverse("onboarding:plan_create", args=[hire.pk]),
        {
            "template": template.pk,
            "rows_for": template.pk,
            f"due_{first.pk}": "",
            f"due_{second.pk}": "2030-01-01",
        },
    )
    assert response.status_code == 200
    assert "Give a due date for this course." in response.content.decode()
    assert not TrainingPlan.objects.filter(hire=hire).exists()


def test_it_creates_a_blank_plan_that_carries_the_mileage_guidance(owner_client, hire):
    response = owner_client.post(
        reverse("onboarding:plan_create", args=[hire.pk]),
        {"template": "", "rows_for": "", "title": "Custom plan"},
    )
    plan = TrainingPlan.objects.get(hire=hire)
    assert response.status_code == 302
    assert plan.title == "Custom plan"
    assert not plan.assignments.exists()
    assert plan.guidance.filter(guidance__slug=catalog.MILEAGE_SLUG).exists()

    page = owner_client.get(plan.get_absolute_url()).content.decode()
    assert "This plan has no courses yet — add one below" in page
    assert "guidance-always" in page


# --- plan page -----------------------------------------------------------------------------


def test_it_shows_the_plan_with_progress_health_and_the_rule(owner_client, plan, assignment):
    response = owner_client.get(plan.get_absolute_url())
    html = response.content.decode()
    assert plan.title in html
    assert str(plan.owner) in html
    assert 'id="plan-progress"' in html
    assert 'data-plan-health="on_track"' in html
    assert "Nothing is overdue" in html  # the rule behind "on track", as help text
    assert f'id="assignment-{assignment.pk}"' in html
    assert "Foundations" in html


def test_it_shows_the_mileage_guidance_first_and_offers_no_removal(owner_client, plan):
    GuidanceFactory(rule=Guidance.Rule.MANUAL, position=0, title="Read the room")
    services.guidance_attach(plan=plan, guidance=Guidance.objects.get(title="Read the room"))
    html = owner_client.get(plan.get_absolute_url()).content.decode()
    guidance_html = html[html.index('id="guidance"') :]
    mileage = Guidance.objects.get(slug=catalog.MILEAGE_SLUG)
    assert guidance_html.index(mileage.title) < guidance_html.index("Read the room")
    assert "guidance-always" in guidance_html
    assert "remove" not in guidance_html.lower().replace("removed from a plan", "")


def test_it_edits_the_plan(owner_client, plan, owner):
    response = owner_client.post(
        reverse("onboarding:plan_edit", args=[plan.pk]),
        {
            "title": "Renamed",
            "owner": owner.pk,
            "target_date": "2030-06-30",
            "version": plan.version,
        },
    )
    plan.refresh_from_db()
    assert response.status_code == 302
    assert plan.title == "Renamed"
    assert plan.target_date == datetime.date(2030, 6, 30)
    assert "Plan saved." in message_texts(response)


def test_it_refuses_a_stale_plan_edit_and_says_what_changed(owner_client, plan, owner):
    seen = plan.version
    services.plan_update(actor=owner, plan=plan, title="Changed elsewhere")
    response = owner_client.post(
        reverse("onboarding:plan_edit", args=[plan.pk]),
        {"title": "Mine", "owner": owner.pk, "version": seen},
    )
    plan.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200
    assert plan.title == "Changed elsewhere"
    assert "someone else changed this plan" in html
    assert "Changed elsewhere" in html
    assert f'name="version" value="{plan.version}"' in html


# --- assignments ---------------------------------------------------------------------------


def test_it_adds_a_course_to_the_plan(owner_client, plan):
    course = CourseFactory(title="Roadmapping", tuition=Decimal("500"))
    response = owner_client.post(
        reverse("onboarding:assignment_add", args=[plan.pk]),
        {"course": course.pk, "due_date": "2030-01-15", "paid_by": ""},
    )
    added = plan.assignments.get()
    assert response.status_code == 302
    assert added.course == course
    assert added.tuition_cost == Decimal("500")
    assert added.paid_by == Assignment.PaidBy.EMPLOYER
    assert any("Added" in text for text in message_texts(response))
    # Employer-paid tuition attaches the matching guidance, by rule.
    assert plan.guidance.filter(guidance__rule=Guidance.Rule.EMPLOYER_PAID).exists()


def test_it_refuses_negative_tuition_when_adding(owner_client, plan):
    course = CourseFactory()
    response = owner_client.post(
        reverse("onboarding:assignment_add", args=[plan.pk]),
        {"course": course.pk, "due_date": "2030-01-15", "tuition_cost": "-5"},
    )
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert not plan.assignments.exists()


def test_it_does_not_offer_a_course_already_in_the_plan(owner_client, plan, assignment):
    page = owner_client.get(plan.get_absolute_url()).content.decode()
    add_form = page[page.index('id="add-course-heading"') :]
    assert f'<option value="{assignment.course.pk}"' not in add_form
    response = owner_client.post(
        reverse("onboarding:assignment_add", args=[plan.pk]),
        {"course": assignment.course.pk, "due_date": "2030-01-01"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert plan.assignments.count() == 1


def test_it_edits_an_assignment(owner_client, assignment):
    response = owner_client.post(
        reverse("onboarding:assignment_edit", args=[assignment.pk]),
        {
            "due_date": "2030-02-01",
            "scheduled_for": "2030-01-20",
            "tuition_cost": "300",
            "paid_by": "hire",
            "notes": "Booked",
            "version": assignment.version,
        },
    )
    assignment.refresh_from_db()
    assert response.status_code == 302
    assert assignment.due_date == datetime.date(2030, 2, 1)
    assert assignment.paid_by == "hire"
    assert assignment.tuition_cost == Decimal("300")


def test_it_shows_model_rules_as_form_errors_when_editing(owner_client, assignment):
    response = owner_client.post(
        reverse("onboarding:assignment_edit", args=[assignment.pk]),
        {
            "due_date": "2030-02-01",
            "tuition_cost": "300",
            "paid_by": "free",
            "version": assignment.version,
        },
    )
    assert response.status_code == 200
    assert "A free course has no tuition" in response.content.decode()


def test_it_asks_before_removing_and_removes_on_post(owner_client, plan, assignment):
    url = reverse("onboarding:assignment_remove", args=[assignment.pk])
    confirm = owner_client.get(url)
    assert "Remove the course from the plan" in confirm.content.decode()
    assert plan.assignments.exists()
    response = owner_client.post(url)
    assert response.status_code == 302
    assert not plan.assignments.exists()
    assert any("Removed" in text for text in message_texts(response))


def test_it_moves_assignments_up_and_down(owner_client, plan):
    first = AssignmentFactory(plan=plan, position=0)
    second = AssignmentFactory(plan=plan, position=1)
    owner_client.post(reverse("onboarding:assignment_move", args=[second.pk]), {"direction": "up"})
    assert list(plan.assignments.order_by("position").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    owner_client.post(
        reverse("onboarding:assignment_move", args=[second.pk]), {"direction": "down"}
    )
    assert list(plan.assignments.order_by("position").values_list("pk", flat=True)) == [
        first.pk,
        second.pk,
    ]


# --- inline status changes -----------------------------------------------------------------


def test_it_changes_status_inline_and_updates_progress_out_of_band(owner_client, plan):
    done_later = AssignmentFactory(plan=plan)
    assignment = AssignmentFactory(plan=plan, course=CourseFactory(title="Foundations"))
    response = owner_client.post(
        status_url(assignment),
        {"status": "completed", "completed_on": TODAY().isoformat(), "version": 1},
        **HTMX,
    )
    html = response.content.decode()
    assignment.refresh_from_db()
    assert response.status_code == 200
    assert assignment.status == "completed"
    assert assignment.completed_on == TODAY()
    assert html.lstrip().startswith(f'<tr id="assignment-{assignment.pk}"')
    assert 'id="plan-progress" class="card h-100"' in html
    assert 'hx-swap-oob="true"' in html
    assert 'data-plan-percent="50"' in html
    assert 'id="plan-feedback" hx-swap-oob="innerHTML"' in html
    assert "is now completed" in html
    assert "<html" not in html
    # Nothing is left in the message queue for the next full page.
    assert message_texts(response) == []
    assert done_later.pk != assignment.pk


def test_it_changes_status_without_javascript_by_redirecting(owner_client, assignment):
    response = owner_client.post(
        status_url(assignment), {"status": "in_progress", "version": assignment.version}
    )
    assignment.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#assignment-{assignment.pk}")
    assert assignment.status == "in_progress"
    assert any("is now in progress" in text for text in message_texts(response))


def test_it_uses_today_when_completing_without_a_date(owner_client, assignment):
    owner_client.post(
        status_url(assignment), {"status": "completed", "version": assignment.version}, **HTMX
    )
    assignment.refresh_from_db()
    assert assignment.status == "completed"
    assert assignment.completed_on == TODAY()


def test_it_refuses_waiving_without_a_reason_and_changes_nothing(owner_client, assignment):
    before = Assignment.objects.filter(pk=assignment.pk).values().get()
    response = owner_client.post(
        status_url(assignment), {"status": "waived", "version": assignment.version}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Say why the course is waived." in html
    assert "data-row-error" in html
    assert Assignment.objects.filter(pk=assignment.pk).values().get() == before


def test_it_waives_with_a_reason(owner_client, assignment):
    owner_client.post(
        status_url(assignment),
        {"status": "waived", "reason": "Took it last year", "version": assignment.version},
        **HTMX,
    )
    assignment.refresh_from_db()
    assert assignment.status == "waived"
    assert assignment.completed_on is None
    assert "Waived: Took it last year" in assignment.notes


def test_it_refuses_a_waive_without_reason_without_javascript(owner_client, assignment):
    response = owner_client.post(
        status_url(assignment), {"status": "waived", "version": assignment.version}
    )
    assignment.refresh_from_db()
    assert response.status_code == 302
    assert assignment.status == "assigned"
    assert any("Say why" in text for text in message_texts(response))


def test_it_refuses_a_future_completion_date(owner_client, assignment):
    tomorrow = TODAY() + datetime.timedelta(days=1)
    response = owner_client.post(
        status_url(assignment),
        {"status": "completed", "completed_on": tomorrow.isoformat(), "version": 1},
        **HTMX,
    )
    assignment.refresh_from_db()
    assert "cannot be in the future" in response.content.decode()
    assert assignment.status == "assigned"


def test_it_refuses_a_stale_status_change_and_shows_what_changed(owner_client, owner, assignment):
    seen = assignment.version
    services.assignment_set_status(
        actor=owner, assignment=Assignment.objects.get(pk=assignment.pk), status="in_progress"
    )
    response = owner_client.post(
        status_url(assignment), {"status": "completed", "version": seen}, **HTMX
    )
    html = response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "in_progress"
    assert "someone else changed this assignment" in html
    assert "status: Assigned → In progress" in html
    # The row now carries the current version, so the next try can succeed.
    assert f'name="version" value="{assignment.version}"' in html


def test_it_records_a_certification_earned_through_the_course(owner_client, plan):
    certification = CertificationFactory()
    assignment = AssignmentFactory(plan=plan, course=CourseFactory(certification=certification))
    earned = TODAY() - datetime.timedelta(days=1)
    owner_client.post(
        status_url(assignment),
        {
            "status": "completed",
            "completed_on": earned.isoformat(),
            "certification_earned_on": earned.isoformat(),
            "version": assignment.version,
        },
        **HTMX,
    )
    assignment.refresh_from_db()
    assert assignment.certification_earned_on == earned
    assert plan.hire.certifications.filter(certification=certification).exists()


def test_it_records_when_the_certification_expires(owner_client, plan):
    certification = CertificationFactory()
    assignment = AssignmentFactory(plan=plan, course=CourseFactory(certification=certification))
    earned = TODAY() - datetime.timedelta(days=1)
    expires = earned + datetime.timedelta(days=730)
    owner_client.post(
        status_url(assignment),
        {
            "status": "completed",
            "certification_earned_on": earned.isoformat(),
            "certification_expires_on": expires.isoformat(),
            "version": assignment.version,
        },
        **HTMX,
    )
    held = plan.hire.certifications.get(certification=certification)
    assert held.expires_on == expires
    assert held.assignment_id == assignment.pk


@pytest.mark.parametrize("earned_offset", [None, 1])
def test_it_refuses_an_expiry_without_earning_or_before_it(owner_client, plan, earned_offset):
    assignment = AssignmentFactory(
        plan=plan, course=CourseFactory(certification=CertificationFactory())
    )
    data = {
        "status": "completed",
        "certification_expires_on": (TODAY() - datetime.timedelta(days=5)).isoformat(),
        "version": assignment.version,
    }
    if earned_offset is not None:
        data["certification_earned_on"] = (
            TODAY() - datetime.timedelta(days=earned_offset)
        ).isoformat()
    html = owner_client.post(status_url(assignment), data, **HTMX).content.decode()
    assert "Not saved" in html
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED
    assert not plan.hire.certifications.exists()


def test_it_offers_the_certification_date_only_for_certification_courses(owner_client, plan):
    plain = AssignmentFactory(plan=plan)
    with_cert = AssignmentFactory(
        plan=plan, course=CourseFactory(certification=CertificationFactory())
    )
    html = owner_client.get(plan.get_absolute_url()).content.decode()
    assert f'id="cert-earned-{with_cert.pk}"' in html
    assert f'id="cert-earned-{plain.pk}"' not in html


# --- guidance ------------------------------------------------------------------------------


def test_it_saves_the_managers_note_inline(owner_client, mileage):
    url = reverse("onboarding:plan_guidance_update", args=[mileage.pk])
    response = owner_client.post(url, {"manager_note": "  Our PMs own pricing.  "}, **HTMX)
    mileage.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200
    assert mileage.manager_note == "Our PMs own pricing."
    assert html.lstrip().startswith(f'<article id="guidance-{mileage.pk}"')
    assert "Our PMs own pricing." in html
    assert "Note saved" in html


def test_it_marks_guidance_discussed_and_shows_who_and_when(owner_client, owner, mileage):
    url = reverse("onboarding:plan_guidance_update", args=[mileage.pk])
    response = owner_client.post(url, {"discussed": "1"}, **HTMX)
    mileage.refresh_from_db()
    assert mileage.acknowledged_by == owner
    assert mileage.acknowledged_at is not None
    html = response.content.decode()
    assert "Discussed with the hire" in html
    assert str(owner) in html

    owner_client.post(url, {"discussed": "0"}, **HTMX)
    mileage.refresh_from_db()
    assert mileage.acknowledged_at is None


def test_it_updates_guidance_without_javascript(owner_client, mileage):
    url = reverse("onboarding:plan_guidance_update", args=[mileage.pk])
    response = owner_client.post(url, {"manager_note": "Adapt"})
    mileage.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#guidance-{mileage.pk}")
    assert mileage.manager_note == "Adapt"
    assert any("Note saved" in text for text in message_texts(response))


def test_it_attaches_manual_guidance_from_the_library(owner_client, plan):
    manual = GuidanceFactory(rule=Guidance.Rule.MANUAL, title="Shadow sales calls")
    page = owner_client.get(plan.get_absolute_url()).content.decode()
    assert "Shadow sales calls" in page
    response = owner_client.post(
        reverse("onboarding:plan_guidance_attach", args=[plan.pk]), {"guidance": manual.pk}
    )
    assert response.status_code == 302
    assert plan.guidance.filter(guidance=manual).exists()


def test_it_attaches_only_manual_guidance(owner_client, plan):
    by_rule = GuidanceFactory(rule=Guidance.Rule.NEW_TO_PM)
    response = owner_client.post(
        reverse("onboarding:plan_guidance_attach", args=[plan.pk]), {"guidance": by_rule.pk}
    )
    assert response.status_code == 302
    assert not plan.guidance.filter(guidance=by_rule).exists()
    assert any("Choose guidance" in text for text in message_texts(response))


# --- query counts --------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_it_renders_the_plan_page_in_constant_queries(
    owner_client, plan, django_assert_max_num_queries
):
    certification = CertificationFactory()
    for index in range(3):
        AssignmentFactory(
            plan=plan, course=CourseFactory(certification=certification), position=index
        )
    small = count_queries(owner_client, plan.get_absolute_url())
    for index in range(3, 20):
        AssignmentFactory(
            plan=plan, course=CourseFactory(certification=certification), position=index
        )
    for _ in range(3):
        services.guidance_attach(plan=plan, guidance=GuidanceFactory())
    large = count_queries(owner_client, plan.get_absolute_url())
    assert large == small
    with django_assert_max_num_queries(small):
        owner_client.get(plan.get_absolute_url())


def test_it_refuses_a_stale_assignment_edit_and_keeps_the_users_values(
    owner_client, owner, assignment
):
    seen = assignment.version
    services.assignment_update(
        actor=owner,
        assignment=Assignment.objects.get(pk=assignment.pk),
        due_date=datetime.date(2031, 5, 1),
    )
    response = owner_client.post(
        reverse("onboarding:assignment_edit", args=[assignment.pk]),
        {"due_date": "2030-02-01", "paid_by": "employer", "version": seen},
    )
    assignment.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200
    assert assignment.due_date == datetime.date(2031, 5, 1)
    assert "due date:" in html and "1 May 2031" in html
    assert 'value="2030-02-01"' in html
