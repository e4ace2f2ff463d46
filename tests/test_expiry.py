"""Certification expiry: labels and windows at their edges, and certifications earned in plans."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from onboarding import expiry, services
from onboarding.models import HeldCertification

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    HeldCertificationFactory,
    NewHireFactory,
)

TODAY = datetime.date(2025, 6, 16)
DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (91, ""),
        (90, "expires in 90 days"),
        (89, "expires in 89 days"),
        (2, "expires in 2 days"),
        (1, "expires in 1 day"),
        (0, "expires today"),
        (-1, "expired"),
        (-400, "expired"),
    ],
)
def test_it_labels_expiry_at_the_edges(days, label):
    assert expiry.expiry_label(TODAY + days * DAY, TODAY) == label


def test_it_labels_a_certification_without_expiry_as_nothing():
    assert expiry.expiry_label(None, TODAY) == ""
    assert expiry.expiry_label(HeldCertification(expires_on=None), TODAY) == ""


def test_it_labels_a_held_certification(db):
    held = HeldCertificationFactory(earned_on=TODAY - 300 * DAY, expires_on=TODAY + 30 * DAY)
    assert expiry.expiry_label(held, TODAY) == "expires in 30 days"
    assert expiry.is_expired(held, TODAY + 31 * DAY)
    assert not expiry.is_expired(held, TODAY + 30 * DAY)


def test_it_uses_the_local_date_by_default(db):
    today = timezone.localdate()
    assert expiry.expiry_label(today, None) == "expires today"


def test_it_finds_certifications_needing_attention_at_the_window_edges(db):
    hire = NewHireFactory()
    held = {
        days: HeldCertificationFactory(
            hire=hire, earned_on=TODAY - 1000 * DAY, expires_on=TODAY + days * DAY
        )
        for days in (91, 90, 89, 1, 0, -1, -30, -31)
    }
    HeldCertificationFactory(hire=hire, earned_on=TODAY - 1000 * DAY, expires_on=None)

    found = set(expiry.needing_attention(today=TODAY).values_list("pk", flat=True))

    assert found == {held[d].pk for d in (90, 89, 1, 0, -1, -30)}


def test_it_scopes_needing_attention_to_the_users_hires(owner, outsider, hire):
    mine = HeldCertificationFactory(hire=hire, expires_on=TODAY + 10 * DAY, earned_on=TODAY)
    HeldCertificationFactory(
        hire=NewHireFactory(hiring_manager=outsider), expires_on=TODAY + 10 * DAY, earned_on=TODAY
    )
    visible = HeldCertification.objects.visible_to(owner)
    assert list(expiry.needing_attention(visible, TODAY)) == [mine]


# --- earned through a plan -------------------------------------------------------------------


@pytest.fixture
def certification_course(db):
    return CourseFactory(
        title="SAFe POPM course",
        certification=CertificationFactory(name="SAFe POPM", framework_bound=True),
    )


def test_it_records_a_certification_when_the_assignment_is_completed_on_the_plan_page(
    owner_client, plan, certification_course
):
    today = timezone.localdate()
    assignment = AssignmentFactory(plan=plan, course=certification_course)

    response = owner_client.post(
        reverse("onboarding:assignment_status", args=[assignment.pk]),
        {
            "status": "completed",
            "completed_on": (today - DAY).isoformat(),
            "certification_earned_on": (today - DAY).isoformat(),
            "version": assignment.version,
        },
    )

    assert response.status_code == 302
    held = HeldCertification.objects.get(hire=plan.hire)
    assert held.certification == certification_course.certification
    assert held.earned_on == today - DAY
    assert held.assignment_id == assignment.pk


def test_it_labels_and_reminds_about_a_certification_earned_through_a_plan(
    owner, plan, certification_course
):
    today = timezone.localdate()
    assignment = AssignmentFactory(plan=plan, course=certification_course)
    services.assignment_complete(
        actor=owner,
        assignment=assignment,
        completed_on=today - 300 * DAY,
        certification_earned_on=today - 300 * DAY,
        certification_expires_on=today + 45 * DAY,
    )

    held = HeldCertification.objects.get(hire=plan.hire)
    assert held.assignment_id == assignment.pk
    assert expiry.expiry_label(held, today) == "expires in 45 days"
    assert list(expiry.needing_attention(today=today)) == [held]

    call_command("send_reminders", stdout=StringIO())
    [digest] = mail.outbox
    assert "SAFe POPM" in digest.body and "expires in 45 days" in digest.body
