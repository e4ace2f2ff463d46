"""The ramp: the shipped framework, check-ins on every creation path, rating them, the hire page."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from onboarding import imports, selectors, services, stats
from onboarding.models import (
    CheckIn,
    Competency,
    CompetencyRating,
    Course,
    NewHire,
    RoleExpectation,
    RoleProfile,
    TrainingPlan,
)
from onboarding.rules import CHECK_IN_OFFSET_DAYS, CheckInKind, level_gap

from .factories import NewHireFactory, PlanTemplateFactory, PlanTemplateItemFactory
from .test_admin import form_data
from .test_dashboard import json_script

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def due_dates(hire: NewHire) -> dict[str, datetime.date]:
    return dict(hire.check_ins.values_list("kind", "due_date"))


def expected_due_dates(start: datetime.date) -> dict[str, datetime.date]:
    return {
        kind: start + datetime.timedelta(days=days) for kind, days in CHECK_IN_OFFSET_DAYS.items()
    }


# --- the shipped framework ---------------------------------------------------------------------


def test_it_ships_a_framework_whose_expectations_differ_by_archetype():
    assert Competency.objects.count() == 8
    assert all(c.level_1 and c.level_4 for c in Competency.objects.all())

    def expected(profile: str, slug: str) -> int:
        return RoleExpectation.objects.get(
            role_profile__name=profile, competency__slug=slug
        ).expected_level

    owner, technical = "Business owner (P&L)", "Technical product manager (APM-style)"
    marketing = "Marketing-focused product manager"
    assert expected(owner, "business-and-pl") > expected(technical, "business-and-pl")
    assert expected(technical, "technical-fluency") > expected(owner, "technical-fluency")
    assert expected(marketing, "go-to-market") > expected(technical, "go-to-market")
    for profile in RoleProfile.objects.all():
        assert profile.competency_expectations.count() == 8, profile


def test_it_tags_every_shipped_course_with_what_it_builds():
    untagged = Course.objects.filter(competencies__isnull=True)
    assert not untagged.exists(), list(untagged)
    foundations = Course.objects.get(title="Foundations")
    assert "customer-discovery" in set(foundations.competencies.values_list("slug", flat=True))


# --- four check-ins with the first plan, on every path -------------------------------------------


def test_it_creates_four_check_ins_with_a_plan_made_by_the_service(owner, hire):
    assert not hire.check_ins.exists()
    services.plan_create(actor=owner, hire=hire, title="First")
    assert due_dates(hire) == expected_due_dates(hire.start_date)
    services.plan_create(actor=owner, hire=hire, title="Second")
    assert hire.check_ins.count() == 4  # once per hire, not per plan


def test_it_creates_check_ins_with_a_plan_made_on_the_dashboard(owner_client, hire):
    response = owner_client.post(
        reverse("onboarding:plan_create", args=[hire.pk]), {"title": "From the page"}
    )
    assert response.status_code == 302
    assert due_dates(hire) == expected_due_dates(hire.start_date)


def test_it_creates_check_ins_with_a_plan_made_in_the_admin(people_ops_client, hire):
    page = reverse("admin:onboarding_trainingplan_add")
    data = form_data(people_ops_client.get(page))
    data.update(hire=hire.pk, title="From the admin")
    assert people_ops_client.post(page, data).status_code == 302
    assert due_dates(hire) == expected_due_dates(hire.start_date)


def test_it_creates_check_ins_for_imported_hires_with_plans(owner):
    template = PlanTemplateFactory()
    PlanTemplateItemFactory(template=template)
    content = (
        "full_name,email,start_date\n"
        f"Ines Import,ines@example.com,{TODAY + 3 * DAY}\n"
        f"Ivo Import,ivo@example.com,{TODAY + 5 * DAY}\n"
    ).encode()
    hires = imports.commit(content, user=owner, template=template)
    for hire in hires:
        assert due_dates(hire) == expected_due_dates(hire.start_date)


def test_it_creates_check_ins_however_a_plan_is_inserted(owner):
    orm, bulk, raw = (NewHireFactory(hiring_manager=owner) for _ in range(3))
    TrainingPlan.objects.create(hire=orm, title="ORM", owner=owner)
    TrainingPlan.objects.bulk_create([TrainingPlan(hire=bulk, title="Bulk", owner=owner)])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO onboarding_trainingplan (hire_id, title, owner_id, created_at, "
            "updated_at, version) VALUES (%s, 'Raw', %s, %s, %s, 1)",
            [raw.pk, owner.pk, timezone.now(), timezone.now()],
        )
    for hire in (orm, bulk, raw):
        assert due_dates(hire) == expected_due_dates(hire.start_date), hire


def test_it_gives_no_check_ins_to_a_hire_without_a_plan(hire):
    assert not CheckIn.objects.filter(hire=hire).exists()


def test_it_moves_open_check_ins_with_the_start_date_and_keeps_completed_ones(owner, plan, hire):
    baseline = hire.check_ins.get(kind=CheckInKind.BASELINE)
    record(owner, baseline, level=2, complete=True)
    services.hire_update(actor=owner, hire=hire, start_date=hire.start_date + 7 * DAY)
    hire.refresh_from_db()
    moved = due_dates(hire)
    assert moved[CheckInKind.BASELINE] == hire.start_date - 7 * DAY  # completed: kept
    for kind in (CheckInKind.DAY_30, CheckInKind.DAY_60, CheckInKind.DAY_90):
        assert moved[kind] == expected_due_dates(hire.start_date)[kind]


# --- recording a check-in ----------------------------------------------------------------------


def record(actor, check_in: CheckIn, *, level: int | None, complete: bool = False, note=""):
    ratings = {c.pk: (level, note) for c in selectors.check_in_competencies(check_in)}
    return services.check_in_record(
        actor=actor, check_in=check_in, ratings=ratings, complete=complete
    )


@pytest.fixture
def profiled_hire(owner):
    """A hire with a shipped role profile (eight expected competencies) and a plan."""
    profile = RoleProfile.objects.get(name="Technical product manager (APM-style)")
    hire = NewHireFactory(hiring_manager=owner, role_profile=profile, full_name="Tara Tech")
    services.plan_create(actor=owner, hire=hire, title="Plan")
    return hire


def post_check_in(client, check_in: CheckIn, levels: dict[int, str], action: str = "save", **extra):
    data = {"version": str(check_in.version), "summary": "Going well.", "action": action, **extra}
    for competency_id, level in levels.items():
        data[f"level_{competency_id}"] = level
        data[f"note_{competency_id}"] = f"Note {competency_id}"
    return client.post(reverse("onboarding:check_in", args=[check_in.pk]), data)


def test_it_shows_each_competency_with_descriptors_expected_level_and_previous_rating(
    owner, owner_client, profiled_hire
):
    baseline = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    record(owner, baseline, level=2, complete=True)
    day_30 = profiled_hire.check_ins.get(kind=CheckInKind.DAY_30)
    body = owner_client.get(reverse("onboarding:check_in", args=[day_30.pk])).content.decode()
    technical = Competency.objects.get(slug="technical-fluency")
    assert technical.level_3 in body
    assert "Expected by day 90: <strong>4</strong>" in body
    assert "Previous rating: <strong>2</strong>" in body
    assert body.count('type="radio"') == 8 * 5


def test_it_saves_ratings_and_completes_with_who_and_when(owner, owner_client, profiled_hire):
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    competencies = list(
        Competency.objects.filter(expectations__role_profile=profiled_hire.role_profile)
    )
    response = post_check_in(owner_client, check_in, {c.pk: "2" for c in competencies}, "complete")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/hires/{profiled_hire.pk}/#ramp")
    check_in.refresh_from_db()
    assert check_in.completed_by == owner
    assert check_in.completed_at is not None
    assert check_in.summary == "Going well."
    assert check_in.version == 2
    rating = check_in.ratings.get(competency=competencies[0])
    assert (rating.manager_level, rating.note) == (2, f"Note {competencies[0].pk}")
    assert rating.history.first().history_user == owner


def test_it_refuses_to_complete_with_a_competency_unrated(owner_client, profiled_hire):
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    competencies = list(
        Competency.objects.filter(expectations__role_profile=profiled_hire.role_profile)
    )
    levels = {c.pk: "3" for c in competencies[1:]}
    response = post_check_in(owner_client, check_in, levels, "complete")
    assert response.status_code == 200
    assert "Rate every competency before completing the check-in" in response.content.decode()
    check_in.refresh_from_db()
    assert check_in.completed_at is None
    assert not CompetencyRating.objects.filter(check_in=check_in).exists()


def test_it_saves_a_partial_check_in_without_completing_it(owner_client, profiled_hire):
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    competency = Competency.objects.get(slug="delivery")
    response = post_check_in(owner_client, check_in, {competency.pk: "3"})
    assert response.status_code == 302
    check_in.refresh_from_db()
    assert check_in.completed_at is None
    assert check_in.ratings.get().manager_level == 3


def test_it_refuses_a_level_outside_one_to_four(owner_client, profiled_hire):
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    competency = Competency.objects.get(slug="delivery")
    response = post_check_in(owner_client, check_in, {competency.pk: "7"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not CompetencyRating.objects.exists()


def test_it_refuses_a_stale_save_with_what_changed(owner, owner_client, profiled_hire):
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    seen = check_in.version
    services.check_in_record(
        actor=owner, check_in=check_in, ratings={}, summary="Written by someone else"
    )
    competency = Competency.objects.get(slug="delivery")
    data = {
        "version": str(seen),
        "summary": "Mine",
        "action": "save",
        f"level_{competency.pk}": "3",
    }
    response = owner_client.post(reverse("onboarding:check_in", args=[check_in.pk]), data)
    assert response.status_code == 409
    assert "someone else changed this check-in" in response.content.decode()
    assert "Written by someone else" in response.content.decode()
    check_in.refresh_from_db()
    assert check_in.summary == "Written by someone else"


def test_it_answers_404_to_another_manager_even_for_a_save(outsider_client, profiled_hire):
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    response = post_check_in(outsider_client, check_in, {})
    assert response.status_code == 404


def test_it_forbids_saving_without_the_permission(client, plain_user, owner, profiled_hire):
    # A people-ops user who may see every hire but not change check-ins.
    from django.contrib.auth.models import Permission

    plain_user.user_permissions.add(Permission.objects.get(codename="view_all_hires"))
    client.force_login(plain_user)
    check_in = profiled_hire.check_ins.get(kind=CheckInKind.BASELINE)
    assert client.get(reverse("onboarding:check_in", args=[check_in.pk])).status_code == 200
    assert post_check_in(client, check_in, {}).status_code == 403


def test_it_rates_a_hire_without_a_role_profile_on_every_active_competency(owner_client, owner):
    hire = NewHireFactory(hiring_manager=owner, role_profile=None)
    services.plan_create(actor=owner, hire=hire, title="Plan")
    Competency.objects.filter(slug="go-to-market").update(active=False)
    check_in = hire.check_ins.get(kind=CheckInKind.BASELINE)
    body = owner_client.get(reverse("onboarding:check_in", args=[check_in.pk])).content.decode()
    assert body.count('type="radio"') == 7 * 5
    assert "Expected by day 90: <strong>not set</strong>" in body


# --- the hire page: the ramp -------------------------------------------------------------------


def test_it_shows_the_ramp_chart_table_and_gap_on_the_hire_page(owner, owner_client, profiled_hire):
    levels = {"baseline": 1, "day_30": 2}
    for kind, level in levels.items():
        record(owner, profiled_hire.check_ins.get(kind=kind), level=level, complete=True)
    body = owner_client.get(
        reverse("onboarding:hire_detail", args=[profiled_hire.pk])
    ).content.decode()
    data = json_script(body, "ramp-chart-data")
    delivery = data["labels"].index("Delivery with engineering")
    assert data["expected"][delivery] == 4
    assert [series["data"][delivery] for series in data["series"]] == [1, 2, None, None]
    # Expected levels of the technical profile add up to 20; the latest ratings are
    # all 2, so the gap is the sum of max(expected - 2, 0).
    expectations = RoleExpectation.objects.filter(role_profile=profiled_hire.role_profile)
    gap = sum(level_gap(e.expected_level, 2) for e in expectations)
    assert f'data-ramp-gap="{gap}"' in body
    assert "Ratings by competency" in body


def test_it_invites_the_first_check_in_before_any_rating(owner_client, profiled_hire):
    body = owner_client.get(
        reverse("onboarding:hire_detail", args=[profiled_hire.pk])
    ).content.decode()
    assert "No check-in completed yet" in body
    assert 'id="ramp-chart-data"' not in body


# --- dashboard ---------------------------------------------------------------------------------


def test_it_lists_due_and_overdue_check_ins_under_needs_attention(owner, owner_client):
    hire = NewHireFactory(
        hiring_manager=owner, full_name="Olu Overdue", start_date=TODAY - 35 * DAY
    )
    services.plan_create(actor=owner, hire=hire, title="Plan")
    body = owner_client.get(reverse("onboarding:home")).content.decode()
    assert "Check-ins due or overdue" in body
    section = body[body.index("Check-ins due or overdue") :]
    assert "Olu Overdue" in section
    assert "overdue since" in section  # baseline and day 30
    # The page above came from the figures this count makes (views.dashboard).
    assert stats.attention(owner, TODAY).check_ins_count == 2  # day 60 is 25 days away


def test_it_counts_hires_below_expectations_at_day_90(owner, owner_client, profiled_hire):
    NewHire.objects.filter(pk=profiled_hire.pk).update(start_date=TODAY - 100 * DAY)
    day_90 = profiled_hire.check_ins.get(kind=CheckInKind.DAY_90)
    record(owner, day_90, level=4, complete=True)
    assert (
        owner_client.get(reverse("onboarding:home")).context["cards"].hires_below_expectations == 0
    )
    delivery = Competency.objects.get(slug="delivery")  # expected 4
    services.check_in_record(actor=owner, check_in=day_90, ratings={delivery.pk: (3, "")})
    cards = owner_client.get(reverse("onboarding:home")).context["cards"]
    assert cards.hires_below_expectations == 1
