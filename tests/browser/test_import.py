"""The cohort import in a browser: upload, preview, import; the progress bar polls
(htmx, under our CSP) while a worker runs the task, then links to the imported hires."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from onboarding.models import HireImport, NewHire

from .conftest import World, screenshot, sign_in

pytestmark = pytest.mark.browser

ROWS = [
    "full_name,email,start_date,new_to_product_management",
    "Ada Lovelace,ada.browser@example.com,2026-09-01,yes",
    "Grace Hopper,grace.browser@example.com,2026-09-15,no",
]


def test_it_imports_in_the_background_and_ends_on_the_imported_hires(
    live_server, world: World, page, settings, tmp_path
):
    # The database backend: the task waits until a worker (run below) picks it up.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("\r\n".join(ROWS) + "\r\n")
    sign_in(page, live_server.url, world.owner.username)
    page.goto(live_server.url + reverse("onboarding:hire_import"))
    page.get_by_label("CSV file").set_input_files(str(cohort))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import 2 hires").click()

    page.wait_for_url(re.compile(r"/hires/import/\d+/$"))
    progress = page.locator("#import-progress")
    expect(progress).to_contain_text("Waiting for a worker")
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    assert HireImport.objects.get().status == "queued"

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    # The next poll swaps in the finished fragment, which stops polling.
    expect(progress).to_have_attribute("data-status", "done", timeout=5_000)
    expect(progress).to_contain_text("2 of 2 rows done")
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s")
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute(
        "aria-valuenow", "100"
    )
    screenshot(page, "hire-import-done")
    page.get_by_role("link", name="See the imported hires").click()
    page.wait_for_url(re.compile(r"/hires/\?imported="))
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    assert NewHire.objects.filter(email__endswith=".browser@example.com").count() == 2
