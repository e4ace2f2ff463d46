"""A manager completes a check-in by its labels, then sees the ramp and the outcomes move."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from .conftest import Console, screenshot, sign_in

pytestmark = pytest.mark.browser

GENERALIST = "Generalist product manager"


@pytest.fixture
def cohort(transactional_db, shipped_catalog):
    """Five hires took Foundations and five did not, all rated at baseline and day 90;
    Rita took it too, her baseline is done and her day-90 check-in is due."""
    from onboarding import selectors, services
    from onboarding.models import CheckIn, Course, RoleProfile

    from ..factories import ManagerFactory, NewHireFactory

    today = timezone.localdate()
    manager = ManagerFactory(username="maya", first_name="Maya", last_name="Manager")
    profile = RoleProfile.objects.get(name=GENERALIST)
    foundations = Course.objects.get(title="Foundations")

    def hire_with(name: str, *, took: bool, baseline: int, day_90: int | None) -> object:
        hire = NewHireFactory(
            hiring_manager=manager,
            full_name=name,
            role_profile=profile,
            start_date=today - datetime.timedelta(days=95),
        )
        plan = services.plan_create(actor=manager, hire=hire, title="Plan")
        if took:
            assignment = services.assignment_add(
                actor=manager, plan=plan, course=foundations, due_date=hire.start_date
            )
            services.assignment_complete(
                actor=manager, assignment=assignment, completed_on=hire.start_date
            )
        for kind, level in (("baseline", baseline), ("day_90", day_90)):
            if level is None:
                continue
            check_in = CheckIn.objects.get(hire=hire, kind=kind)
            ratings = {c.pk: (level, "") for c in selectors.check_in_competencies(check_in)}
            services.check_in_record(
                actor=manager, check_in=check_in, ratings=ratings, complete=True
            )
        return hire

    for n in range(5):
        hire_with(f"Taker {n}", took=True, baseline=1, day_90=3)
        hire_with(f"Other {n}", took=False, baseline=2, day_90=3)
    rita = hire_with("Rita Ramp", took=True, baseline=1, day_90=None)
    return {"manager": manager, "rita": rita}


def foundations_row(page):
    return page.locator('tr[data-outcome="Foundations (Pragmatic Institute)"]').first


def test_it_completes_a_check_in_and_updates_the_ramp_and_outcomes(
    live_server, cohort, page, console: Console
):
    base = live_server.url
    sign_in(page, base, "maya")

    # Before: five hires took Foundations and moved two levels; five others moved one.
    page.goto(base + "/outcomes/")
    row = foundations_row(page)
    assert row.locator("td").nth(1).inner_text() == "5"
    assert row.locator("td").nth(2).inner_text() == "+2.00"

    # The hire page offers Rita's day-90 check-in, overdue.
    page.goto(f"{base}/hires/{cohort['rita'].pk}/")
    page.get_by_role("link", name=re.compile(r"^Day 90")).click()
    page.wait_for_url(re.compile(r"/check-ins/\d+/$"))
    page.get_by_role("heading", name="Day 90 check-in: Rita Ramp").wait_for()

    # Rate every competency at level 4 by the labels people read, then complete.
    groups = page.get_by_role("group")
    count = groups.count()
    assert count == 8
    for index in range(count):
        groups.nth(index).get_by_label(re.compile(r"^Level 4:")).check()
    page.get_by_label("Summary").fill("Ready for the role as we define it here.")
    screenshot(page, "check-in-filled")
    page.get_by_role("button", name="Save and complete the check-in").click()
    page.wait_for_url(re.compile(rf"/hires/{cohort['rita'].pk}/#ramp$"))
    page.get_by_text("Day 90 check-in completed.").wait_for()

    # The ramp chart draws the four check-in series and the expected levels.
    page.wait_for_function("() => window.Chart && Chart.getChart('ramp-chart')")
    datasets = page.evaluate("() => Chart.getChart('ramp-chart').data.datasets.length")
    assert datasets == 5
    page.get_by_text("Ratings by competency").click()
    table = page.locator("table.ramp-table")
    first_row = table.locator("tbody tr").first
    assert first_row.locator("td").last.inner_text() == "0"  # level 4 meets every expectation
    screenshot(page, "hire-ramp")

    # The outcome report counts Rita now: six took Foundations.
    page.goto(base + "/outcomes/")
    row = foundations_row(page)
    assert row.locator("td").nth(1).inner_text() == "6"
    assert row.locator("td").nth(2).inner_text() == "+2.17"  # (5 × 2 + 3) / 6
    page.wait_for_function("() => window.Chart && Chart.getChart('outcome-chart')")
    screenshot(page, "outcomes")
