"""Hire pages: list (filters, search, sort, pagination), create, edit, detail, archive."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import Assignment, NewHire
from onboarding.rules import HEALTH_RULES

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    HeldCertificationFactory,
    ManagerFactory,
    NewHireFactory,
    PlanTemplateFactory,
    RoleProfileFactory,
    TrainingPlanFactory,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def names(response) -> list[str]:
    """Hire names in the table, in order."""
    return [hire.full_name for hire in response.context["hires"]]


def form_data(**overrides) -> dict:
    data = {
        "full_name": "Nina New",
        "email": "nina@example.com",
        "title": "Senior Product Manager",
        "role_profile": "",
        "start_date": (TODAY + 7 * DAY).isoformat(),
        "previous_role": "Business analyst",
        "notes": "",
    }
    data.update(overrides)
    return data


def edit_data(hire: NewHire, **overrides) -> dict:
    data = {
        "full_name": hire.full_name,
        "email": hire.email,
        "title": hire.title,
        "role_profile": hire.role_profile_id or "",
        "start_date": hire.start_date.isoformat(),
        "previous_role": hire.previous_role,
        "notes": hire.notes,
        "expected_version": hire.version,
    }
    if hire.new_to_product_management:
        data["new_to_product_management"] = "on"
    data.update(overrides)
    return data


def with_plan(hire: NewHire, *statuses_and_due: tuple[str, datetime.date]):
    plan = TrainingPlanFactory(hire=hire)
    for status, due in statuses_and_due:
        AssignmentFactory(
            plan=plan,
            status=status,
            due_date=due,
            completed_on=TODAY - DAY if status == "completed" else None,
        )
    return plan


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def make_hires(manager, count: int, profile=None) -> list[NewHire]:
    """Hires with a plan each: one completed, one overdue, one scheduled, one upcoming."""
    hires = []
    for _ in range(count):
        hire = NewHireFactory(hiring_manager=manager, role_profile=profile)
        plan = TrainingPlanFactory(hire=hire)
        AssignmentFactory(plan=plan, status="completed", completed_on=TODAY - 3 * DAY)
        AssignmentFactory(plan=plan, due_date=TODAY - 2 * DAY)
        AssignmentFactory(plan=plan, status="scheduled", scheduled_for=TODAY + 5 * DAY)
        AssignmentFactory(plan=plan, due_date=TODAY + 40 * DAY)
        hires.append(hire)
    return hires


# --- access --------------------------------------------------------------------------------

OWNED_GET = ["onboarding:hire_detail", "onboarding:hire_edit"]
OWNED_POST = ["onboarding:hire_archive", "onboarding:hire_unarchive"]


@pytest.mark.parametrize("name", OWNED_GET + OWNED_POST)
def test_it_sends_anonymous_users_to_sign_in(client, hire, name):
    url = reverse(name, args=[hire.pk])
    response = client.post(url) if name in OWNED_POST else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["onboarding:hire_list", "onboarding:hire_create"])
def test_it_sends_anonymous_users_to_sign_in_from_the_list_and_create(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", OWNED_GET)
def test_it_answers_404_to_an_outsider(outsider_client, hire, name):
    assert outsider_client.get(reverse(name, args=[hire.pk])).status_code == 404


@pytest.mark.parametrize("name", OWNED_POST)
def test_it_answers_404_to_an_outsider_posting(outsider_client, hire, name):
    assert outsider_client.post(reverse(name, args=[hire.pk])).status_code == 404
    hire.refresh_from_db()
    assert hire.archived_at is None


@pytest.mark.parametrize("persona", ["owner_client", "people_ops_client"])
@pytest.mark.parametrize("name", OWNED_GET)
def test_it_shows_the_hire_to_its_owner_and_people_ops(request, hire, persona, name):
    client = request.getfixturevalue(persona)
    assert client.get(reverse(name, args=[hire.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["owner_client", "people_ops_client"])
def test_it_shows_the_list_and_create_pages(request, persona, hire):
    client = request.getfixturevalue(persona)
    assert client.get(reverse("onboarding:hire_list")).status_code == 200
    assert client.get(reverse("onboarding:hire_create")).status_code == 200


@pytest.mark.parametrize("name", OWNED_POST)
def test_it_refuses_get_on_archive_buttons(owner_client, hire, name):
    assert owner_client.get(reverse(name, args=[hire.pk])).status_code == 405


def test_it_forbids_creating_hires_without_the_permission(client, plain_user):
    client.force_login(plain_user)
    assert client.get(reverse("onboarding:hire_create")).status_code == 403
    assert client.post(reverse("onboarding:hire_create"), form_data()).status_code == 403
    assert not NewHire.objects.filter(email="nina@example.com").exists()


def test_it_lists_only_the_managers_own_hires(outsider_client, hire, outsider):
    mine = NewHireFactory(hiring_manager=outsider, full_name="Otto Own")
    response = outsider_client.get(reverse("onboarding:hire_list"))
    assert names(response) == [mine.full_name]
    assert "Hana Hire" not in response.content.decode()


def test_it_lists_every_hire_for_people_ops(people_ops_client, hire, outsider):
    NewHireFactory(hiring_manager=outsider, full_name="Otto Own")
    response = people_ops_client.get(reverse("onboarding:hire_list"))
    assert sorted(names(response)) == ["Hana Hire", "Otto Own"]
    assert response.context["show_manager"] is True


# --- filters, search, sort, pagination -------------------------------------------------------


@pytest.fixture
def varied(owner):
    """Four hires of the owner that differ in every filtered column."""
    pm = RoleProfileFactory(name="Technical PM")
    biz = RoleProfileFactory(name="Business owner")
    ada = NewHireFactory(
        hiring_manager=owner,
        full_name="Ada Adams",
        email="ada@example.com",
        role_profile=pm,
        start_date=TODAY - 40 * DAY,
    )
    with_plan(ada, ("assigned", TODAY - 5 * DAY))  # overdue
    bob = NewHireFactory(
        hiring_manager=owner,
        full_name="Bob Brown",
        email="bob@corp.example",
        role_profile=biz,
        start_date=TODAY - 10 * DAY,
    )
    with_plan(bob, ("completed", TODAY - 2 * DAY))  # complete
    cy = NewHireFactory(
        hiring_manager=owner,
        full_name="Cy Clark",
        email="cy@example.com",
        role_profile=pm,
        start_date=TODAY + 20 * DAY,
    )  # no plan
    dee = NewHireFactory(
        hiring_manager=owner,
        full_name="Dee Dunn",
        email="dee@example.com",
        role_profile=biz,
        start_date=TODAY - 100 * DAY,
    )
    services.hire_archive(actor=owner, hire=dee)
    return {"pm": pm, "biz": biz, "ada": ada, "bob": bob, "cy": cy, "dee": dee}


def test_it_hides_archived_hires_by_default(owner_client, varied):
    response = owner_client.get(reverse("onboarding:hire_list"))
    assert set(names(response)) == {"Ada Adams", "Bob Brown", "Cy Clark"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("archived=archived", {"Dee Dunn"}),
        ("archived=all", {"Ada Adams", "Bob Brown", "Cy Clark", "Dee Dunn"}),
        ("health=overdue", {"Ada Adams"}),
        ("health=complete", {"Bob Brown"}),
        ("health=no_plan", {"Cy Clark"}),
        ("has_overdue=true", {"Ada Adams"}),
        ("has_overdue=false", {"Bob Brown", "Cy Clark"}),
        ("q=corp.example", {"Bob Brown"}),
        ("q=ada", {"Ada Adams"}),
        ("q=nobody", set()),
    ],
)
def test_it_filters_the_rows(owner_client, varied, query, expected):
    response = owner_client.get(f"{reverse('onboarding:hire_list')}?{query}")
    assert set(names(response)) == expected


def test_it_filters_by_role_profile_and_start_dates(owner_client, varied):
    url = reverse("onboarding:hire_list")
    response = owner_client.get(url, {"role_profile": varied["pm"].pk})
    assert set(names(response)) == {"Ada Adams", "Cy Clark"}
    response = owner_client.get(
        url,
        {"start_after": (TODAY - 20 * DAY).isoformat(), "start_before": TODAY.isoformat()},
    )
    assert names(response) == ["Bob Brown"]


def test_it_filters_by_manager_for_people_ops(people_ops_client, varied, outsider):
    NewHireFactory(hiring_manager=outsider, full_name="Otto Own")
    response = people_ops_client.get(
        reverse("onboarding:hire_list"), {"hiring_manager": outsider.pk}
    )
    assert names(response) == ["Otto Own"]


def test_it_ignores_the_manager_filter_for_managers(outsider_client, varied, outsider, owner):
    NewHireFactory(hiring_manager=outsider, full_name="Otto Own")
    response = outsider_client.get(reverse("onboarding:hire_list"), {"hiring_manager": owner.pk})
    assert names(response) == ["Otto Own"]
    assert "hiring_manager" not in response.context["filter"].form.fields


def test_it_says_when_no_hire_matches(owner_client, varied):
    response = owner_client.get(reverse("onboarding:hire_list"), {"q": "nobody"})
    assert "No hires match these filters." in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Ada Adams", "Bob Brown", "Cy Clark"]),
        ("-name", ["Cy Clark", "Bob Brown", "Ada Adams"]),
        ("start", ["Ada Adams", "Bob Brown", "Cy Clark"]),
        ("-start", ["Cy Clark", "Bob Brown", "Ada Adams"]),
    ],
)
def test_it_sorts_by_the_column_asked_for(owner_client, varied, sort, expected):
    response = owner_client.get(reverse("onboarding:hire_list"), {"sort": sort})
    assert names(response) == expected


def test_it_marks_the_sorted_column_and_offers_the_reverse(owner_client, varied):
    body = owner_client.get(reverse("onboarding:hire_list"), {"sort": "name"}).content.decode()
    assert 'aria-sort="ascending"' in body
    assert "?sort=-name" in body


def test_it_sorts_by_newest_start_date_by_default(owner_client, varied):
    response = owner_client.get(reverse("onboarding:hire_list"))
    assert names(response) == ["Cy Clark", "Bob Brown", "Ada Adams"]


def test_it_pages_fifty_hires_at_a_time(owner_client, owner):
    for index in range(55):
        NewHireFactory(hiring_manager=owner, full_name=f"Hire {index:02d}")
    url = reverse("onboarding:hire_list")
    first = owner_client.get(url, {"sort": "name"})
    second = owner_client.get(url, {"sort": "name", "page": 2})
    assert len(names(first)) == 50
    assert names(second) == [f"Hire {index:02d}" for index in range(50, 55)]
    assert first.context["page_obj"].paginator.count == 55
    # Page links keep the sort order.
    assert "?sort=name&amp;page=2" in first.content.decode()


def test_it_keeps_the_filters_in_the_export_link(owner_client, varied):
    body = owner_client.get(
        reverse("onboarding:hire_list"), {"q": "ada", "health": "overdue", "page": 1}
    ).content.decode()
    assert 'href="/exports/hires.csv?q=ada&amp;health=overdue"' in body


def test_it_shows_progress_next_due_item_and_health_with_its_rule(owner_client, owner):
    hire = NewHireFactory(hiring_manager=owner, full_name="Pia Progress")
    plan = TrainingPlanFactory(hire=hire)
    AssignmentFactory(plan=plan, status="completed", completed_on=TODAY - DAY)
    AssignmentFactory(plan=plan, course__title="Later course", due_date=TODAY + 60 * DAY)
    AssignmentFactory(plan=plan, course__title="Overdue course", due_date=TODAY - 3 * DAY)
    response = owner_client.get(reverse("onboarding:hire_list"))
    row = response.context["hires"][0]
    assert row.percent_complete == 33
    assert row.next_due.course_title == "Overdue course"
    assert (row.next_due.due_date, row.next_due.is_overdue) == (TODAY - 3 * DAY, True)
    body = response.content.decode()
    assert "· overdue" in body
    assert 'aria-valuenow="33"' in body
    assert "pct-35" in body
    assert "Overdue course" in body
    assert f'title="{HEALTH_RULES["overdue"]}"' in body


def test_it_lists_hires_in_constant_queries(owner_client, owner, django_assert_num_queries):
    profile = RoleProfileFactory(name="Generalist PM")
    make_hires(owner, 5, profile)
    url = reverse("onboarding:hire_list")
    small = count_queries(owner_client, url)
    make_hires(owner, 55, profile)
    with django_assert_num_queries(small):
        response = owner_client.get(url)
    assert len(response.context["hires"]) == 50


def test_it_lists_hires_for_people_ops_in_constant_queries(
    people_ops_client, owner, outsider, django_assert_num_queries
):
    make_hires(owner, 3)
    make_hires(outsider, 2)
    url = reverse("onboarding:hire_list") + "?sort=manager&has_overdue=true"
    small = count_queries(people_ops_client, url)
    make_hires(owner, 30)
    make_hires(outsider, 25)
    with django_assert_num_queries(small):
        people_ops_client.get(url)


# --- create ---------------------------------------------------------------------------------


def test_it_creates_a_hire_for_the_signed_in_manager(owner_client, owner):
    response = owner_client.post(reverse("onboarding:hire_create"), form_data(), follow=True)
    hire = NewHire.objects.get(email="nina@example.com")
    assert hire.hiring_manager == owner
    assert hire.title == "Senior Product Manager"
    assert response.redirect_chain[-1][0] == reverse("onboarding:hire_detail", args=[hire.pk])
    assert "Nina New was added." in response.content.decode()
    assert hire.history.first().history_user == owner


def test_it_ignores_a_manager_choosing_another_manager(owner_client, owner, outsider):
    owner_client.post(reverse("onboarding:hire_create"), form_data(hiring_manager=outsider.pk))
    assert NewHire.objects.get(email="nina@example.com").hiring_manager == owner


def test_it_lets_people_ops_choose_the_manager(people_ops_client, outsider):
    response = people_ops_client.get(reverse("onboarding:hire_create"))
    assert outsider in response.context["form"].fields["hiring_manager"].queryset
    people_ops_client.post(reverse("onboarding:hire_create"), form_data(hiring_manager=outsider.pk))
    assert NewHire.objects.get(email="nina@example.com").hiring_manager == outsider


def test_it_offers_only_active_role_profiles(owner_client):
    RoleProfileFactory(name="Retired profile", active=False)
    live = RoleProfileFactory(name="Live profile")
    choices = owner_client.get(reverse("onboarding:hire_create")).context["form"]
    profiles = list(choices.fields["role_profile"].queryset)
    assert live in profiles
    assert all(profile.active for profile in profiles)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": ""}, "full_name"),
        ({"email": "not-an-email"}, "email"),
        ({"start_date": "someday"}, "start_date"),
        ({"email": "HANA@example.com"}, "email"),  # taken, whatever the case
    ],
)
def test_it_rerenders_a_bad_form_and_saves_nothing(owner_client, hire, overrides, field):
    before = NewHire.objects.count()
    response = owner_client.post(reverse("onboarding:hire_create"), form_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert NewHire.objects.count() == before
    assert "The hire was not saved" in response.content.decode()


# --- edit -----------------------------------------------------------------------------------


def test_it_saves_an_edit_through_the_service(owner_client, owner, hire):
    url = reverse("onboarding:hire_edit", args=[hire.pk])
    response = owner_client.post(url, edit_data(hire, title="Group PM"), follow=True)
    hire.refresh_from_db()
    assert hire.title == "Group PM"
    assert hire.version == 2
    assert "were saved" in response.content.decode()


def test_it_keeps_the_manager_when_a_manager_edits(owner_client, owner, outsider, hire):
    url = reverse("onboarding:hire_edit", args=[hire.pk])
    owner_client.post(url, edit_data(hire, hiring_manager=outsider.pk))
    hire.refresh_from_db()
    assert hire.hiring_manager == owner


def test_it_lets_people_ops_reassign_a_hire(people_ops_client, outsider, hire):
    url = reverse("onboarding:hire_edit", args=[hire.pk])
    people_ops_client.post(url, edit_data(hire, hiring_manager=outsider.pk))
    hire.refresh_from_db()
    assert hire.hiring_manager == outsider


def test_it_rerenders_a_bad_edit_and_changes_nothing(owner_client, hire):
    url = reverse("onboarding:hire_edit", args=[hire.pk])
    response = owner_client.post(url, edit_data(hire, full_name="", title="Changed"))
    assert response.status_code == 200
    assert "full_name" in response.context["form"].errors
    assert "The changes were not saved" in response.content.decode()
    hire.refresh_from_db()
    assert hire.title == "Product Manager"
    assert hire.version == 1


def test_it_refuses_a_concurrent_edit_and_shows_what_changed(owner_client, owner, hire):
    url = reverse("onboarding:hire_edit", args=[hire.pk])
    stale = edit_data(hire, title="Principal PM")
    # Someone else saves first.
    services.hire_update(actor=owner, hire=NewHire.objects.get(pk=hire.pk), title="Lead PM")
    response = owner_client.post(url, stale)
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else saved this hire" in body
    assert "yours “Principal PM”, saved “Lead PM”" in body
    hire.refresh_from_db()
    assert hire.title == "Lead PM"
    # The form keeps the user's input, now against the saved version: saving again wins.
    form = response.context["form"]
    assert form["title"].value() == "Principal PM"
    assert str(form["expected_version"].value()) == "2"
    owner_client.post(url, {**stale, "expected_version": 2})
    hire.refresh_from_db()
    assert hire.title == "Principal PM"


# --- archive --------------------------------------------------------------------------------


def test_it_archives_and_restores_a_hire(owner_client, owner, hire):
    response = owner_client.post(reverse("onboarding:hire_archive", args=[hire.pk]), follow=True)
    hire.refresh_from_db()
    assert hire.archived_at is not None
    assert "was archived" in response.content.decode()
    assert names(owner_client.get(reverse("onboarding:hire_list"))) == []

    response = owner_client.post(reverse("onboarding:hire_unarchive", args=[hire.pk]), follow=True)
    hire.refresh_from_db()
    assert hire.archived_at is None
    assert "is active again" in response.content.decode()
    assert names(owner_client.get(reverse("onboarding:hire_list"))) == ["Hana Hire"]
    # Nothing was deleted, and both steps are in the history.
    assert hire.history.count() == 3


# --- detail ---------------------------------------------------------------------------------


def test_it_shows_profile_expectations_and_certifications(owner_client, hire):
    soon = CertificationFactory(name="Soon Cert", abbreviation="")
    gone = CertificationFactory(name="Gone Cert", abbreviation="")
    later = CertificationFactory(name="Later Cert", abbreviation="")
    HeldCertificationFactory(hire=hire, certification=soon, expires_on=TODAY + 30 * DAY)
    HeldCertificationFactory(hire=hire, certification=gone, expires_on=TODAY - DAY)
    HeldCertificationFactory(hire=hire, certification=later, expires_on=TODAY + 400 * DAY)
    body = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    assert hire.role_profile.expectations in body
    assert "Expires in 30 days" in body
    assert "Expired" in body
    assert "Later Cert" in body
    assert body.count("Expires in") == 1


def test_it_shows_plans_with_progress_health_and_links(owner_client, hire):
    plan = with_plan(hire, ("completed", TODAY - DAY), ("assigned", TODAY - 2 * DAY))
    body = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    assert reverse("onboarding:plan_detail", args=[plan.pk]) in body
    assert reverse("onboarding:plan_create", args=[hire.pk]) in body
    assert 'aria-valuenow="50"' in body
    assert HEALTH_RULES["overdue"] in body


def test_it_invites_a_first_plan(owner_client, hire):
    body = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    assert "No training plan yet." in body
    assert ">New plan</a>" in body


def test_it_offers_one_new_plan_button_with_or_without_plans(owner_client, hire):
    url = reverse("onboarding:hire_detail", args=[hire.pk])
    new_plan = f'href="{reverse("onboarding:plan_create", args=[hire.pk])}"'
    assert owner_client.get(url).content.decode().count(new_plan) == 1
    TrainingPlanFactory(hire=hire)
    body = owner_client.get(url).content.decode()
    assert body.count(new_plan) == 1
    assert "Create a plan" not in body


def test_it_starts_hire_and_plan_breadcrumbs_at_hires(owner_client, hire):
    plan = TrainingPlanFactory(hire=hire)
    hires = f'<li class="breadcrumb-item"><a href="{reverse("onboarding:hire_list")}">Hires</a>'
    for url in (
        reverse("onboarding:hire_detail", args=[hire.pk]),
        reverse("onboarding:plan_detail", args=[plan.pk]),
        reverse("onboarding:plan_create", args=[hire.pk]),
        reverse("onboarding:plan_edit", args=[plan.pk]),
    ):
        body = owner_client.get(url).content.decode()
        crumbs = body[body.index('<ol class="breadcrumb">') :]
        assert crumbs.split("</li>")[0].strip().endswith("Hires</a>"), url
        assert hires in body


def test_it_shows_who_changed_what(owner_client, owner, hire):
    services.hire_update(
        actor=owner, hire=hire, expected_version=hire.version, title="Staff PM", notes="Remote"
    )
    plan = services.plan_create(actor=owner, hire=hire, title="First plan")
    assignment = AssignmentFactory(plan=plan, course__title="Discovery basics")
    services.assignment_complete(actor=owner, assignment=assignment)
    services.plan_guidance_update(
        actor=owner, plan_guidance=plan.guidance.first(), manager_note="Talk it through"
    )
    response = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk]))
    entries = response.context["history"]
    changed = next(e for e in entries if e.kind == "hire" and e.action == "changed")
    assert changed.who == owner
    assert ("Title", "Product Manager", "Staff PM") in changed.changes
    status = next(e for e in entries if e.kind == "assignment" and e.action == "changed")
    assert status.subject == "Discovery basics in “First plan”"
    assert ("Status", "Assigned", "Completed") in status.changes
    assert any(e.kind == "plan" and e.action == "added" for e in entries)
    assert any(e.kind == "guidance" and e.changes for e in entries)
    body = response.content.decode()
    assert "Olive Owner" in body
    assert re.search(r"Title: <del>.*Product Manager</del> → <ins>.*Staff PM</ins>", body)


def build_history(owner, hire, plans: int, assignments: int) -> None:
    template = PlanTemplateFactory()
    profile = RoleProfileFactory(name="Other profile")
    services.hire_update(actor=owner, hire=hire, role_profile=profile)
    certification = CertificationFactory()
    HeldCertificationFactory(hire=hire, certification=certification)
    for index in range(plans):
        plan = services.plan_create(
            actor=owner, hire=hire, title=f"Plan {index}", template=template
        )
        for _ in range(assignments):
            assignment = AssignmentFactory(plan=plan)
            services.assignment_update(
                actor=owner, assignment=assignment, due_date=TODAY + 50 * DAY
            )
        # A system change (no actor): a manager may only hand a plan to themselves.
        services.plan_update(actor=None, plan=plan, owner=ManagerFactory())
        services.plan_guidance_update(
            actor=owner, plan_guidance=plan.guidance.first(), discussed=True
        )


def test_it_shows_the_detail_in_constant_queries(
    owner_client, owner, hire, django_assert_num_queries
):
    url = reverse("onboarding:hire_detail", args=[hire.pk])
    build_history(owner, hire, plans=1, assignments=2)
    small = count_queries(owner_client, url)
    big = NewHireFactory(hiring_manager=owner)
    build_history(owner, big, plans=5, assignments=8)
    with django_assert_num_queries(small):
        response = owner_client.get(reverse("onboarding:hire_detail", args=[big.pk]))
    assert len(response.context["plans"]) == 5


def test_it_counts_assignments_of_every_status(owner_client, hire):
    plan = with_plan(hire, ("waived", TODAY - DAY), ("completed", TODAY))
    assert Assignment.objects.filter(plan=plan).count() == 2
    response = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk]))
    assert response.context["plans"][0].health == "complete"


def role_card(body: str) -> str:
    start = body.index('id="role-heading"')
    return body[start : body.index("</section>", start)]


def test_it_renders_role_expectations_as_paragraphs_and_lists(owner_client, hire):
    from onboarding.models import RoleProfile

    profile = RoleProfile.objects.create(
        name="Platform PM",
        archetype="technical",
        expectations="Owns the platform roadmap.\n- Talks to <b>engineers</b>\n- Ships\n\n"
        "Adapt this list.\n<script>alert(1)</script>",
    )
    services.hire_update(actor=None, hire=hire, role_profile=profile)
    body = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    card = role_card(body)
    assert (
        "<p>Owns the platform roadmap.</p><ul><li>Talks to &lt;b&gt;engineers&lt;/b&gt;</li>"
        "<li>Ships</li></ul><p>Adapt this list.<br>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    ) in card
    assert "- " not in card.split("Platform PM", 1)[1]
    # The role is named once on the page's top, in the card: not again beside the title
    # nor as its archetype when that reads the same.
    assert card.count("Platform PM") == 1
    header = body[body.index("<h1") : body.index('id="profile-heading"')]
    assert "Platform PM" not in header


def test_it_names_the_archetype_only_when_it_adds_something(owner_client, hire):
    from onboarding.models import RoleProfile

    same = RoleProfile.objects.create(name="Generalist", archetype="generalist")
    services.hire_update(actor=None, hire=hire, role_profile=same)
    card = role_card(
        owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    )
    assert card.count("Generalist") == 1


def test_it_collapses_the_change_history(owner_client, owner, hire):
    build_history(owner, hire, plans=1, assignments=2)
    body = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    start = body.index('<details class="history-details">')
    assert 'id="history-heading"' in body[start : start + 300]
    assert "changes)</span></summary>" in body
