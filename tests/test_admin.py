"""The admin site: every page answers, managers see only their own hires, writes keep the rules."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.forms import CheckboxInput
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import catalog, services
from onboarding.models import (
    Assignment,
    Certification,
    Course,
    DigestDelivery,
    Guidance,
    HeldCertification,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    RoleProfile,
    TrainingPlan,
    User,
)

from .factories import (
    AssignmentFactory,
    CourseFactory,
    HeldCertificationFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    TrainingPlanFactory,
    UserFactory,
)

HIRE_MODELS = ["newhire", "trainingplan", "assignment", "heldcertification", "planguidance"]
CATALOG_MODELS = ["roleprofile", "certification", "course", "plantemplate", "guidance"]
SECRET_NAME = "Xavier Secretive"


def url(model: str, view: str, *args: object) -> str:
    app = "auth" if model == "group" else "onboarding"
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def safe_course(db):
    """A shipped course leading to a framework-bound (SAFe) certification."""
    return Course.objects.filter(certification__framework_bound=True).first()


@pytest.fixture
def assignment(plan, safe_course):
    return AssignmentFactory(
        plan=plan, course=safe_course, due_date=today() - datetime.timedelta(3)
    )


@pytest.fixture
def held(hire):
    return HeldCertificationFactory(hire=hire)


@pytest.fixture
def world(hire, plan, assignment, held):
    """One of everything for the owner's hire."""
    return {
        "newhire": hire,
        "trainingplan": plan,
        "assignment": assignment,
        "heldcertification": held,
        "planguidance": plan.guidance.first(),
    }


@pytest.fixture
def secret(outsider):
    """The outsider's hire, with a plan, an assignment and a certification."""
    hire = NewHireFactory(hiring_manager=outsider, full_name=SECRET_NAME, email="x@example.com")
    plan = TrainingPlanFactory(hire=hire, title="Secret plan")
    return {
        "newhire": hire,
        "trainingplan": plan,
        "assignment": AssignmentFactory(plan=plan),
        "heldcertification": HeldCertificationFactory(hire=hire),
        "planguidance": plan.guidance.first(),
    }


def form_data(response) -> dict[str, object]:
    """What the browser would post back from an admin change or add page, unchanged."""
    data: dict[str, object] = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field.widget, CheckboxInput):
                if value:
                    data[key] = "on"
            else:
                data[key] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


def formset_prefix(response, model, *, can_add: bool | None = None) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model and (
            can_add is None or inline.has_add_permission == can_add
        ):
            return inline.formset.prefix
    raise AssertionError(f"no inline for {model}")


