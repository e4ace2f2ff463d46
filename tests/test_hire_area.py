"""The hire's own view: invitation, /me/, evidence, feedback, self-ratings, and limits."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onboarding import reminders, services
from onboarding.models import (
    Assignment,
    CheckIn,
    CourseFeedback,
    Evidence,
    HireInvitation,
    NewHire,
    User,
)
from onboarding.rules import CheckInKind

from .factories import AssignmentFactory, NewHireFactory, TrainingPlanFactory

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
PASSWORD = "a long enough hire password"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT},
        },
    }
    settings.SITE_URL = "https://onboarding.example.com"


def invite(owner, hire, django_capture_on_commit_callbacks) -> str:
    """Invite through the service; returns the link from the email."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(actor=owner, hire=hire)
    [message] = mail.outbox
    return re.search(r"https://onboarding\.example\.com(/invitations/[^/\s]+/)", message.body)[1]


@pytest.fixture
def hire_client(owner, hire, plan, django_capture_on_commit_callbacks) -> Client:
    """The hire, invited and signed up through the link."""
    link = invite(owner, hire, django_capture_on_commit_callbacks)
    client = Client()
    response = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    hire.refresh_from_db()
    return client


@pytest.fixture
def course(plan):
    return AssignmentFactory(plan=plan, course__title="Discovery basics", due_date=TODAY + 10 * DAY)


# --- invitations ---------------------------------------------------------------------------------


def test_it_links_the_invitation_to_the_managers_host_when_site_url_is_unset(
    owner_client, hire, plan, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["tracker.internal"]
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("onboarding:hire_invite", args=[hire.pk]), HTTP_HOST="tracker.internal:8123"
        )
    [message] = mail.outbox
    assert "http://tracker.internal:8123/invitations/" in message.body


def test_it_invites_a_hire_with_a_one_time_link_stored_hashed(
    owner_client, owner, hire, plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("onboarding:hire_invite", args=[hire.pk]))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [hire.email]
    token = re.search(r"/invitations/([^/\s]+)/", message.body)[1]
    assert token in message.alternatives[0][0]  # the HTML part has the same link
    invitation = HireInvitation.objects.get(hire=hire)
    assert invitation.token_hash == services.invitation_token_hash(token)
    assert token not in invitation.token_hash
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=7)
    hire.refresh_from_db()
    assert hire.account.is_hire_account
    assert not hire.account.has_usable_password()
    body = owner_client.get(reverse("onboarding:hire_detail", args=[hire.pk])).content.decode()
    assert 'data-invitation-state="pending"' in body


def test_it_lets_the_hire_set_a_password_once_and_signs_them_in(
    owner, hire, plan, django_capture_on_commit_callbacks
):
    link = invite(owner, hire, django_capture_on_commit_callbacks)
    client = Client()
    assert "Welcome, Hana Hire" in client.get(link).content.decode()
    short = client.post(link, {"new_password1": "short", "new_password2": "short"})
    assert short.status_code == 200
    assert "This password is too short" in short.content.decode()
    response = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response["Location"] == reverse("onboarding:me")
    assert client.get(reverse("onboarding:me")).status_code == 200
    # Used: a second use (even by someone else) is refused with a clear page.
    again = Client().get(link)
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    hire.refresh_from_db()
    assert hire.account.check_password(PASSWORD)


def test_it_answers_an_expired_revoked_or_unknown_link_with_a_clear_page(
    owner, hire, plan, django_capture_on_commit_callbacks
):
    link = invite(owner, hire, django_capture_on_commit_callbacks)
    HireInvitation.objects.update(expires_at=timezone.now() - DAY)
    response = Client().get(link)
    assert response.status_code == 410 and "expired" in response.content.decode()

    link = invite(owner, hire, django_capture_on_commit_callbacks)
    services.invitation_revoke(actor=owner, hire=hire)
    response = Client().post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 410 and "no longer works" in response.content.decode()
    hire.refresh_from_db()
    assert not hire.account.has_usable_password()

    response = Client().get("/invitations/not-a-real-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_it_revokes_the_old_link_when_inviting_again(
    owner, hire, plan, django_capture_on_commit_callbacks
):
    first = invite(owner, hire, django_capture_on_commit_callbacks)
    second = invite(owner, hire, django_capture_on_commit_callbacks)
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200
    assert HireInvitation.objects.filter(hire=hire, revoked_at__isnull=False).count() == 1


