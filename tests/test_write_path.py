"""One write path and one who-may-manage rule, whichever door a change comes through.

The admin's change forms, inline rows, actions and template expansion call the
same services as the dashboard: waiving needs a reason, completing records the
certification and its expiry, edits lock the row and refuse a stale version.
Who may be a hire's manager or a plan's owner is decided by one function
(rules.manager_candidates) for the forms, the admin, the import and the services.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onboarding import imports, services
from onboarding.forms.hires import HireForm
from onboarding.forms.plans import PlanEditForm
from onboarding.models import Assignment, HeldCertification, NewHire, TrainingPlan
from onboarding.rules import manager_candidates, may_manage

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    ManagerFactory,
    NewHireFactory,
    PeopleOpsFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    UserFactory,
)
from .test_admin import add_inline_row, form_data, formset_prefix, message_texts

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def admin_url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:onboarding_{model}_{view}", args=args)


@pytest.fixture
def certified(plan):
    certification = CertificationFactory()
    course = CourseFactory(certification=certification)
    return AssignmentFactory(plan=plan, course=course, due_date=TODAY + 10 * DAY)


# --- the admin writes through the services -------------------------------------------------


def test_it_records_the_certification_and_its_expiry_when_completed_in_the_admin(
    people_ops_client, people_ops, certified
):
    page = admin_url("assignment", "change", certified.pk)
    data = form_data(people_ops_client.get(page))
    data.update(
        status="completed",
        completed_on=str(TODAY),
        certification_earned_on=str(TODAY),
        certification_expires_on=str(TODAY + 730 * DAY),
    )
    response = people_ops_client.post(page, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    held = HeldCertification.objects.get(hire=certified.plan.hire)
    assert (held.earned_on, held.expires_on) == (TODAY, TODAY + 730 * DAY)
    assert held.assignment == certified
    certified.refresh_from_db()
    assert certified.version == 2
    assert certified.history.first().history_user == people_ops


def test_it_refuses_to_waive_in_the_admin_without_a_reason(people_ops_client, certified):
    page = admin_url("assignment", "change", certified.pk)
    data = form_data(people_ops_client.get(page))
    data.update(status="waived")
    response = people_ops_client.post(page, data)
    assert response.status_code == 200
    assert "Say why the course is waived." in response.content.decode()
    certified.refresh_from_db()
    assert (certified.status, certified.version) == ("assigned", 1)

    data.update(reason="Took the same course last year")
    response = people_ops_client.post(page, data)
    assert response.status_code == 302
    certified.refresh_from_db()
    assert certified.status == "waived"
    assert "Waived: Took the same course last year" in certified.notes


def test_it_refuses_to_waive_an_inline_row_without_a_reason(people_ops_client, certified):
    page = admin_url("trainingplan", "change", certified.plan_id)
    response = people_ops_client.get(page)
    data = form_data(response)
    prefix = formset_prefix(response, Assignment)
    data[f"{prefix}-0-status"] = "waived"
    response = people_ops_client.post(page, data)
    assert response.status_code == 200
    assert "Say why the course is waived." in response.content.decode()
    certified.refresh_from_db()
    assert certified.status == "assigned"

    data[f"{prefix}-0-reason"] = "Not offered this year"
    response = people_ops_client.post(page, data)
    assert response.status_code == 302
    certified.refresh_from_db()
    assert certified.status == "waived"


def test_it_refuses_a_stale_inline_row_with_what_changed(people_ops_client, owner, certified):
    page = admin_url("trainingplan", "change", certified.plan_id)
    response = people_ops_client.get(page)
    data = form_data(response)
    prefix = formset_prefix(response, Assignment)
    services.assignment_update(actor=owner, assignment=certified, due_date=TODAY + 20 * DAY)
    data[f"{prefix}-0-due_date"] = str(TODAY + 30 * DAY)
    response = people_ops_client.post(page, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "someone else changed this assignment" in body
    certified.refresh_from_db()
    assert certified.due_date == TODAY + 20 * DAY


def test_it_adds_an_inline_row_through_the_service(people_ops_client, plan):
    course = CourseFactory(tuition=300)
    page = admin_url("trainingplan", "change", plan.pk)
    response = people_ops_client.get(page)
    data = form_data(response)
    add_inline_row(
        data,
        formset_prefix(response, Assignment),
        {
            "course": course.pk,
            "due_date": str(TODAY + 30 * DAY),
            "status": "completed",
            "completed_on": str(TODAY),
            "paid_by": "employer",
            "position": 0,
        },
    )
    response = people_ops_client.post(page, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = plan.assignments.get(course=course)
    assert (added.status, added.completed_on) == ("completed", TODAY)
    # The service's defaults: the catalog price when the row leaves tuition empty.
    assert added.tuition_cost == 300
    assert added.history.first().history_user.username == "peopleops"


def test_it_refuses_a_template_whose_dates_overflow_instead_of_failing(people_ops_client, owner):
    hire = NewHireFactory(hiring_manager=owner, start_date=datetime.date(2100, 12, 1))
    template = PlanTemplateFactory()
    PlanTemplateItemFactory(template=template, due_offset_days=60)
    page = admin_url("trainingplan", "add")
    data = form_data(people_ops_client.get(page))
    data.update(hire=hire.pk, title="Too late", template=template.pk)
    response = people_ops_client.post(page, data)
    assert response.status_code == 200
    assert "check the hire&#x27;s start date" in response.content.decode()
    assert not TrainingPlan.objects.filter(hire=hire).exists()


def test_it_expands_a_template_in_the_admin_with_the_service(people_ops_client, owner, hire):
    template = PlanTemplateFactory()
    PlanTemplateItemFactory(template=template, due_offset_days=14)
    page = admin_url("trainingplan", "add")
    data = form_data(people_ops_client.get(page))
    data.update(hire=hire.pk, title="From the admin", template=template.pk)
    response = people_ops_client.post(page, data)
    assert response.status_code == 302
    plan = TrainingPlan.objects.get(title="From the admin")
    assert plan.template == template
    [assignment] = plan.assignments.all()
    assert assignment.due_date == hire.start_date + 14 * DAY
    assert assignment.history.first().history_user.username == "peopleops"
    assert any("added from the template" in m for m in message_texts(response))


# --- row locks: exactly one of several saves of one version ----------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Needs PostgreSQL: SQLite serialises writers, so saves never overlap there.",
)
@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_parallel_admin_saves_of_one_version_through():
    people_ops = PeopleOpsFactory(username="ops")
    hire = NewHireFactory(hiring_manager=ManagerFactory())
    page = admin_url("newhire", "change", hire.pk)
    seed = Client()
    seed.force_login(people_ops)
    data = form_data(seed.get(page))
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            client = Client()
            client.force_login(people_ops)
            barrier.wait(timeout=30)
            response = client.post(page, {**data, "title": f"Title {n}"})
            statuses.append(response.status_code)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(statuses) == [200] * 7 + [302]
    hire.refresh_from_db()
    assert hire.version == 2
    versions = list(NewHire.history.filter(id=hire.pk).values_list("version", flat=True))
    assert sorted(versions) == [1, 2]


# --- who may manage --------------------------------------------------------------------------


@pytest.fixture
def candidates(db):
    """A manager by group only, one with no right to manage, and an inactive manager."""
    grouped = UserFactory(username="grouped", is_staff=True)
    grouped.groups.add(Group.objects.get(name="Hiring managers"))
    return {
        "grouped": grouped,
        "plain": UserFactory(username="plainuser"),
        "inactive": ManagerFactory(username="gone", is_active=False),
    }


def test_it_offers_people_ops_the_same_managers_on_every_form(
    people_ops_client, people_ops, owner, outsider, plan, candidates
):
    expected = set(manager_candidates(people_ops))
    assert {owner, outsider, candidates["grouped"]} <= expected
    assert not {candidates["plain"], candidates["inactive"]} & expected

    hire_form = HireForm(user=people_ops)
    plan_form = PlanEditForm(plan=plan, user=people_ops)
    admin_hire = people_ops_client.get(admin_url("newhire", "add")).context["adminform"].form
    admin_plan = people_ops_client.get(admin_url("trainingplan", "change", plan.pk))
    admin_plan_form = admin_plan.context["adminform"].form
    for queryset in (
        hire_form.fields["hiring_manager"].queryset,
        plan_form.fields["owner"].queryset,
        admin_hire.fields["hiring_manager"].queryset,
        admin_plan_form.fields["owner"].queryset,
    ):
        assert set(queryset) == expected


def test_it_lets_a_manager_choose_only_themselves(owner, outsider, plan):
    assert list(manager_candidates(owner)) == [owner]
    assert list(PlanEditForm(plan=plan, user=owner).fields["owner"].queryset) == [owner]
    assert not may_manage(owner, outsider)


def test_it_keeps_the_current_value_choosable(people_ops, candidates, owner):
    hire = NewHireFactory(hiring_manager=owner)
    NewHire.objects.filter(pk=hire.pk).update(hiring_manager=candidates["inactive"])
    hire.refresh_from_db()
    form = HireForm(instance=hire, user=people_ops)
    assert candidates["inactive"] in form.fields["hiring_manager"].queryset


def test_it_refuses_a_service_call_naming_someone_who_may_not_manage(owner, outsider, candidates):
    with pytest.raises(ValidationError) as refused:
        services.hire_create(
            actor=owner,
            full_name="Nadia New",
            email="nadia@example.com",
            hiring_manager=outsider,
            start_date=TODAY,
        )
    assert "hiring_manager" in refused.value.message_dict
    people_ops = PeopleOpsFactory()
    with pytest.raises(ValidationError):
        services.hire_create(
            actor=people_ops,
            full_name="Nadia New",
            email="nadia@example.com",
            hiring_manager=candidates["plain"],
            start_date=TODAY,
        )
    hire = services.hire_create(
        actor=people_ops,
        full_name="Nadia New",
        email="nadia@example.com",
        hiring_manager=candidates["grouped"],
        start_date=TODAY,
    )
    with pytest.raises(ValidationError):
        services.plan_create(actor=people_ops, hire=hire, owner=candidates["plain"])
    # A system job (no actor) is not a person choosing: the rule does not apply.
    services.plan_create(actor=None, hire=hire, owner=candidates["plain"])


def test_it_refuses_an_import_row_naming_someone_who_may_not_manage(people_ops, candidates):
    content = (
        "full_name,email,start_date,hiring_manager\n"
        f"Ada One,ada@example.com,{TODAY},grouped\n"
        f"Bo Two,bo@example.com,{TODAY},plainuser\n"
    ).encode()
    preview = imports.parse(content, user=people_ops)
    assert preview.rows[0].ok
    assert preview.rows[1].errors == [("hiring_manager", "plainuser may not manage hires.")]
