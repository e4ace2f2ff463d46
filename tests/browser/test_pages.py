"""The dashboard pages in a real browser with the Content Security Policy enforced:
no console errors or CSP violations, charts drawn, usable at phone width and by
keyboard. Saves screenshots of the main pages under test-artifacts/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import PHONE, Console, World, screenshot, sign_in

pytestmark = pytest.mark.browser

MAIN_PAGES = [
    ("home", lambda w: reverse("onboarding:home")),
    ("hire-list", lambda w: reverse("onboarding:hire_list")),
    ("hire-detail", lambda w: reverse("onboarding:hire_detail", args=[w.hire.pk])),
    ("hire-create", lambda w: reverse("onboarding:hire_create")),
    ("hire-edit", lambda w: reverse("onboarding:hire_edit", args=[w.hire.pk])),
    ("password-change", lambda w: reverse("password_change")),
]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_it_renders_the_main_pages_cleanly(
    live_server, world: World, page, console: Console, viewport
):
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("login"))
    screenshot(page, f"login-{viewport}")
    sign_in(page, live_server.url, world.owner.username)
    for name, path in MAIN_PAGES:
        response = page.goto(live_server.url + path(world))
        assert response.status == 200, name
        assert "script-src 'self'" in response.headers.get("content-security-policy", "")
        page.wait_for_load_state("load")
        # Nothing wider than the screen: no sideways scrolling at phone width.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {viewport} width"
        screenshot(page, f"{name}-{viewport}")
    assert not console.csp_violations
    console.assert_clean()


def test_it_draws_both_charts_from_json_data(live_server, world: World, page, console):
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + "/")
    page.wait_for_function("() => window.Chart && Chart.getChart('cohort-chart')")
    drawn = page.evaluate(
        "() => ['cohort-chart', 'tuition-chart-USD'].map((id) => {"
        "  const chart = Chart.getChart(id);"
        "  return chart ? chart.data.labels.length : 0; })"
    )
    from onboarding import stats

    [usd] = stats.tuition_by_quarter(world.owner)["currencies"]
    assert drawn == [12, len(usd["quarters"])]
    # The fallback tables open from the keyboard.
    summary = page.locator("#cohort-heading ~ * details summary, .chart-table summary").first
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator(".chart-table").first.get_attribute("open") is not None
    console.assert_clean()


def test_it_is_usable_from_the_keyboard(live_server, world: World, page):
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    # Focus is visible: our outline, not the browser's "none".
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # Tabbing on reaches the hires table's first sortable header link.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('sort-link')"):
            break
    else:
        pytest.fail("The sortable headers cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=name**")
    assert page.locator("th[aria-sort='ascending']").count() == 1


def test_it_opens_the_menu_at_phone_width(live_server, world: World, page):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:hire_list"))
    assert not page.get_by_role("link", name="Hires", exact=True).is_visible()
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("link", name="Hires", exact=True).click()
    page.wait_for_url("**/hires/")
    screenshot(page, "hire-list-phone-menu")


def test_it_archives_from_the_detail_page_after_confirming(live_server, world: World, page):
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:hire_detail", args=[world.hire.pk]))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Archive").click()
    assert page.get_by_role("button", name="Archive").is_visible()  # nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive").click()
    page.get_by_text("was archived").wait_for()
    page.get_by_role("button", name="Restore from archive").click()
    page.get_by_text("is active again").wait_for()