def test_it_refuses_to_invite_an_archived_hire(owner_client, owner, hire):
    services.hire_archive(actor=owner, hire=hire)
    owner_client.post(reverse("onboarding:hire_invite", args=[hire.pk]))
    assert not HireInvitation.objects.exists()


def test_it_deactivates_the_account_when_the_hire_is_archived(owner, hire, hire_client):
    services.hire_archive(actor=owner, hire=hire)
    assert hire_client.get(reverse("onboarding:me")).status_code == 302  # signed out
    assert not User.objects.get(pk=hire.account_id).is_active
    services.hire_unarchive(actor=owner, hire=hire)
    assert User.objects.get(pk=hire.account_id).is_active


# --- what the hire sees ---------------------------------------------------------------------------


def test_it_shows_the_hire_their_plan_guidance_and_check_ins_never_the_managers_notes(
    owner, hire, plan, course, hire_client
):
    NewHire.objects.filter(pk=hire.pk).update(notes="Private: watch the stakeholder skills")
    other = NewHireFactory(hiring_manager=owner, full_name="Zed Colleague")
    TrainingPlanFactory(hire=other)
    attached = plan.guidance.first()
    services.plan_guidance_update(actor=owner, plan_guidance=attached, manager_note="Ask me first")
    body = hire_client.get(reverse("onboarding:me")).content.decode()
    assert "Discovery basics" in body
    assert "Ask me first" in body
    assert "Baseline check-in" in body
    assert "Private: watch" not in body
    assert "Zed Colleague" not in body
    assert reverse("onboarding:home") not in re.findall(r'href="([^"]+)"', body)[1:]


def test_it_sends_the_hire_home_to_their_plan(hire_client):
    response = hire_client.get(reverse("onboarding:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding:me")


@pytest.mark.parametrize(
    "path",
    [
        "/hires/",
        "/assignments/",
        "/tuition/",
        "/outcomes/",
        "/exports/hires.csv",
        "/exports/check-ins.csv",
        "/catalog/courses/",
        "/account/",
        "/admin/",
        "/admin/onboarding/newhire/",
    ],
)
def test_it_answers_404_to_the_hire_outside_their_own_area(hire_client, path):
    assert hire_client.get(path).status_code == 404


def test_it_answers_404_for_the_hires_own_manager_pages_too(hire, plan, hire_client):
    for name, pk in (("onboarding:hire_detail", hire.pk), ("onboarding:plan_detail", plan.pk)):
        assert hire_client.get(reverse(name, args=[pk])).status_code == 404


# --- what the hire does ---------------------------------------------------------------------------


def test_it_lets_the_hire_book_start_and_complete_a_course(hire, course, hire_client):
    url = reverse("onboarding:me_progress", args=[course.pk])
    prefix = f"a{course.pk}"
    hire_client.post(url, {f"{prefix}-status": "scheduled", f"{prefix}-on": str(TODAY + 3 * DAY)})
    course.refresh_from_db()
    assert (course.status, course.scheduled_for) == ("scheduled", TODAY + 3 * DAY)
    hire_client.post(url, {f"{prefix}-status": "completed", f"{prefix}-on": str(TODAY)})
    course.refresh_from_db()
    assert (course.status, course.completed_on) == ("completed", TODAY)
    assert course.history.first().history_user == hire.account


def test_it_refuses_a_booking_without_a_date_and_a_future_completion(course, hire_client):
    url = reverse("onboarding:me_progress", args=[course.pk])
    prefix = f"a{course.pk}"
    response = hire_client.post(url, {f"{prefix}-status": "scheduled"}, follow=True)
    assert "Give the date of the session." in response.content.decode()
    hire_client.post(url, {f"{prefix}-status": "completed", f"{prefix}-on": str(TODAY + DAY)})
    course.refresh_from_db()
    assert course.status == "assigned"


def test_it_leaves_a_waived_course_to_the_manager(owner, course, hire_client):
    services.assignment_waive(actor=owner, assignment=course, reason="Done before")
    url = reverse("onboarding:me_progress", args=[course.pk])
    hire_client.post(url, {f"a{course.pk}-status": "in_progress"})
    course.refresh_from_db()
    assert course.status == "waived"


def test_it_answers_404_for_another_hires_course(owner, hire_client):
    other = AssignmentFactory(plan=TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner)))
    url = reverse("onboarding:me_progress", args=[other.pk])
    assert hire_client.post(url, {f"a{other.pk}-status": "in_progress"}).status_code == 404
    url = reverse("onboarding:me_evidence_add", args=[other.pk])
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    assert hire_client.post(url, {"file": upload}).status_code == 404


