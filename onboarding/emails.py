"""Emails to hires: the invitation to their own plan. Plain text plus HTML, links from SITE_URL."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import HireInvitation


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def invitation_message(invitation: HireInvitation, token: str) -> EmailMultiAlternatives:
    hire = invitation.hire
    context = {
        "hire": hire,
        "manager": hire.hiring_manager,
        "url": absolute_url(reverse("onboarding:invitation_accept", args=[token])),
        "expires_at": invitation.expires_at,
        "username": hire.account.username if hire.account else hire.email,
    }
    message = EmailMultiAlternatives(
        subject=f"Your onboarding plan at {settings.ORGANISATION_NAME}",
        body=render_to_string("onboarding/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[hire.email],
    )
    message.attach_alternative(
        render_to_string("onboarding/email/invitation.html", context), "text/html"
    )
    return message


def send_invitation(invitation: HireInvitation, token: str) -> None:
    invitation_message(invitation, token).send()
