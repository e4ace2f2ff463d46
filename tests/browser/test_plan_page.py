"""The plan page where people look at it: feedback beside the button, compact rows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, World, sign_in

pytestmark = pytest.mark.browser


def open_plan(page, live_server, world: World) -> None:
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:plan_detail", args=[world.plan.pk]))


def test_it_confirms_a_saved_note_beside_the_button(live_server, world: World, page):
    open_plan(page, live_server, world)
    card = page.locator("article.guidance-always")
    card.get_by_label("Your note for this hire").fill("Adapt it to how we work here.")
    card.get_by_role("button", name="Save note").click()

    notice = page.locator("article.guidance-always").get_by_text("Note saved on")
    expect(notice).to_be_visible()
    expect(notice).to_be_in_viewport()
    # Screen readers still hear it through the page's live region.
    expect(page.locator("#plan-feedback")).to_contain_text("Note saved on")


@pytest.mark.parametrize(("viewport", "max_row"), [(DESKTOP, 120), (PHONE, 260)])
def test_it_keeps_course_rows_compact_and_the_table_full_width(
    live_server, world: World, page, viewport, max_row
):
    page.set_viewport_size(viewport)
    open_plan(page, live_server, world)
    table = page.locator(".assignments-table")
    sizes = page.evaluate(
        "() => { const wrap = document.querySelector('#assignments .table-responsive');"
        " return {table: document.querySelector('.assignments-table').getBoundingClientRect()"
        ".width, wrap: wrap.clientWidth, scroll: wrap.scrollWidth,"
        " rows: [...document.querySelectorAll('tr[id^=assignment-]')]"
        ".map((r) => r.getBoundingClientRect().height)}; }"
    )
    assert sizes["table"] >= sizes["wrap"] - 1, "the courses table leaves the width unused"
    assert sizes["scroll"] <= sizes["wrap"], "the courses table is clipped"
    assert max(sizes["rows"]) <= max_row, sizes["rows"]

    # The status change is a select and a button on one line; the completion date
    # appears only while changing to "completed".
    row = table.locator("tr[id^='assignment-']").nth(1)
    select = row.get_by_label("Status of")
    save = row.get_by_role("button", name="Save status")
    assert abs(select.bounding_box()["y"] - save.bounding_box()["y"]) < 12
    expect(row.get_by_label("Completed on")).to_be_hidden()
    select.select_option("completed")
    expect(row.get_by_label("Completed on")).to_be_visible()
    save.click()
    row = table.locator("tr[id^='assignment-']").nth(1)  # the row htmx swapped in
    expect(row.locator("[data-row-notice]")).to_be_in_viewport()
    expect(row.locator("[data-assignment-status='completed']")).to_have_count(1)
    expect(row.get_by_label("Completed on")).to_be_hidden()


def test_it_starts_a_new_plan_from_the_template_that_suits_the_role(
    live_server, world: World, page
):
    # Ben Brooks (generalist profile) has no plan; the shipped "Experienced product
    # manager" template names that profile.
    from onboarding.models import NewHire

    ben = NewHire.objects.get(full_name="Ben Brooks")
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:plan_create", args=[ben.pk]))
    template = page.get_by_label("Template")
    expect(template.locator("option:checked")).to_have_text("Experienced product manager")
    expect(page.locator("#template-rows")).to_contain_text("Customer discovery interviews")
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Experienced product manager")
