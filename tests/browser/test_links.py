"""Absolute links when the app runs on a host and port nobody configured.

The live server listens on a random port (never 8000) and SITE_URL is unset, as
when someone runs `make run PORT=8123` or deploys without setting it: every link
the app hands out must still lead back to the server that handed it out.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from icalendar import Calendar

from .conftest import World, sign_in

pytestmark = pytest.mark.browser


def test_it_offers_a_calendar_link_on_the_host_and_port_in_use(
    live_server, world: World, page, settings
):
    settings.SITE_URL = ""
    assert not live_server.url.endswith(":8000")
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:profile"))
    page.get_by_role("button", name="Create calendar link").click()

    feed_url = page.get_by_label("Your private calendar link").input_value()
    assert feed_url.startswith(live_server.url + "/calendar/")
    webcal = page.get_by_role("link", name="Add to calendar").get_attribute("href")
    assert webcal == "webcal://" + feed_url.split("://", 1)[1]

    # The calendar app fetches the link as shown, without a session.
    response = page.context.request.get(feed_url, headers={"Cookie": ""})
    assert response.status == 200
    links = [str(e["URL"]) for e in Calendar.from_ical(response.body()).walk("VEVENT")]
    assert links and all(link.startswith(live_server.url + "/") for link in links)
    page.goto(links[0])
    assert page.get_by_role("heading", level=1).count() == 1
