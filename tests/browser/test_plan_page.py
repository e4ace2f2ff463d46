"""The plan page where people look at it: feedback beside the button, compact rows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import World, sign_in

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
