"""Dashboard home (cards, needs attention, charts, hires table) and the sign-in pages."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import services, stats
from onboarding.models import TrainingPlan
from onboarding.rules import HEALTH_RULES

from .factories import (
    AssignmentFactory,
    CourseFactory,
    HeldCertificationFactory,
    ManagerFactory,
    NewHireFactory,
    TrainingPlanFactory,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
PASSWORD = "correct horse battery staple"


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def json_script(body: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', body)
    assert match, f"no {element_id} data"
    return json.loads(match.group(1))


def month_label(day: datetime.date) -> str:
    return day.replace(day=1).strftime("%b %Y")


@pytest.fixture
def world(owner, outsider):
    """The owner's hires in every state, and an outsider's hire that must never count."""
    on_track = NewHireFactory(hiring_manager=owner, full_name="Olga OnTrack")
    plan = TrainingPlanFactory(hire=on_track, title="On-track plan")
    AssignmentFactory(
        plan=plan,
        status="scheduled",
        due_date=TODAY + 10 * DAY,
        scheduled_for=TODAY + 3 * DAY,
        tuition_cost=Decimal("1200"),
        paid_by="employer",
    )
    AssignmentFactory(
        plan=plan,
        status="completed",
        completed_on=TODAY - DAY,
        tuition_cost=Decimal("300"),
        paid_by="hire",
    )

    late = NewHireFactory(hiring_manager=owner, full_name="Larry Late")
    late_plan = TrainingPlanFactory(hire=late, title="Late plan")
    AssignmentFactory(
        plan=late_plan,
        course__title="Overdue course",
        due_date=TODAY - 4 * DAY,
        tuition_cost=Decimal("500"),
        paid_by="employer",
    )
    # Waived tuition is not spent; the card ignores it.
    AssignmentFactory(
        plan=late_plan,
        status="waived",
        due_date=TODAY - 4 * DAY,
        tuition_cost=Decimal("999"),
        paid_by="employer",
    )

    risky = NewHireFactory(hiring_manager=owner, full_name="Rita Risk")
    AssignmentFactory(
        plan=TrainingPlanFactory(hire=risky, title="Risky plan"), due_date=TODAY + 5 * DAY
    )

    NewHireFactory(
        hiring_manager=owner, full_name="Sam Soon", start_date=TODAY + 7 * DAY
    )  # no plan
    NewHireFactory(hiring_manager=owner, full_name="Ned Notyet", start_date=TODAY + 40 * DAY)

    archived = NewHireFactory(hiring_manager=owner, full_name="Archie Archived")
    AssignmentFactory(plan=TrainingPlanFactory(hire=archived), due_date=TODAY - 9 * DAY)
    services.hire_archive(actor=owner, hire=archived)

    other = NewHireFactory(hiring_manager=outsider, full_name="Xena Elsewhere")
    AssignmentFactory(
        plan=TrainingPlanFactory(hire=other),
        due_date=TODAY - 9 * DAY,
        tuition_cost=Decimal("7000"),
        paid_by="employer",
    )
    return {"on_track": on_track, "late": late, "risky": risky}


# --- access ---------------------------------------------------------------------------------


def test_it_sends_anonymous_users_to_sign_in(client, db):
    response = client.get(reverse("onboarding:home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


@pytest.mark.parametrize("persona", ["owner_client", "people_ops_client", "outsider_client"])
def test_it_shows_home_to_every_signed_in_persona(request, persona, world):
    assert request.getfixturevalue(persona).get(reverse("onboarding:home")).status_code == 200


def test_it_shows_home_to_a_user_without_hires(client, plain_user):
    client.force_login(plain_user)
    body = client.get(reverse("onboarding:home")).content.decode()
    assert "No hires yet." in body
    assert "Nothing needs you right now" in body


def test_it_invites_a_manager_to_add_the_first_hire(owner_client):
    body = owner_client.get(reverse("onboarding:home")).content.decode()
    assert "No hires yet — add your first hire." in body
    assert reverse("onboarding:hire_create") in body


# --- cards ----------------------------------------------------------------------------------


def test_it_counts_the_cards_for_the_owners_hires_only(owner_client, world):
    cards = owner_client.get(reverse("onboarding:home")).context["cards"]
    assert cards.active_hires == 5
    assert cards.plans_on_track == 1
    assert cards.plans_at_risk == 1
    assert cards.plans_overdue == 1
    assert cards.overdue_assignments == 1
    assert cards.sessions_soon == 1
    # 1200 + 500 employer-paid, due this year; hire-paid, waived and others' are left out.
    if (TODAY - 4 * DAY).year == TODAY.year and (TODAY + 10 * DAY).year == TODAY.year:
        assert cards.employer_tuition_this_year == {"USD": Decimal("1700")}


def test_it_counts_every_hire_for_people_ops(people_ops_client, world):
    cards = people_ops_client.get(reverse("onboarding:home")).context["cards"]
    assert cards.active_hires == 6
    assert cards.overdue_assignments == 2


def test_it_counts_every_active_hire_on_the_card_when_the_table_is_filtered(owner_client, world):
    response = owner_client.get(reverse("onboarding:home"), {"q": "no such hire"})
    assert response.context["hires"] == []
    assert response.context["cards"].active_hires == 5


def test_it_counts_plans_with_guidance_not_yet_discussed(owner_client, world):
    response = owner_client.get(reverse("onboarding:home"))
    plans = TrainingPlan.objects.filter(hire__hiring_manager__username="owner")
    undiscussed = plans.filter(guidance__acknowledged_at__isnull=True, hire__archived_at=None)
    assert response.context["cards"].plans_with_undiscussed_guidance == (
        undiscussed.distinct().count()
    )
    assert undiscussed.exists()


def test_it_counts_sessions_in_the_next_thirty_days_only(owner, hire):
    plan = TrainingPlanFactory(hire=hire)
    for offset in (-1, 0, 30, 31):
        AssignmentFactory(
            plan=plan, status="scheduled", scheduled_for=TODAY + offset * DAY, due_date=TODAY
        )
    assert stats.cards(owner).sessions_soon == 2


# --- needs attention ------------------------------------------------------------------------


def test_it_lists_what_needs_attention(owner_client, world):
    response = owner_client.get(reverse("onboarding:home"))
    attention = response.context["attention"]
    assert [a.course.title for a in attention.overdue] == ["Overdue course"]
    assert [h.full_name for h in attention.hires_without_plan] == ["Sam Soon"]
    # Every plan carries undiscussed "mileage may vary" guidance from the start.
    assert {p.title for p in attention.guidance_plans} == {
        "On-track plan",
        "Late plan",
        "Risky plan",
    }
    body = response.content.decode()
    assert reverse("onboarding:plan_create", args=[world["late"].pk]) not in body
    assert "Sam Soon" in body


def test_it_lists_certifications_about_to_expire(owner_client, hire, outsider):
    today = timezone.localdate()
    HeldCertificationFactory(
        hire=hire, certification__name="Soon Cert", expires_on=today + datetime.timedelta(days=89)
    )
    HeldCertificationFactory(
        hire=hire, certification__name="Later Cert", expires_on=today + datetime.timedelta(days=91)
    )
    HeldCertificationFactory(
        hire=NewHireFactory(hiring_manager=outsider),
        certification__name="Not Mine Cert",
        expires_on=today + datetime.timedelta(days=10),
    )
    body = owner_client.get("/").content.decode()
    assert "Certifications expiring" in body
    assert "Soon Cert" in body
    assert "Expires in 89 days" in body
    assert "Later Cert" not in body
    assert "Not Mine Cert" not in body


def test_it_links_to_the_calendar_feed_from_the_dashboard(owner_client):
    body = owner_client.get("/").content.decode()
    assert 'href="/account/#calendar"' in body
    assert "Add to calendar" in body


def test_it_drops_guidance_once_discussed(owner, owner_client, world):
    plan = world["on_track"].plans.get()
    for attached in plan.guidance.all():
        services.plan_guidance_update(actor=owner, plan_guidance=attached, discussed=True)
    attention = owner_client.get(reverse("onboarding:home")).context["attention"]
    assert "On-track plan" not in {p.title for p in attention.guidance_plans}


def test_it_caps_the_attention_lists_and_gives_the_total(owner, owner_client):
    for _ in range(stats.ATTENTION_LIMIT + 3):
        hire = NewHireFactory(hiring_manager=owner)
        AssignmentFactory(plan=TrainingPlanFactory(hire=hire), due_date=TODAY - DAY)
    response = owner_client.get(reverse("onboarding:home"))
    assert len(response.context["attention"].overdue) == stats.ATTENTION_LIMIT
    assert response.context["cards"].overdue_assignments == stats.ATTENTION_LIMIT + 3
    assert "All hires with overdue training" in response.content.decode()


def test_it_says_how_many_whole_days_training_is_overdue(owner, owner_client, hire):
    AssignmentFactory(plan=TrainingPlanFactory(hire=hire), due_date=TODAY - 5 * DAY)
    AssignmentFactory(plan=TrainingPlanFactory(hire=hire), due_date=TODAY - DAY)
    body = owner_client.get(reverse("onboarding:home")).content.decode()
    # A deadline is a date: no hours, which would change through the day.
    assert re.search(r"· 5 days overdue</span>", body)
    assert re.search(r"· 1 day overdue</span>", body)
    assert "hour" not in body


def test_it_links_every_plan_with_guidance_not_yet_discussed(owner, owner_client, outsider):
    hires = [NewHireFactory(hiring_manager=owner) for _ in range(stats.ATTENTION_LIMIT + 3)]
    for hire in hires:
        TrainingPlanFactory(hire=hire)
    discussed = NewHireFactory(hiring_manager=owner, full_name="Dora Discussed")
    for attached in TrainingPlanFactory(hire=discussed).guidance.all():
        services.plan_guidance_update(actor=owner, plan_guidance=attached, discussed=True)
    TrainingPlanFactory(hire=NewHireFactory(hiring_manager=outsider))

    home = owner_client.get(reverse("onboarding:home"))
    assert len(home.context["attention"].guidance_plans) == stats.ATTENTION_LIMIT
    assert home.context["cards"].plans_with_undiscussed_guidance == len(hires)
    link = reverse("onboarding:hire_list") + "?undiscussed_guidance=true"
    assert f'href="{link}"' in home.content.decode()

    listed = owner_client.get(link).context["hires"]
    assert {h.pk for h in listed} == {h.pk for h in hires}
    others = owner_client.get(reverse("onboarding:hire_list") + "?undiscussed_guidance=false")
    assert [h.full_name for h in others.context["hires"]] == ["Dora Discussed"]


# --- charts ---------------------------------------------------------------------------------


def test_it_charts_completion_by_start_month(owner, owner_client):
    this_month = TODAY.replace(day=1)
    hire = NewHireFactory(hiring_manager=owner, start_date=this_month)
    plan = TrainingPlanFactory(hire=hire)
    AssignmentFactory(plan=plan, status="completed", completed_on=TODAY)
    AssignmentFactory(plan=plan, status="waived")
    AssignmentFactory(plan=plan)
    AssignmentFactory(plan=plan)
    old = NewHireFactory(hiring_manager=owner, start_date=this_month - 400 * DAY)
    AssignmentFactory(plan=TrainingPlanFactory(hire=old), status="completed", completed_on=TODAY)

    response = owner_client.get(reverse("onboarding:home"))
    cohorts = response.context["cohorts"]
    assert len(cohorts) == 12
    assert cohorts[-1]["label"] == month_label(TODAY)
    assert (cohorts[-1]["total"], cohorts[-1]["done"], cohorts[-1]["percent"]) == (4, 2, 50)
    assert all(c["percent"] is None for c in cohorts[:-1])
    data = json_script(response.content.decode(), "cohort-chart-data")
    assert data["percent"][-1] == 50
    assert data["labels"][-1] == month_label(TODAY)


def quarter_label(day: datetime.date) -> str:
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def in_quarter(shift: int) -> datetime.date:
    """The 15th of the middle month of the quarter `shift` quarters from this one."""
    index = TODAY.year * 4 + (TODAY.month - 1) // 3 + shift
    return datetime.date(index // 4, index % 4 * 3 + 2, 15)


def test_it_charts_tuition_by_quarter_and_payer(owner, owner_client):
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    two_quarters_ago = in_quarter(-2)
    this_quarter = TODAY
    AssignmentFactory(plan=plan, due_date=two_quarters_ago, tuition_cost=100, paid_by="employer")
    AssignmentFactory(plan=plan, due_date=this_quarter, tuition_cost=250, paid_by="hire")
    AssignmentFactory(plan=plan, due_date=this_quarter, tuition_cost=40, paid_by="employer")
    AssignmentFactory(plan=plan, due_date=TODAY - 3 * 365 * DAY, tuition_cost=9)

    response = owner_client.get(reverse("onboarding:home"))
    [usd] = response.context["tuition"]["currencies"]
    assert usd["currency"] == "USD"
    quarters = {q["label"]: q for q in usd["quarters"]}
    assert len(quarters) == 3
    assert quarters[quarter_label(two_quarters_ago)]["employer"] == 100
    assert quarters[quarter_label(this_quarter)] == {
        "label": quarter_label(this_quarter),
        "employer": 40,
        "hire": 250,
        "total": 290,
    }
    data = json_script(response.content.decode(), "tuition-chart-data-USD")
    assert data["currency"] == "USD"
    assert sum(data["employer"]) == 140
    assert sum(data["hire"]) == 250


def test_it_charts_next_quarters_booked_tuition_and_no_empty_quarters_before(owner, owner_client):
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    next_quarter = in_quarter(1)
    AssignmentFactory(plan=plan, due_date=next_quarter, tuition_cost=700, paid_by="employer")

    response = owner_client.get(reverse("onboarding:home"))
    data = json_script(response.content.decode(), "tuition-chart-data-USD")
    assert data["labels"] == [quarter_label(TODAY), quarter_label(next_quarter)]
    assert data["employer"] == [0, 700]
    assert f"from {quarter_label(TODAY)} to {quarter_label(next_quarter)}" in (
        response.content.decode()
    )


def test_it_never_adds_currencies_together_on_the_home_page(owner, owner_client):
    """A hire whose plan has EUR and USD employer-paid courses: two amounts, never their sum."""
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    due = datetime.date(TODAY.year, 6, 15)
    for currency, amount in (("USD", 1000), ("EUR", 800)):
        course = CourseFactory(currency=currency, tuition=amount)
        AssignmentFactory(
            plan=plan, course=course, due_date=due, tuition_cost=amount, paid_by="employer"
        )

    response = owner_client.get(reverse("onboarding:home"))
    assert response.context["cards"].employer_tuition_this_year == {
        "EUR": Decimal("800"),
        "USD": Decimal("1000"),
    }
    body = response.content.decode()
    card = body[body.index("Employer-paid tuition") : body.index("each currency on its own")]
    assert "800" in card and "EUR" in card and "1,000" in card and "USD" in card
    assert "1,800" not in card
    eur = json_script(body, "tuition-chart-data-EUR")
    usd = json_script(body, "tuition-chart-data-USD")
    assert (sum(eur["employer"]), sum(usd["employer"])) == (800, 1000)


def test_it_scopes_chart_data_to_the_user(outsider_client, world):
    response = outsider_client.get(reverse("onboarding:home"))
    spent = [
        q["employer"]
        for block in response.context["tuition"]["currencies"]
        for q in block["quarters"]
    ]
    assert sum(spent) in (0, 7000)
    assert sum(c["total"] for c in response.context["cohorts"]) <= 1


def test_it_gives_every_chart_a_table_and_loads_no_inline_script(owner_client, world):
    body = owner_client.get(reverse("onboarding:home")).content.decode()
    assert body.count('<details class="chart-table') == 2
    assert "vendor/chart.umd.min.js" in body
    assert "js/charts.js" in body
    for script in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body):
        assert 'type="application/json"' in script
    assert " style=" not in body
    assert not re.search(r"\son[a-z]+=", body)


def test_it_says_what_to_do_when_there_is_nothing_to_chart(owner_client):
    body = owner_client.get(reverse("onboarding:home")).content.decode()
    assert "nothing to chart yet" in body
    assert "cohort-chart-data" not in body


# --- hires table on the home page -----------------------------------------------------------


def test_it_shows_the_hires_table_with_health_rules(owner_client, world):
    response = owner_client.get(reverse("onboarding:home"))
    rows = {h.full_name: h for h in response.context["hires"]}
    assert rows["Larry Late"].health == "overdue"
    assert rows["Rita Risk"].health == "at_risk"
    assert rows["Sam Soon"].health == "no_plan"
    assert "Archie Archived" not in rows
    body = response.content.decode()
    for health in ("overdue", "at_risk", "on_track", "no_plan"):
        assert f'title="{HEALTH_RULES[health]}"' in body
    assert 'href="/exports/hires.csv?"' in body


def test_it_filters_the_home_table(owner_client, world):
    response = owner_client.get(reverse("onboarding:home"), {"health": "at_risk"})
    assert [h.full_name for h in response.context["hires"]] == ["Rita Risk"]


def make_hires(manager, count: int) -> None:
    for index in range(count):
        hire = NewHireFactory(hiring_manager=manager, start_date=TODAY - (index % 300) * DAY)
        plan = TrainingPlanFactory(hire=hire)
        AssignmentFactory(plan=plan, status="completed", completed_on=TODAY, tuition_cost=10)
        AssignmentFactory(plan=plan, due_date=TODAY - DAY, paid_by="hire", tuition_cost=5)
        AssignmentFactory(plan=plan, status="scheduled", scheduled_for=TODAY + 2 * DAY)
    NewHireFactory(hiring_manager=manager, start_date=TODAY + 3 * DAY)


@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_shows_home_in_constant_queries(
    request, client, owner, persona, django_assert_num_queries
):
    client.force_login(request.getfixturevalue(persona))
    make_hires(owner, 5)
    small = count_queries(client, reverse("onboarding:home"))
    make_hires(owner, 55)
    with django_assert_num_queries(small):
        response = client.get(reverse("onboarding:home"))
    assert len(response.context["hires"]) == 50


# --- sign in, sign out, password ------------------------------------------------------------


def test_it_shows_the_sign_in_page(client, db):
    body = client.get(reverse("login")).content.decode()
    assert "Sign in" in body
    assert 'name="username"' in body


def test_it_signs_in_and_says_so(client, owner):
    response = client.post(
        reverse("login"), {"username": "owner", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Signed in as Olive Owner." in response.content.decode()


def test_it_signs_out_and_says_so(owner_client):
    response = owner_client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You have signed out." in response.content.decode()
    assert owner_client.get("/").status_code == 302


def test_it_requires_sign_in_for_password_change(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_changes_the_password(owner_client, owner):
    response = owner_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new passphrase",
            "new_password2": "a much longer new passphrase",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert "Password changed" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password("a much longer new passphrase")


def test_it_explains_a_rejected_password_change(owner_client, owner):
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert "Your password was not changed" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


# --- per-manager breakdown (people-ops) -----------------------------------------------------


def test_it_breaks_hires_down_per_manager_for_people_ops(people_ops_client, owner, outsider):
    late = NewHireFactory(hiring_manager=owner, full_name="Lara Late")
    AssignmentFactory(plan=TrainingPlanFactory(hire=late), due_date=TODAY - 3 * DAY)
    risky = NewHireFactory(hiring_manager=owner, full_name="Rick Risky")
    AssignmentFactory(plan=TrainingPlanFactory(hire=risky), due_date=TODAY + 3 * DAY)
    NewHireFactory(hiring_manager=owner, full_name="Nina NoPlan")
    NewHireFactory(hiring_manager=outsider, full_name="Otto Fine")
    archived = NewHireFactory(hiring_manager=outsider, full_name="Old Archived")
    services.hire_archive(actor=None, hire=archived)

    response = people_ops_client.get(reverse("onboarding:home"))
    rows = [
        (str(r.manager), r.hires, r.overdue, r.at_risk) for r in response.context["manager_rows"]
    ]
    assert rows == [("Olive Owner", 3, 1, 1), (str(outsider), 1, 0, 0)]

    # Every figure links to the hires list that shows exactly those hires.
    body = response.content.decode()
    base = reverse("onboarding:hire_list")
    for query, names in (
        (f"hiring_manager={owner.pk}", {"Lara Late", "Rick Risky", "Nina NoPlan"}),
        (f"hiring_manager={owner.pk}&amp;has_overdue=true", {"Lara Late"}),
        (f"hiring_manager={owner.pk}&amp;health=at_risk", {"Rick Risky"}),
    ):
        assert f'href="{base}?{query}"' in body
        listed = people_ops_client.get(f"{base}?{query.replace('&amp;', '&')}")
        assert {hire.full_name for hire in listed.context["hires"]} == names


def test_it_shows_no_breakdown_to_a_manager(owner_client, owner):
    NewHireFactory(hiring_manager=owner)
    response = owner_client.get(reverse("onboarding:home"))
    assert response.context["manager_rows"] == []
    assert "Hires per manager" not in response.content.decode()


def test_it_breaks_down_in_a_fixed_number_of_queries(people_ops, outsider, owner):
    for manager in (owner, outsider):
        NewHireFactory(hiring_manager=manager)
    stats.manager_breakdown(people_ops)  # loads the user's permissions once
    with CaptureQueriesContext(connection) as few:
        stats.manager_breakdown(people_ops)
    for _ in range(3):
        NewHireFactory(hiring_manager=ManagerFactory())
    with CaptureQueriesContext(connection) as more:
        stats.manager_breakdown(people_ops)
    assert len(more.captured_queries) == len(few.captured_queries)
