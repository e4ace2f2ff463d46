"""The admin site in Chromium at laptop width: nothing clipped, no missing favicon."""

from __future__ import annotations

import pytest

from .conftest import World, sign_in

pytestmark = pytest.mark.browser


def test_it_shows_every_hire_column_in_the_admin_at_laptop_width(live_server, world: World, page):
    from ..factories import NewHireFactory

    NewHireFactory(
        hiring_manager=world.owner,
        full_name="Alexandra Konstantinopoulou-Whitfield",
        email="alexandra.konstantinopoulou-whitfield@example.com",
        role_profile=world.hire.role_profile,
    )
    sign_in(page, live_server.url, world.people_ops.username)
    page.goto(live_server.url + "/admin/onboarding/newhire/")
    fit = page.evaluate(
        "() => { const box = document.querySelector('#changelist-form .results');"
        " const right = box.getBoundingClientRect().right;"
        " const last = (name) => document.querySelector('#result_list th.column-' + name)"
        ".getBoundingClientRect().right;"
        " return {scroll: box.scrollWidth, width: box.clientWidth,"
        " clipped: ['start_date', 'progress', 'health'].filter((n) => last(n) > right + 1)}; }"
    )
    assert fit["clipped"] == []
    assert fit["scroll"] <= fit["width"]


def test_it_gives_admin_pages_the_apps_favicon(live_server, world: World, page, console):
    sign_in(page, live_server.url, world.owner.username)
    for path in ("/admin/", "/admin/onboarding/newhire/", "/admin/onboarding/course/"):
        page.goto(live_server.url + path)
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert page.request.get(live_server.url + icon).status == 200
    # Without the link Chromium asks for /favicon.ico, a 404 the console reports.
    console.assert_clean()
