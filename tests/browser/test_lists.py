"""The list pages as people see them: sortable headers stand out, filters fold on phones."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import PHONE, World, sign_in

pytestmark = pytest.mark.browser

HEADER_LOOK = (
    "(th) => { const link = th.querySelector('a'); const el = link || th;"
    " const arrow = th.querySelector('.sort-arrow');"
    " return {sortable: !!link, underline: getComputedStyle(el).textDecorationLine,"
    " arrow: arrow ? arrow.textContent.trim() : ''}; }"
)


@pytest.mark.parametrize(
    ("url", "user"),
    [
        (lambda: reverse("onboarding:hire_list"), "owner"),
        (lambda: reverse("onboarding:assignment_list"), "owner"),
        (lambda: reverse("onboarding:tuition"), "people_ops"),
    ],
)
def test_it_marks_sortable_column_headers(live_server, world: World, page, url, user):
    sign_in(page, live_server.url, getattr(world, user).username)
    page.goto(live_server.url + url())
    looks = [th.evaluate(HEADER_LOOK) for th in page.locator("table thead th").all()]
    sortable = [look for look in looks if look["sortable"]]
    plain = [look for look in looks if not look["sortable"]]
    assert sortable and plain
    for look in sortable:
        assert look["arrow"] in {"↕", "▲", "▼"}
        assert "underline" in look["underline"]
    for look in plain:
        assert look["arrow"] == "" and "underline" not in look["underline"]


@pytest.mark.parametrize(
    ("url", "user"),
    [
        (lambda: reverse("onboarding:assignment_list"), "owner"),
        (lambda: reverse("onboarding:tuition"), "people_ops"),
    ],
)
def test_it_folds_the_filters_away_on_a_phone(live_server, world: World, page, url, user):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, getattr(world, user).username)
    page.goto(live_server.url + url())
    results = page.locator("table").first
    assert results.bounding_box()["y"] < 600, "results start below the first screen"
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    page.get_by_role("button", name="Filters").click()
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()


def test_it_keeps_the_filters_open_at_laptop_width(live_server, world: World, page):
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:assignment_list"))
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()
    expect(page.get_by_role("button", name="Filters", exact=True)).to_be_hidden()


def test_it_searches_from_the_navigation_bar(live_server, world: World, page):
    sign_in(page, live_server.url, world.people_ops.username)
    box = page.get_by_role("search").get_by_label("Search hires, plans and courses")
    box.fill("Xena")
    box.press("Enter")
    # One hire matches: straight to her page.
    expect(page.get_by_role("heading", level=1)).to_have_text("Xena Elsewhere")
    box = page.get_by_role("search").get_by_label("Search hires, plans and courses")
    box.fill("experienced")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Plans")).to_be_visible()
    expect(page.get_by_role("link", name="Experienced product manager").first).to_be_visible()


def test_it_gives_the_ticked_hires_a_plan_at_once(live_server, world: World, page):
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:hire_list") + "?health=no_plan")
    page.get_by_label("Select every hire on this page").check()
    ticked = page.locator("input[name=hires]:checked")
    expect(ticked).to_have_count(2)  # Ben Brooks and Dev Desai have no plan
    page.get_by_label("With the selected hires").select_option("plan")
    page.get_by_label("Template (for plans)").select_option(label="Experienced product manager")
    page.get_by_role("button", name="Apply to selected").click()
    expect(
        page.get_by_text("Gave 2 hires a plan from “Experienced product manager”")
    ).to_be_visible()
    # Back on the same filtered list, which now has nobody without a plan.
    assert "health=no_plan" in page.url
    expect(page.get_by_text("No hires match these filters.")).to_be_visible()
