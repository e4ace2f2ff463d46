"""The hire's own view in a real browser: invited, signed up, reporting progress, heard.

The manager invites the hire from the hire page; the hire follows the emailed
link, chooses a password, marks a course completed with a PDF, rates themselves
at the baseline check-in and gives feedback; the manager then sees all of it.
axe scans the hire's pages at desktop and phone widths.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from .conftest import PHONE, screenshot, sign_in
from .test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

PASSWORD = "a long enough hire password"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def journey(transactional_db, shipped_catalog, settings, tmp_path):
    from onboarding import services
    from onboarding.models import PlanTemplate, RoleProfile

    from ..factories import ManagerFactory, NewHireFactory

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    manager = ManagerFactory(username="maya", first_name="Maya", last_name="Manager")
    hire = NewHireFactory(
        hiring_manager=manager,
        full_name="Hugo Hire",
        email="hugo@example.com",
        role_profile=RoleProfile.objects.get(name="Generalist product manager"),
        notes="Private note: never for Hugo's eyes",
    )
    plan = services.plan_create(
        actor=manager,
        hire=hire,
        template=PlanTemplate.objects.get(name="Experienced product manager"),
    )
    return {"manager": manager, "hire": hire, "plan": plan}


def test_it_takes_a_hire_from_invitation_to_feedback(live_server, journey, page, console, tmp_path):
    base = live_server.url
    hire = journey["hire"]

    # The manager invites Hugo from his page.
    sign_in(page, base, "maya")
    page.goto(f"{base}/hires/{hire.pk}/")
    mail.outbox.clear()
    page.get_by_role("button", name="Invite Hugo Hire").click()
    page.get_by_text("Invitation sent to hugo@example.com").wait_for()
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body)[1]
    # Sign the manager out: Hugo opens the link in his own browser.
    page.context.clear_cookies()

    # Hugo follows the link and chooses a password.
    page.goto(base + link)
    page.get_by_role("heading", name="Welcome, Hugo Hire").wait_for()
    page.get_by_label("New password").first.fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(base + "/me/")
    page.get_by_role("heading", name="Your onboarding plan").wait_for()
    assert "Private note" not in page.content()
    assert page.get_by_role("link", name="Dashboard").count() == 0

    # He completes a course and attaches his certificate.
    course = "How we build products here"
    page.get_by_label(f"Where you are with {course}").select_option(label="Completed")
    page.get_by_label(f"Date (session or completion) for {course}").fill(
        hire.start_date.isoformat()
    )
    page.get_by_role("button", name=f"Update {course}").click()
    page.get_by_text(f"{course}: completed.").wait_for()
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(PDF)
    page.get_by_label(f"Attach your certificate or proof for {course}").set_input_files(
        str(certificate)
    )
    page.get_by_role("button", name=f"Attach to {course}").click()
    page.get_by_text(f"Attached to {course}.").wait_for()
    page.get_by_role("link", name="certificate.pdf").wait_for()

    # He gives feedback on the course he finished.
    page.locator(f"fieldset:has-text('How useful was {course}')").get_by_label("4").check()
    page.get_by_label("What you will use here").first.fill("The planning calendar")
    page.get_by_role("button", name=f"Send feedback on {course}").click()
    page.get_by_text(f"Thank you: your feedback on {course}.").wait_for()

    # He rates himself at the baseline check-in.
    page.get_by_role("link", name="Baseline check-in").click()
    groups = page.get_by_role("group")
    for index in range(groups.count()):
        groups.nth(index).get_by_label(re.compile(r"^Level 2:")).check()
    page.get_by_role("button", name="Save my ratings").click()
    page.get_by_text("Your own ratings were saved.").wait_for()
    screenshot(page, "hire-me")

    # The manager sees what Hugo changed, sent and said.
    page.context.clear_cookies()
    sign_in(page, base, "maya")
    page.goto(f"{base}/plans/{journey['plan'].pk}/#hire-activity")
    activity = page.locator("#hire-activity")
    activity.get_by_role("link", name="certificate.pdf").wait_for()
    assert "4/5 useful here" in activity.inner_text()
    assert "The planning calendar" in activity.inner_text()
    assert course in activity.inner_text()
    from onboarding.models import CheckIn

    baseline = CheckIn.objects.get(hire=hire, kind="baseline")
    page.goto(f"{base}{reverse('onboarding:check_in', args=[baseline.pk])}")
    page.get_by_text("The hire's own rating: 2").first.wait_for()
    console.assert_clean()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_it_has_no_wcag_violations_on_the_hires_pages(
    live_server, journey, axe_context, viewport, django_capture_on_commit_callbacks
):
    from onboarding import services
    from onboarding.models import CheckIn

    hire = journey["hire"]
    _, token = services.invitation_send(actor=journey["manager"], hire=hire)
    page = axe_context.new_page()
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/invitations/{token}/")
    assert not axe_violations(page), describe(axe_violations(page))
    hire.refresh_from_db()
    hire.account.set_password(PASSWORD)
    hire.account.save()
    sign_in(page, live_server.url, hire.account.username, PASSWORD)
    check_in = CheckIn.objects.get(hire=hire, kind="baseline")
    for path in ("/me/", f"/me/check-ins/{check_in.pk}/", "/invitations/not-valid/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        violations = axe_violations(page)
        screenshot(page, f"axe-hire{path.replace('/', '-')}{viewport}")
        assert not violations, f"{path} ({viewport}):\n{describe(violations)}"
