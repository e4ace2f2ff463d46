"""The manager's whole journey in a real browser, with the CSP enforced throughout.

Sign in, add a hire, create a plan from a template, mark an assignment complete
and watch progress and health change without a page load, write a guidance note
and mark it discussed, sign out. The plan steps drive the plan pages
(onboarding:plan_create / plan_detail) through their labels and data attributes.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from .conftest import PASSWORD, Console, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def manager(transactional_db, shipped_catalog):
    from ..factories import ManagerFactory

    return ManagerFactory(username="maya", first_name="Maya", last_name="Manager")


def test_it_takes_a_manager_through_onboarding_a_hire(live_server, manager, page, console: Console):
    base = live_server.url
    # Started ten days ago: the first course of the template (due at +7 days) is overdue.
    start = timezone.localdate() - datetime.timedelta(days=10)

    # Sign in: the dashboard asks for it first.
    page.goto(base + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
    page.get_by_text("Signed in as Maya Manager.").wait_for()
    page.get_by_text("No hires yet — add your first hire.").wait_for()

    # Add a hire.
    page.get_by_role("link", name="Add your first hire").click()
    page.get_by_label("Full name").fill("Jo Journey")
    page.get_by_label("Email").fill("jo@example.com")
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("Role profile").select_option(label="Generalist product manager")
    page.get_by_role("button", name="Add hire").click()
    page.wait_for_url(re.compile(r"/hires/\d+/$"))
    page.get_by_text("Jo Journey was added.").wait_for()

    # Create a plan from a template; its courses and due dates show before saving.
    page.get_by_role("link", name=re.compile(r"^New plan")).click()
    page.get_by_label("Template").select_option(label="Experienced product manager")
    page.get_by_text("Courses from “Experienced product manager”").wait_for()
    page.get_by_role("button", name="Create plan").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    page.get_by_text("created for Jo Journey").wait_for()
    progress = page.locator("[data-plan-percent]")
    health = page.locator("[data-plan-health]")
    assert progress.get_attribute("data-plan-percent") == "0"
    assert health.get_attribute("data-plan-health") == "overdue"
    screenshot(page, "journey-plan-before")

    # Complete the overdue course inline: htmx swaps the row and the progress block.
    page.evaluate("() => { window.__sameDocument = true; }")
    row = page.locator("tr[id^='assignment-']").first
    row.locator("[data-status-select]").select_option("completed")
    row.get_by_role("button", name="Save status").click()
    page.locator("[data-plan-percent='33']").wait_for()
    assert page.locator("[data-plan-health]").get_attribute("data-plan-health") == "at_risk"
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    assert (
        page.locator("tr[id^='assignment-']")
        .first.locator("[data-assignment-status='completed']")
        .count()
        == 1
    )

    # Guidance: the "mileage may vary" card comes first; note it and mark it discussed.
    card = page.locator("article.guidance-always")
    card.get_by_label("Your note for this hire").fill(
        "Jo comes from a P&L role elsewhere: adapt, don't copy."
    )
    card.get_by_role("button", name="Save note").click()
    card = page.locator("article.guidance-always")
    card.get_by_role("button", name="Mark as discussed with the hire").click()
    page.locator("article.guidance-always [data-discussed='yes']").wait_for()
    assert "adapt, don't copy" in page.locator("article.guidance-always textarea").input_value()
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    screenshot(page, "journey-plan-after")

    # The dashboard reflects it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("table", name="Hires").get_by_role("link", name="Jo Journey").wait_for()
    assert (
        page.locator(".hires-table [role=progressbar]").first.get_attribute("aria-valuenow") == "33"
    )

    # Sign out.
    page.locator(".navbar .dropdown-toggle").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.get_by_text("You have signed out.").wait_for()
    page.goto(base + "/")
    assert "/accounts/login/" in page.url

    assert not console.csp_violations, console.csp_violations
    console.assert_clean()