def upload(client, assignment: Assignment, name: str, content: bytes, content_type: str):
    url = reverse("onboarding:me_evidence_add", args=[assignment.pk])
    return client.post(
        url, {"file": SimpleUploadedFile(name, content, content_type=content_type)}, follow=True
    )


def test_it_keeps_a_pdf_and_serves_it_only_as_a_download(
    owner_client, outsider, course, hire_client
):
    upload(hire_client, course, "certificate.pdf", PDF, "application/pdf")
    evidence = Evidence.objects.get()
    assert (evidence.content_type, evidence.size, evidence.original_name) == (
        "application/pdf",
        len(PDF),
        "certificate.pdf",
    )
    assert "certificate" not in evidence.file.name  # stored under a name of our own
    for client in (hire_client, owner_client):
        response = client.get(reverse("onboarding:evidence_download", args=[evidence.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith('attachment; filename="certificate.pdf"')
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/pdf"
    outsider_client = Client()
    outsider_client.force_login(outsider)
    url = reverse("onboarding:evidence_download", args=[evidence.pk])
    assert outsider_client.get(url).status_code == 404


def test_it_keeps_a_png_sniffed_from_its_bytes(course, hire_client):
    upload(hire_client, course, "photo.jpeg", PNG, "image/jpeg")
    assert Evidence.objects.get().content_type == "image/png"


@pytest.mark.parametrize(
    ("name", "content", "claimed", "message"),
    [
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf", "none of them"),
        (
            "page.pdf",
            b"<!doctype html><script>alert(1)</script>",
            "application/pdf",
            "none of them",
        ),
        ("empty.pdf", b"", "application/pdf", "The file is empty."),
    ],
)
def test_it_refuses_what_is_not_a_pdf_png_or_jpeg(
    course, hire_client, name, content, claimed, message
):
    response = upload(hire_client, course, name, content, claimed)
    assert message in response.content.decode()
    assert not Evidence.objects.exists()


def test_it_refuses_a_file_one_byte_over_ten_megabytes(course, hire_client):
    content = PDF + b"0" * (10 * 1024 * 1024 + 1 - len(PDF))
    response = upload(hire_client, course, "big.pdf", content, "application/pdf")
    assert "larger than 10 MB" in response.content.decode()
    assert not Evidence.objects.exists()


def test_it_takes_feedback_on_a_completed_course_only(owner, course, hire_client, plan):
    url = reverse("onboarding:me_feedback", args=[course.pk])
    data = {
        f"f{course.pk}-usefulness": "4",
        f"f{course.pk}-apply_here": "Interview guides",
        f"f{course.pk}-does_not_fit": "Their roadmap format",
    }
    hire_client.post(url, data)
    assert not CourseFeedback.objects.exists()
    services.assignment_complete(actor=owner, assignment=course, completed_on=TODAY)
    hire_client.post(url, data)
    feedback = CourseFeedback.objects.get()
    assert (feedback.usefulness, feedback.does_not_fit) == (4, "Their roadmap format")


def test_it_shows_the_manager_what_the_hire_changed_sent_and_said(
    owner, owner_client, plan, course, hire_client
):
    url = reverse("onboarding:me_progress", args=[course.pk])
    hire_client.post(url, {f"a{course.pk}-status": "completed", f"a{course.pk}-on": str(TODAY)})
    upload(hire_client, course, "certificate.pdf", PDF, "application/pdf")
    hire_client.post(
        reverse("onboarding:me_feedback", args=[course.pk]),
        {f"f{course.pk}-usefulness": "5", f"f{course.pk}-apply_here": "The interview guide"},
    )
    body = owner_client.get(reverse("onboarding:plan_detail", args=[plan.pk])).content.decode()
    section = body[body.index('id="hire-activity"') :]
    assert "Discovery basics" in section and "Completed" in section
    assert "certificate.pdf" in section and "Mark reviewed" in section
    assert "5/5 useful here" in section and "The interview guide" in section
    home = owner_client.get(reverse("onboarding:home")).context["attention"]
    assert [e.original_name for e in home.evidence] == ["certificate.pdf"]
    assert len(home.feedback) == 1
    evidence = Evidence.objects.get()
    owner_client.post(reverse("onboarding:evidence_review", args=[evidence.pk]))
    assert owner_client.get(reverse("onboarding:home")).context["attention"].evidence == []


def test_it_lets_the_hire_acknowledge_guidance(hire, plan, hire_client):
    attached = plan.guidance.first()
    hire_client.post(reverse("onboarding:me_acknowledge", args=[attached.pk]))
    attached.refresh_from_db()
    assert attached.acknowledged_by == hire.account


def test_it_takes_self_ratings_and_hides_the_managers_until_completed(
    owner, owner_client, hire, plan, hire_client
):
    from onboarding import selectors

    check_in = CheckIn.objects.get(hire=hire, kind=CheckInKind.BASELINE)
    competencies = selectors.check_in_competencies(check_in)
    services.check_in_record(
        actor=owner, check_in=check_in, ratings={competencies[0].pk: (3, "Manager note")}
    )
    url = reverse("onboarding:me_check_in", args=[check_in.pk])
    body = hire_client.get(url).content.decode()
    assert "Your manager's rating" not in body and "Manager note" not in body
    hire_client.post(url, {f"level_{competencies[0].pk}": "2"})
    rating = check_in.ratings.get(competency=competencies[0])
    assert (rating.self_level, rating.manager_level) == (2, 3)
    manager_view = owner_client.get(reverse("onboarding:check_in", args=[check_in.pk]))
    assert "The hire's own rating: <strong>2</strong>" in manager_view.content.decode()

    ratings = {c.pk: (3, "") for c in competencies}
    services.check_in_record(actor=owner, check_in=check_in, ratings=ratings, complete=True)
    body = hire_client.get(url).content.decode()
    assert "Your manager's rating: <strong>3</strong>" in body
    hire_client.post(url, {f"level_{competencies[0].pk}": "4"})
    rating.refresh_from_db()
    assert rating.self_level == 2  # closed once the manager completed it


# --- emails -------------------------------------------------------------------------------------


def test_it_sends_the_hire_a_weekly_note_once_and_not_when_turned_off(
    owner, hire, course, hire_client
):
    monday = TODAY - datetime.timedelta(days=TODAY.weekday())
    mail.outbox.clear()
    reminders.send_digests(monday)
    reminders.send_digests(monday + DAY)  # the same week: not again
    notes = [m for m in mail.outbox if m.to == [hire.account.email]]
    assert len(notes) == 1
    assert "Discovery basics" in notes[0].body
    assert "https://onboarding.example.com/me/" in notes[0].body
    hire_client.post(reverse("onboarding:me_preferences"), {})
    mail.outbox.clear()
    reminders.send_digests(monday + 7 * DAY)
    assert not [m for m in mail.outbox if m.to == [hire.account.email]]
