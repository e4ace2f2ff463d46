"""What the dashboard charts show: a month at 0% is not a month without hires."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from .conftest import sign_in

pytestmark = pytest.mark.browser


def month_back(back: int) -> datetime.date:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 10)


def test_it_draws_a_month_at_zero_percent_unlike_a_month_without_hires(
    live_server, transactional_db, page
):
    from ..factories import AssignmentFactory, ManagerFactory, NewHireFactory, TrainingPlanFactory

    owner = ManagerFactory(username="olive")
    stalled = NewHireFactory(hiring_manager=owner, start_date=month_back(2))
    AssignmentFactory(plan=TrainingPlanFactory(hire=stalled))
    done = NewHireFactory(hiring_manager=owner, start_date=month_back(0))
    AssignmentFactory(
        plan=TrainingPlanFactory(hire=done),
        status="completed",
        completed_on=timezone.localdate(),
    )

    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live_server.url, owner.username)
    page.goto(live_server.url + "/")
    page.wait_for_function("() => window.Chart && Chart.getChart('cohort-chart')")
    heights = page.evaluate(
        "() => Chart.getChart('cohort-chart').getDatasetMeta(0).data.map("
        "  (bar) => bar.skip ? 0 : Math.round(Math.abs(bar.base - bar.y)))"
    )
    percent = page.evaluate("() => Chart.getChart('cohort-chart').data.datasets[0].data")
    assert percent[-3:] == [0, None, 100]
    zero, none, full = heights[-3:]
    assert zero >= 3, "a 0% month must be visible"
    assert none == 0
    assert full > zero

    page.locator(".chart-table summary").first.click()
    table = page.get_by_role("table", name="Completion by start month")
    assert table.get_by_role("row").nth(-2).inner_text().endswith("No hires")
