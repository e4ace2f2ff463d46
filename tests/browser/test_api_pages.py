"""The API's browser side: a token made on the profile page works with curl-like
requests, and the docs page renders from our own static files under the CSP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import World, sign_in

pytestmark = pytest.mark.browser


def test_it_makes_a_token_that_reads_the_api(live_server, world: World, page, console):
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:profile"))
    page.get_by_label("Name").fill("Nightly HRIS sync")
    page.get_by_label("Read only").check()
    page.get_by_role("button", name="Make a token").click()

    secret = page.get_by_label("Your new token (read only)").input_value()
    assert secret.startswith("obt_")
    response = page.context.request.get(
        live_server.url + "/api/v1/hires/",
        headers={"Authorization": f"Bearer {secret}", "Cookie": ""},
    )
    assert response.status == 200
    names = [row["full_name"] for row in response.json()["results"]]
    assert names and all(isinstance(name, str) for name in names)

    # Shown once: the page reloaded no longer has it, and the token can be revoked.
    page.goto(live_server.url + reverse("onboarding:profile"))
    assert page.get_by_label("Your new token (read only)").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Nightly HRIS sync").click()
    page.get_by_text("stops working at once").wait_for()
    response = page.context.request.get(
        live_server.url + "/api/v1/hires/",
        headers={"Authorization": f"Bearer {secret}", "Cookie": ""},
    )
    assert response.status == 401
    console.assert_clean()


def test_it_renders_the_api_docs_offline(live_server, world: World, page, console):
    sign_in(page, live_server.url, world.owner.username)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + reverse("api:docs"))
    page.get_by_text("Onboarding tracker API").first.wait_for()
    page.get_by_text("/api/v1/hires/").first.wait_for()
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested)
    console.assert_clean()
