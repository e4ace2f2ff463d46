"""Property-based tests over every form of the dashboard.

Arbitrary text, huge strings, odd Unicode, dates far out of range, negative or
absurd numbers: every form answers with a page or a redirect, never a 500 (the
test client re-raises any exception a view lets escape), and a refused form
saves nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding import catalog
from onboarding.models import (
    Assignment,
    Certification,
    Course,
    Guidance,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    RoleProfile,
    TrainingPlan,
)

from .factories import AssignmentFactory, CertificationFactory, CourseFactory, UserFactory

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

odd_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # lone surrogates cannot be sent
    max_size=300,
)
huge_text = st.sampled_from(["x" * 100_000, "é" * 20_000, "=" * 5_000 + "1+1"])
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "31/12/2026", "tomorrow", ""]),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["-1", "-0.01", "1e100", "NaN", "Infinity", "-Infinity", "0x10", "1,000"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
any_value = st.one_of(odd_text, huge_text, dates, numbers, st.sampled_from(["on", "true", "0"]))


def fuzzed(fields: list[str]):
    return st.fixed_dictionaries({}, optional=dict.fromkeys(fields, any_value))


def counts() -> dict[str, int]:
    models = (Assignment, Certification, Course, Guidance, NewHire, PlanTemplate)
    return {model.__name__: model.objects.count() for model in (*models, RoleProfile, TrainingPlan)}


def post_and_check(client, url: str, data: dict) -> None:
    before = counts()
    response = client.post(url, data)
    assert response.status_code in (200, 302, 400, 403, 404, 409, 422), response.status_code
    if response.status_code != 302:
        assert counts() == before, f"a refused form saved something: {data!r}"


HIRE_FIELDS = [
    "full_name",
    "email",
    "title",
    "role_profile",
    "hiring_manager",
    "start_date",
    "new_to_product_management",
    "previous_role",
    "notes",
    "expected_version",
]
ASSIGNMENT_FIELDS = ["course", "due_date", "scheduled_for", "tuition_cost", "paid_by", "notes"]


@given(data=fuzzed(HIRE_FIELDS))
@FUZZ
def test_it_survives_anything_in_the_hire_form(owner_client, data):
    post_and_check(owner_client, reverse("onboarding:hire_create"), data)


@given(data=fuzzed(HIRE_FIELDS))
@FUZZ
def test_it_survives_anything_in_the_hire_edit_form(owner_client, hire, data):
    post_and_check(owner_client, reverse("onboarding:hire_edit", args=[hire.pk]), data)


@given(data=fuzzed(["template", "title", "target_date", "rows_for"]), start=dates)
@FUZZ
def test_it_survives_anything_in_the_plan_form(owner_client, hire, data, start):
    url = reverse("onboarding:plan_create", args=[hire.pk])
    post_and_check(owner_client, url, data)
    template = PlanTemplate.objects.filter(items__isnull=False).first()
    due = {f"due_{item.pk}": start for item in template.items.all()}
    post_and_check(
        owner_client, url, {**data, "template": template.pk, "rows_for": template.pk, **due}
    )


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31"])
def test_it_refuses_start_dates_that_no_plan_could_follow(owner_client, start):
    data = {"full_name": "Far Away", "email": "far@example.com", "title": "PM", "start_date": start}
    response = owner_client.post(reverse("onboarding:hire_create"), data)
    assert response.status_code == 200
    assert "start_date" in response.context["form"].errors
    assert not NewHire.objects.filter(email="far@example.com").exists()


@given(data=fuzzed(["title", "owner", "target_date", "version"]))
@FUZZ
def test_it_survives_anything_in_the_plan_edit_form(owner_client, plan, data):
    post_and_check(owner_client, reverse("onboarding:plan_edit", args=[plan.pk]), data)


@given(data=fuzzed(ASSIGNMENT_FIELDS))
@FUZZ
def test_it_survives_anything_in_the_add_course_form(owner_client, plan, data):
    data.setdefault("course", str(Course.objects.filter(active=True).first().pk))
    post_and_check(owner_client, reverse("onboarding:assignment_add", args=[plan.pk]), data)


@pytest.fixture
def assignment(plan):
    course = CourseFactory(certification=CertificationFactory(name="Fuzz cert"))
    return AssignmentFactory(plan=plan, course=course)


@given(data=fuzzed([*ASSIGNMENT_FIELDS, "version"]))
@FUZZ
def test_it_survives_anything_in_the_assignment_edit_form(owner_client, assignment, data):
    post_and_check(owner_client, reverse("onboarding:assignment_edit", args=[assignment.pk]), data)


@given(
    data=fuzzed(
        [
            "completed_on",
            "certification_earned_on",
            "certification_expires_on",
            "reason",
            "version",
        ]
    ),
    status=st.one_of(st.sampled_from(Assignment.Status.values), odd_text),
)
@FUZZ
def test_it_survives_anything_in_the_status_form(owner_client, assignment, data, status):
    url = reverse("onboarding:assignment_status", args=[assignment.pk])
    post_and_check(owner_client, url, {**data, "status": status})
    assignment.refresh_from_db()
    # Whatever was sent, the row still obeys the completion rules.
    assert (assignment.status == "completed") == (assignment.completed_on is not None)


@given(data=fuzzed(["manager_note", "discussed"]))
@FUZZ
def test_it_survives_anything_in_the_guidance_note(owner_client, plan, data):
    item = PlanGuidance.objects.get(plan=plan, guidance__slug=catalog.MILEAGE_SLUG)
    post_and_check(owner_client, reverse("onboarding:plan_guidance_update", args=[item.pk]), data)


@pytest.fixture
def editor_client(client, db):
    client.force_login(UserFactory(username="fuzz-editor", is_superuser=True, is_staff=True))
    return client


CATALOG_FORMS = {
    "course": [
        "title",
        "provider",
        "delivery",
        "duration_hours",
        "tuition",
        "currency",
        "certification",
        "url",
        "description",
        "active",
    ],
    "certification": ["name", "issuer", "abbreviation", "framework_bound", "notes"],
    "roleprofile": ["name", "archetype", "expectations", "active"],
    "guidance": ["slug", "title", "body", "rule", "position", "active"],
    "plantemplate": [
        "name",
        "description",
        "active",
        "items-TOTAL_FORMS",
        "items-INITIAL_FORMS",
        "items-0-course",
        "items-0-due_offset_days",
        "items-0-position",
    ],
}


@pytest.mark.parametrize("kind", CATALOG_FORMS)
def test_it_survives_anything_in_the_catalog_forms(editor_client, kind):
    @given(data=fuzzed(CATALOG_FORMS[kind]))
    @FUZZ
    def run(data):
        post_and_check(editor_client, reverse(f"onboarding:{kind}_create"), data)

    run()


@given(data=fuzzed(["receives_digest"]))
@FUZZ
def test_it_survives_anything_in_the_profile_form(owner_client, data):
    response = owner_client.post(reverse("onboarding:profile"), data)
    # A NUL byte is input no person could send: the middleware answers 400 for it.
    nul = any("\x00" in str(value) for value in data.values())
    assert response.status_code in ((400,) if nul else (200, 302))


def test_it_refuses_template_due_dates_out_of_range(owner_client, hire):
    template = PlanTemplate.objects.filter(items__isnull=False).first()
    due = {f"due_{item.pk}": "1900-01-01" for item in template.items.all()}
    url = reverse("onboarding:plan_create", args=[hire.pk])
    response = owner_client.post(url, {"template": template.pk, "rows_for": template.pk, **due})
    assert response.status_code == 200
    assert "Use a date in 1990 or later." in response.content.decode()
    assert not hire.plans.exists()
