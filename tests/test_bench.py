"""The bench: its yardstick (a stock admin changelist of the same hires, never on our admin)
and the load tool's error counting."""

import datetime
import socket

import pytest
from django.contrib import admin

from bench import yardstick
from onboarding.models import NewHire
from tests.factories import NewHireFactory

pytestmark = pytest.mark.urls("bench.urls")


def test_it_keeps_the_yardstick_off_the_project_admin():
    assert not isinstance(admin.site._registry[NewHire], yardstick.YardstickHireAdmin)
    assert all(site is not admin.site for site in yardstick.SITES.values())


def test_it_shows_the_same_hires_in_pages_of_fifty_as_the_hires_list(
    people_ops, people_ops_client, owner
):
    today = datetime.date(2026, 6, 1)
    for index in range(55):
        NewHireFactory(hiring_manager=owner, start_date=today - datetime.timedelta(days=index))
    NewHireFactory(hiring_manager=owner, archived_at=datetime.datetime.now(datetime.UTC))

    first = people_ops_client.get(yardstick.url("all"))
    second = people_ops_client.get(yardstick.url("all", 2))
    ours = people_ops_client.get("/hires/?page=2")

    assert first.status_code == second.status_code == 200
    assert first.context["cl"].result_count == 55  # the archived hire is left out, as ours
    assert len(first.context["cl"].result_list) == 50
    assert [h.pk for h in second.context["cl"].result_list] == [h.pk for h in ours.context["hires"]]
    assert len(first.context["cl"].list_display) == 5


def test_it_counts_a_refused_connection_as_an_error_of_the_load_run():
    """A reset or refused connection is reported, never a client thread that stops."""
    from bench import load

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, body = load.Client(f"http://127.0.0.1:{port}").request("GET", "/")
    assert status == 0
    assert "Connection refused" in body
