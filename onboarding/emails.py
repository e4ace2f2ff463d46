"""Emails to hires: the invitation to their own plan. Plain text plus HTML.

Links follow SITE_URL, or the host the manager used when sending (onboarding/links.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .links import absolute_url
from .models import HireInvitation


def invitation_message(
    invitation: HireInvitation, token: str, *, link_root: str | None = None
) -> EmailMultiAlternatives:
    hire = invitation.hire
    context = {
        "hire": hire,
        "manager": hire.hiring_manager,
        "url": absolute_url(reverse("onboarding:invitation_accept", args=[token]), root=link_root),
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


def send_invitation(
    invitation: HireInvitation, token: str, *, link_root: str | None = None
) -> None:
    invitation_message(invitation, token, link_root=link_root).send()