def add_inline_row(data: dict, prefix: str, row: dict[str, object]) -> None:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in row.items():
        data[f"{prefix}-{index}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = index + 1


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- every page answers --------------------------------------------------------------------


def test_it_registers_every_model():
    registered = {model._meta.model_name for model in admin.site._registry}
    assert {*HIRE_MODELS, *CATALOG_MODELS, "plantemplateitem"} - {"plantemplateitem"} <= registered
    assert User in admin.site._registry


@pytest.mark.parametrize("model", HIRE_MODELS)
def test_it_answers_200_on_hire_pages_for_people_ops(people_ops_client, world, model):
    pk = world[model].pk
    for page in (
        url(model, "changelist"),
        url(model, "add"),
        url(model, "change", pk),
        url(model, "history", pk),
    ):
        response = people_ops_client.get(page)
        assert response.status_code == 200, page
    assert world[model].__class__.__name__ in {
        "NewHire",
        "TrainingPlan",
        "Assignment",
        "HeldCertification",
        "PlanGuidance",
    }


@pytest.mark.parametrize("model", CATALOG_MODELS)
def test_it_shows_the_catalog_read_only_to_people_ops(people_ops_client, model):
    obj = {
        "roleprofile": RoleProfile,
        "certification": Certification,
        "course": Course,
        "plantemplate": PlanTemplate,
        "guidance": Guidance,
    }[model].objects.first()
    assert people_ops_client.get(url(model, "changelist")).status_code == 200
    response = people_ops_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert people_ops_client.get(url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", [*CATALOG_MODELS, "user"])
def test_it_answers_200_on_catalog_pages_for_a_superuser(superuser_client, superuser, model):
    obj = {
        "roleprofile": RoleProfile,
        "certification": Certification,
        "course": Course,
        "plantemplate": PlanTemplate,
        "guidance": Guidance,
        "user": User,
    }[model].objects.first()
    for page in (url(model, "changelist"), url(model, "add"), url(model, "change", obj.pk)):
        assert superuser_client.get(page).status_code == 200, page


def test_it_shows_receives_digest_on_the_user_list(superuser_client, owner):
    response = superuser_client.get(url("user", "changelist"))
    assert "receives_digest" in response.context["cl"].list_display


@pytest.mark.parametrize("model", HIRE_MODELS)
def test_it_answers_200_on_the_owners_own_pages(owner_client, world, model):
    assert owner_client.get(url(model, "changelist")).status_code == 200
    assert owner_client.get(url(model, "change", world[model].pk)).status_code == 200


def test_it_sends_anonymous_visitors_to_the_admin_login(client, world):
    response = client.get(url("newhire", "change", world["newhire"].pk))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


# --- a manager sees only their own hires ---------------------------------------------------


@pytest.mark.parametrize("model", HIRE_MODELS)
def test_it_keeps_other_managers_rows_out_of_changelists(owner_client, world, secret, model):
    params = {"archived": "all"} if model == "newhire" else {}
    response = owner_client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    content = response.content.decode()
    assert SECRET_NAME not in content
    assert "Secret plan" not in content
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert world[model].pk in shown
    assert secret[model].pk not in shown


@pytest.mark.parametrize("model", HIRE_MODELS)
def test_it_never_opens_another_managers_object(owner_client, secret, model):
    pk = secret[model].pk
    response = owner_client.get(url(model, "change", pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert any("doesn’t exist" in text for text in message_texts(response))
    followed = owner_client.get(url(model, "change", pk), follow=True)
    assert SECRET_NAME not in followed.content.decode()


@pytest.mark.parametrize("model", ["newhire", "trainingplan", "assignment", "planguidance"])
def test_it_hides_another_managers_history(owner_client, secret, model):
    obj = secret[model]
    assert owner_client.get(url(model, "history", obj.pk)).status_code == 404
    version = obj.history.first()  # None for guidance the database trigger attached
    revert = url(model, "simple_history", obj.pk, version.history_id if version else 1)
    assert owner_client.get(revert).status_code == 404
    assert owner_client.post(revert, {}).status_code == 404


def test_it_lets_people_ops_read_every_history(people_ops_client, secret):
    hire = secret["newhire"]
    response = people_ops_client.get(url("newhire", "history", hire.pk))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model_name", "field_name", "own", "other"),
    [
        ("trainingplan", "hire", "newhire", "newhire"),
        ("heldcertification", "hire", "newhire", "newhire"),
        ("assignment", "plan", "trainingplan", "trainingplan"),
        ("planguidance", "plan", "trainingplan", "trainingplan"),
        ("heldcertification", "assignment", "assignment", "assignment"),
    ],
)
def test_it_scopes_autocomplete_results(
    owner_client, world, secret, model_name, field_name, own, other
):
    response = owner_client.get(
        "/admin/autocomplete/",
        {"app_label": "onboarding", "model_name": model_name, "field_name": field_name},
    )
    assert response.status_code == 200
    ids = {result["id"] for result in response.json()["results"]}
    assert str(world[own].pk) in ids
    assert str(secret[other].pk) not in ids
    assert SECRET_NAME not in response.content.decode()


def test_it_scopes_autocomplete_search_too(owner_client, world, secret):
    response = owner_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "onboarding",
            "model_name": "trainingplan",
            "field_name": "hire",
            "term": "Xavier",
        },
    )
    assert response.json()["results"] == []


def test_it_scopes_foreign_key_choices_on_the_plan_form(owner_client, owner, world, secret):
    response = owner_client.get(url("trainingplan", "add"))
    fields = response.context["adminform"].form.fields
    assert set(fields["hire"].queryset) == {world["newhire"]}
    assert set(fields["owner"].queryset) == {owner}
    assert SECRET_NAME not in response.content.decode()


def test_it_refuses_another_managers_hire_posted_to_the_plan_form(owner_client, secret):
    response = owner_client.get(url("trainingplan", "add"))
    data = form_data(response)
    data.update(hire=secret["newhire"].pk, title="Sneaky plan")
    response = owner_client.post(url("trainingplan", "add"), data)
    assert response.status_code == 200
    assert "hire" in response.context["adminform"].form.errors
    assert not TrainingPlan.objects.filter(title="Sneaky plan").exists()


def test_it_scopes_choices_on_held_certifications_and_assignments(owner_client, world, secret):
    response = owner_client.get(url("heldcertification", "add"))
    fields = response.context["adminform"].form.fields
    assert set(fields["hire"].queryset) == {world["newhire"]}
    assert set(fields["assignment"].queryset) == {world["assignment"]}
    response = owner_client.get(url("assignment", "add"))
    assert set(response.context["adminform"].form.fields["plan"].queryset) == {
        world["trainingplan"]
    }


def test_it_limits_a_managers_hiring_manager_to_themselves(owner_client, owner, outsider):
    response = owner_client.get(url("newhire", "add"))
    field = response.context["adminform"].form.fields["hiring_manager"]
    assert set(field.queryset) == {owner}
    assert response.context["adminform"].form.initial["hiring_manager"] == owner.pk
    data = form_data(response)
    data.update(
        full_name="New Person",
        email="new.person@example.com",
        start_date=str(today()),
        hiring_manager=outsider.pk,
    )
    response = owner_client.post(url("newhire", "add"), data)
    assert response.status_code == 200
    assert "hiring_manager" in response.context["adminform"].form.errors
    data["hiring_manager"] = owner.pk
    response = owner_client.post(url("newhire", "add"), data)
    assert response.status_code == 302
    assert NewHire.objects.get(email="new.person@example.com").hiring_manager == owner


def test_it_offers_people_ops_every_active_manager(people_ops_client, owner, outsider):
    response = people_ops_client.get(url("newhire", "add"))
    choices = set(response.context["adminform"].form.fields["hiring_manager"].queryset)
    assert {owner, outsider} <= choices


def test_it_ignores_actions_on_another_managers_rows(owner_client, secret):
    other = secret["assignment"]
    owner_client.post(
        url("assignment", "changelist"),
        {"action": "complete_selected", "_selected_action": [other.pk], "index": 0},
    )
    other.refresh_from_db()
    assert other.status == Assignment.Status.ASSIGNED


@pytest.mark.parametrize(("model", "header"), [("newhire", "full_name"), ("assignment", "hire")])
def test_it_exports_selected_rows_as_csv(owner_client, hire, secret, model, header):
    plan = TrainingPlanFactory(hire=hire)
    mine = hire if model == "newhire" else AssignmentFactory(plan=plan)
    hire.full_name = "=cmd|' /C calc'!A0"
    hire.save(update_fields=["full_name"])
    response = owner_client.post(
        url(model, "changelist"),
        {
            "action": "export_selected",
            "_selected_action": [mine.pk, secret[model].pk],
            "index": 0,
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.splitlines()
    assert header in lines[0]
    assert len(lines) == 2  # the header and the owner's row: the other manager's is dropped
    assert "'=cmd" in body
    assert SECRET_NAME not in body


# --- creating and editing plans ------------------------------------------------------------


def test_it_gives_a_plan_created_in_the_admin_its_guidance(people_ops_client, hire, safe_course):
    response = people_ops_client.get(url("trainingplan", "add"))
    data = form_data(response)
    data.update(hire=hire.pk, title="Admin plan", owner="")
    add_inline_row(
        data,
        formset_prefix(response, Assignment),
        {
            "course": safe_course.pk,
            "due_date": str(today() + datetime.timedelta(days=30)),
            "status": "assigned",
            "paid_by": "free",
            "position": 0,
        },
    )
    response = people_ops_client.post(url("trainingplan", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    plan = TrainingPlan.objects.get(title="Admin plan")
    slugs = set(plan.guidance.values_list("guidance__slug", flat=True))
    assert catalog.MILEAGE_SLUG in slugs
    assert "framework-certifications" in slugs
    assert "certificate-is-not-the-job" in slugs
    assert plan.owner == hire.hiring_manager
    assert plan.history.first().history_user.username == "peopleops"


def test_it_adds_the_template_courses_of_a_plan_created_in_the_admin(people_ops_client, hire):
    template = PlanTemplateFactory()
    items = PlanTemplateItemFactory.create_batch(2, template=template, due_offset_days=20)
    response = people_ops_client.get(url("trainingplan", "add"))
    data = form_data(response)
    data.update(hire=hire.pk, title="From template", template=template.pk)
    response = people_ops_client.post(url("trainingplan", "add"), data)
    assert response.status_code == 302
    plan = TrainingPlan.objects.get(title="From template")
    assert {a.course_id for a in plan.assignments.all()} == {item.course_id for item in items}
    assert plan.target_date == hire.start_date + datetime.timedelta(days=20)
    assert plan.guidance.filter(guidance__slug=catalog.MILEAGE_SLUG).exists()


def test_it_attaches_framework_guidance_when_an_inline_adds_a_safe_course(
    people_ops_client, plan, safe_course
):
    assert not plan.guidance.filter(guidance__slug="framework-certifications").exists()
    response = people_ops_client.get(url("trainingplan", "change", plan.pk))
    data = form_data(response)
    add_inline_row(
        data,
        formset_prefix(response, Assignment),
        {
            "course": safe_course.pk,
            "due_date": str(today() + datetime.timedelta(days=30)),
            "status": "assigned",
            "paid_by": "free",
            "position": 0,
        },
    )
    response = people_ops_client.post(url("trainingplan", "change", plan.pk), data)
    assert response.status_code == 302
    assert plan.guidance.filter(guidance__slug="framework-certifications").exists()
    plan.refresh_from_db()
    assert plan.version == 2


def test_it_syncs_guidance_when_an_assignment_is_saved(people_ops_client, plan, safe_course):
    response = people_ops_client.get(url("assignment", "add"))
    data = form_data(response)
    data.update(
        plan=plan.pk,
        course=safe_course.pk,
        due_date=str(today()),
        status="assigned",
        paid_by="free",
        position=0,
    )
    response = people_ops_client.post(url("assignment", "add"), data)
    assert response.status_code == 302
    assert plan.guidance.filter(guidance__slug="framework-certifications").exists()


def test_it_never_deletes_plan_guidance(people_ops_client, superuser_client, plan):
    mileage = plan.guidance.get(guidance__slug=catalog.MILEAGE_SLUG)
    response = people_ops_client.get(url("trainingplan", "change", plan.pk))
    guidance_inlines = [
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is PlanGuidance
    ]
    assert guidance_inlines
    assert not any(inline.formset.can_delete for inline in guidance_inlines)
    data = form_data(response)
    prefix = formset_prefix(response, PlanGuidance, can_add=False)
    data[f"{prefix}-0-DELETE"] = "on"
    data[f"{prefix}-0-manager_note"] = "We use half of this."
    response = people_ops_client.post(url("trainingplan", "change", plan.pk), data)
    assert response.status_code == 302
    mileage.refresh_from_db()
    assert mileage.manager_note == "We use half of this."
    # Not even a superuser: no delete page, no bulk delete action.
    assert superuser_client.get(url("planguidance", "delete", mileage.pk)).status_code == 403
    response = superuser_client.get(url("planguidance", "changelist"))
    assert "delete_selected" not in dict(response.context["action_form"].fields["action"].choices)


def test_it_lets_a_superuser_delete_a_plan_with_its_guidance(superuser_client, plan):
    response = superuser_client.get(url("trainingplan", "delete", plan.pk))
    assert response.status_code == 200
    assert not response.context["perms_lacking"]
    response = superuser_client.post(url("trainingplan", "delete", plan.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not TrainingPlan.objects.filter(pk=plan.pk).exists()
    assert not PlanGuidance.objects.filter(plan_id=plan.pk).exists()


def test_it_refuses_a_second_copy_of_attached_guidance(people_ops_client, plan):
    mileage = Guidance.objects.get(slug=catalog.MILEAGE_SLUG)
    response = people_ops_client.get(url("trainingplan", "change", plan.pk))
    data = form_data(response)
    add_inline_row(
        data,
        formset_prefix(response, PlanGuidance, can_add=True),
        {"guidance": mileage.pk, "manager_note": ""},
    )
    response = people_ops_client.post(url("trainingplan", "change", plan.pk), data)
    assert response.status_code == 200
    assert "already attached to this plan" in response.content.decode()
    assert plan.guidance.filter(guidance=mileage).count() == 1
    # The plan guidance page refuses it too (a unique constraint, validated by the form).
    response = people_ops_client.get(url("planguidance", "add"))
    data = form_data(response)
    data.update(plan=plan.pk, guidance=mileage.pk)
    response = people_ops_client.post(url("planguidance", "add"), data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert plan.guidance.filter(guidance=mileage).count() == 1


def test_it_attaches_manual_guidance_with_a_snapshot(people_ops_client, plan):
    manual = Guidance.objects.get(slug="role-defined-here")
    response = people_ops_client.get(url("trainingplan", "change", plan.pk))
    data = form_data(response)
    add_inline_row(
        data,
        formset_prefix(response, PlanGuidance, can_add=True),
        {"guidance": manual.pk, "manager_note": "Read the profile together."},
    )
    response = people_ops_client.post(url("trainingplan", "change", plan.pk), data)
    assert response.status_code == 302
    attached = plan.guidance.get(guidance=manual)
    assert attached.body == manual.body
    assert attached.manager_note == "Read the profile together."


def test_it_keeps_the_plan_guidance_snapshot_read_only(people_ops_client, plan):
    attached = plan.guidance.first()
    response = people_ops_client.get(url("planguidance", "change", attached.pk))
    assert "body" not in response.context["adminform"].form.fields
    data = form_data(response)
    data.update(body="Rewritten", manager_note="Noted.")
    people_ops_client.post(url("planguidance", "change", attached.pk), data)
    attached.refresh_from_db()
    assert attached.body != "Rewritten"
    assert attached.manager_note == "Noted."


def test_it_refuses_to_deactivate_always_guidance_with_a_clean_error(superuser_client):
    mileage = Guidance.objects.get(slug=catalog.MILEAGE_SLUG)
    response = superuser_client.get(url("guidance", "change", mileage.pk))
    data = form_data(response)
    data.pop("active", None)
    response = superuser_client.post(url("guidance", "change", mileage.pk), data)
    assert response.status_code == 200
    assert "cannot be deactivated" in response.content.decode()
    mileage.refresh_from_db()
    assert mileage.active
    assert mileage.rule == Guidance.Rule.ALWAYS


def test_it_lets_people_ops_edit_a_hire_and_bumps_its_version(people_ops_client, hire):
    response = people_ops_client.get(url("newhire", "change", hire.pk))
    data = form_data(response)
    data["title"] = "Senior Product Manager"
    response = people_ops_client.post(url("newhire", "change", hire.pk), data)
    assert response.status_code == 302
    hire.refresh_from_db()
    assert hire.title == "Senior Product Manager"
    assert hire.version == 2
    assert hire.history.first().history_user.username == "peopleops"


def test_it_refuses_to_overwrite_a_newer_save(people_ops_client, hire):
    response = people_ops_client.get(url("newhire", "change", hire.pk))
    data = form_data(response)
    services.hire_update(actor=hire.hiring_manager, hire=hire, title="Changed meanwhile")
    data["title"] = "Mine"
    response = people_ops_client.post(url("newhire", "change", hire.pk), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Not saved: someone else changed this hire after you opened the page" in body
    # What the other person changed, from the history.
    assert "Changed meanwhile" in body
    hire.refresh_from_db()
    assert hire.title == "Changed meanwhile"


def test_it_attaches_new_to_pm_guidance_when_the_hire_changes(people_ops_client, hire, plan):
    response = people_ops_client.get(url("newhire", "change", hire.pk))
    data = form_data(response)
    data["new_to_product_management"] = "on"
    assert people_ops_client.post(url("newhire", "change", hire.pk), data).status_code == 302
    assert plan.guidance.filter(guidance__slug="new-to-product-management").exists()


def test_it_shows_plans_and_certifications_on_the_hire_page(people_ops_client, world):
    response = people_ops_client.get(url("newhire", "change", world["newhire"].pk))
    models = {inline.formset.model for inline in response.context["inline_admin_formsets"]}
    assert models == {TrainingPlan, HeldCertification}
    content = response.content.decode()
    assert url("trainingplan", "change", world["trainingplan"].pk) in content
    assert "Overdue" in content  # the plan's health, from with_progress()


def test_it_records_a_held_certification_entered_on_an_assignment(people_ops_client, assignment):
    response = people_ops_client.get(url("assignment", "change", assignment.pk))
    data = form_data(response)
    data.update(status="completed", completed_on=str(today()), certification_earned_on=str(today()))
    response = people_ops_client.post(url("assignment", "change", assignment.pk), data)
    assert response.status_code == 302
    assert HeldCertification.objects.filter(
        hire=assignment.plan.hire, certification=assignment.course.certification
    ).exists()


# --- actions -------------------------------------------------------------------------------


def run_action(client, model: str, action: str, pks: list[int], **extra: object):
    data = {"action": action, "_selected_action": pks, "index": 0, **extra}
    return client.post(url(model, "changelist"), data)


def test_it_marks_assignments_completed_today(people_ops_client, assignment):
    response = run_action(people_ops_client, "assignment", "complete_selected", [assignment.pk])
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.COMPLETED
    assert assignment.completed_on == today()
    assert assignment.history.first().history_user.username == "peopleops"
    assert any("marked completed" in text for text in message_texts(response))


def test_it_keeps_the_date_of_an_already_completed_assignment(people_ops_client, plan):
    done = AssignmentFactory(
        plan=plan, status="completed", completed_on=today() - datetime.timedelta(9)
    )
    response = run_action(people_ops_client, "assignment", "complete_selected", [done.pk])
    done.refresh_from_db()
    assert done.completed_on == today() - datetime.timedelta(9)
    assert any("skipped" in text for text in message_texts(response))


def test_it_reports_a_failed_completion_without_a_500(people_ops_client, plan):
    # Data that breaks a model rule (free course with tuition) cannot be completed.
    broken = AssignmentFactory(plan=plan, paid_by="free", tuition_cost=100)
    response = run_action(people_ops_client, "assignment", "complete_selected", [broken.pk])
    assert response.status_code == 302
    broken.refresh_from_db()
    assert broken.status == Assignment.Status.ASSIGNED
    assert any("free course" in text for text in message_texts(response))


def test_it_asks_for_a_reason_before_waiving(people_ops_client, assignment):
    response = run_action(people_ops_client, "assignment", "waive_selected", [assignment.pk])
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="reason"' in content
    assert assignment.course.title in content
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED


def test_it_changes_nothing_when_waiving_without_a_reason(people_ops_client, assignment):
    data = {"action": "waive_selected", "_selected_action": [assignment.pk], "post": "yes"}
    response = people_ops_client.post(url("assignment", "changelist"), {**data, "reason": "  "})
    assert response.status_code == 200
    assert "give a reason" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED
    assert assignment.notes == ""


def test_it_waives_with_a_reason(people_ops_client, assignment):
    assignment.status = Assignment.Status.COMPLETED
    assignment.completed_on = today()
    assignment.save()
    data = {"action": "waive_selected", "_selected_action": [assignment.pk], "post": "yes"}
    response = people_ops_client.post(
        url("assignment", "changelist"), {**data, "reason": "Took it at her last job"}
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.WAIVED
    assert assignment.completed_on is None
    assert "Took it at her last job" in assignment.notes


def test_it_reopens_a_waived_assignment(people_ops_client, plan):
    waived = AssignmentFactory(plan=plan, status="waived")
    run_action(people_ops_client, "assignment", "reopen_selected", [waived.pk])
    waived.refresh_from_db()
    assert waived.status == Assignment.Status.ASSIGNED


def test_it_filters_overdue_assignments(people_ops_client, plan, assignment):
    later = AssignmentFactory(plan=plan, due_date=today() + datetime.timedelta(days=60))
    done = AssignmentFactory(
        plan=plan,
        due_date=today() - datetime.timedelta(days=60),
        status="completed",
        completed_on=today(),
    )
    response = people_ops_client.get(url("assignment", "changelist"), {"overdue": "yes"})
    assert {a.pk for a in response.context["cl"].result_list} == {assignment.pk}
    response = people_ops_client.get(url("assignment", "changelist"), {"overdue": "no"})
    assert {a.pk for a in response.context["cl"].result_list} == {later.pk, done.pk}


def test_it_archives_and_unarchives_hires(people_ops_client, hire):
    run_action(people_ops_client, "newhire", "archive_selected", [hire.pk])
    hire.refresh_from_db()
    assert hire.is_archived
    response = people_ops_client.get(url("newhire", "changelist"))
    assert hire not in response.context["cl"].result_list
    response = people_ops_client.get(url("newhire", "changelist"), {"archived": "yes"})
    assert hire in response.context["cl"].result_list
    people_ops_client.post(
        url("newhire", "changelist") + "?archived=yes",
        {"action": "unarchive_selected", "_selected_action": [hire.pk], "index": 0},
    )
    hire.refresh_from_db()
    assert not hire.is_archived


def test_it_marks_plan_guidance_discussed(people_ops_client, people_ops, plan):
    attached = plan.guidance.first()
    run_action(people_ops_client, "planguidance", "mark_discussed", [attached.pk])
    attached.refresh_from_db()
    assert attached.acknowledged_by == people_ops


def test_it_shows_health_and_filters_on_it(people_ops_client, world):
    on_track = NewHireFactory(full_name="Tia Track")
    AssignmentFactory(
        plan=TrainingPlanFactory(hire=on_track), due_date=today() + datetime.timedelta(days=90)
    )
    # Default list: only the page's rows are aggregated.
    response = people_ops_client.get(url("newhire", "changelist"))
    health = {row.full_name: row.health for row in response.context["cl"].result_list}
    assert health == {"Hana Hire": "overdue", "Tia Track": "on_track"}
    assert "Overdue" in response.content.decode()
    # Filtering and sorting on health annotate the whole list.
    response = people_ops_client.get(url("newhire", "changelist"), {"health": "overdue"})
    assert list(response.context["cl"].result_list) == [world["newhire"]]
    columns = response.context["cl"].list_display
    for direction in ("", "-"):
        order = f"{direction}{columns.index('health')}"
        response = people_ops_client.get(url("newhire", "changelist"), {"o": order})
        rows = [row.full_name for row in response.context["cl"].result_list]
        assert rows == (["Hana Hire", "Tia Track"] if not direction else ["Tia Track", "Hana Hire"])
    response = people_ops_client.get(url("trainingplan", "changelist"), {"health": "on_track"})
    assert [p.hire for p in response.context["cl"].result_list] == [on_track]


# --- query counts --------------------------------------------------------------------------


def make_hires(count: int, manager: User) -> None:
    course = CourseFactory()
    for _ in range(count):
        plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=manager))
        AssignmentFactory(plan=plan, course=course)
        HeldCertificationFactory(hire=plan.hire)


@pytest.mark.parametrize(
    "model", ["newhire", "trainingplan", "assignment", "heldcertification", "planguidance"]
)
@pytest.mark.parametrize("persona", ["people_ops", "owner"])
def test_it_lists_in_a_constant_number_of_queries(
    request, client, django_assert_num_queries, model, persona
):
    user = request.getfixturevalue(persona)
    manager = request.getfixturevalue("owner")
    client.force_login(user)
    make_hires(3, manager)
    page = url(model, "changelist")
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    make_hires(27, manager)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(page)
    assert len(response.context["cl"].result_list) >= 30


# --- digest deliveries ---------------------------------------------------------------------


def grant(user: User, *codenames: str) -> None:
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="onboarding", codename__in=codenames)
    )


def digest(recipient: User, days_ago: int = 0, **fields: object) -> DigestDelivery:
    day = today() - datetime.timedelta(days=days_ago)
    return DigestDelivery.objects.create(recipient=recipient, digest_date=day, **fields)


@pytest.fixture
def digests(owner, outsider):
    """One digest sent to the owner today, one to the outsider yesterday."""
    return {
        "own": digest(owner, sent_at=timezone.now(), item_count=3),
        "other": digest(outsider, days_ago=1, item_count=1),
    }


def test_it_shows_people_ops_every_digest_delivery(people_ops_client, people_ops, digests):
    grant(people_ops, "view_digestdelivery")
    response = people_ops_client.get(url("digestdelivery", "changelist"))
    assert response.status_code == 200
    cl = response.context["cl"]
    assert {d.pk for d in cl.result_list} == {digests["own"].pk, digests["other"].pk}
    assert tuple(cl.list_display) == (
        "recipient",
        "digest_date",
        "claimed_at",
        "sent_at",
        "item_count",
    )
    assert (
        people_ops_client.get(url("digestdelivery", "change", digests["other"].pk)).status_code
        == 200
    )


def test_it_shows_a_manager_only_their_own_digests(owner_client, owner, digests):
    grant(owner, "view_digestdelivery")
    response = owner_client.get(url("digestdelivery", "changelist"))
    assert [d.pk for d in response.context["cl"].result_list] == [digests["own"].pk]
    assert "outsider" not in response.content.decode()
    response = owner_client.get(url("digestdelivery", "changelist"), {"q": "outsider"})
    assert list(response.context["cl"].result_list) == []
    response = owner_client.get(url("digestdelivery", "change", digests["own"].pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = owner_client.get(url("digestdelivery", "change", digests["other"].pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_it_refuses_digest_deliveries_without_the_view_permission(owner_client, digests):
    assert owner_client.get(url("digestdelivery", "changelist")).status_code == 403
    assert owner_client.get(url("digestdelivery", "change", digests["own"].pk)).status_code == 403


def test_it_never_adds_or_changes_a_digest_delivery(superuser_client, digests):
    assert superuser_client.get(url("digestdelivery", "add")).status_code == 403
    own = digests["own"]
    response = superuser_client.post(
        url("digestdelivery", "change", own.pk),
        {"recipient": own.recipient_id, "digest_date": str(own.digest_date), "item_count": 99},
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.item_count == 3


def test_it_lets_only_a_superuser_delete_a_digest_delivery(
    people_ops_client, people_ops, superuser, digests
):
    other = digests["other"]
    grant(people_ops, "view_digestdelivery", "delete_digestdelivery")
    # Its own client: `people_ops_client` and `superuser_client` are the same `client`.
    superuser_client = Client()
    superuser_client.force_login(superuser)
    response = people_ops_client.get(url("digestdelivery", "changelist"))
    assert "delete_selected" not in response.content.decode()
    assert people_ops_client.get(url("digestdelivery", "delete", other.pk)).status_code == 403
    assert (
        people_ops_client.post(
            url("digestdelivery", "delete", other.pk), {"post": "yes"}
        ).status_code
        == 403
    )
    assert DigestDelivery.objects.filter(pk=other.pk).exists()
    assert superuser_client.get(url("digestdelivery", "delete", other.pk)).status_code == 200
    response = superuser_client.post(url("digestdelivery", "delete", other.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not DigestDelivery.objects.filter(pk=other.pk).exists()


def test_it_searches_and_filters_digest_deliveries(people_ops_client, people_ops, digests):
    grant(people_ops, "view_digestdelivery")
    page = url("digestdelivery", "changelist")
    response = people_ops_client.get(page, {"q": "outsider"})
    assert [d.pk for d in response.context["cl"].result_list] == [digests["other"].pk]
    tomorrow = today() + datetime.timedelta(days=1)
    response = people_ops_client.get(
        page, {"digest_date__gte": str(today()), "digest_date__lt": str(tomorrow)}
    )
    assert [d.pk for d in response.context["cl"].result_list] == [digests["own"].pk]


@pytest.mark.parametrize("persona", ["people_ops", "owner"])
def test_it_lists_digest_deliveries_in_a_constant_number_of_queries(
    request, client, django_assert_num_queries, owner, persona
):
    user = request.getfixturevalue(persona)
    grant(user, "view_digestdelivery")
    client.force_login(user)

    def make_digests(count: int, start: int) -> None:
        for days_ago in range(start, start + count):
            digest(owner, days_ago=days_ago)
            digest(UserFactory(), days_ago=days_ago)

    make_digests(3, 0)
    page = url("digestdelivery", "changelist")
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    make_digests(27, 3)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(page)
    assert len(response.context["cl"].result_list) >= 30


def test_it_titles_the_admin_home_without_naming_a_role(owner_client):
    body = owner_client.get(reverse("admin:index")).content.decode()
    assert "People-ops workspace" not in body
    assert "<h1>Your workspace</h1>" in body
