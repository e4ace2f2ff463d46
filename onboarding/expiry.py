"""Certification expiry: which held certifications need attention, and how to say so.

One place for the windows, used by the reminder digest and the dashboard's
needs-attention list (and any template through `expiry_label`).
"""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import HeldCertification

# A certification expiring within this many days is worth a reminder.
EXPIRY_WARNING_DAYS = 90
# An expired one stays on the lists this long, then drops off: nobody wants a
# daily reminder about a credential that lapsed years ago.
RECENTLY_EXPIRED_DAYS = 30


def days_until(expires_on: datetime.date | None, today: datetime.date | None = None) -> int | None:
    if expires_on is None:
        return None
    return (expires_on - (today or timezone.localdate())).days


def expiry_label(
    held: HeldCertification | datetime.date | None, today: datetime.date | None = None
) -> str:
    """'expires in N days' (1..90), 'expires today', 'expired', or '' (later or never).

    Takes a HeldCertification or its `expires_on` date, so templates can use it on
    either.
    """
    expires_on = held.expires_on if isinstance(held, HeldCertification) else held
    days = days_until(expires_on, today)
    if days is None or days > EXPIRY_WARNING_DAYS:
        return ""
    if days < 0:
        return "expired"
    if days == 0:
        return "expires today"
    return f"expires in {days} day{'s' if days != 1 else ''}"


def is_expired(held: HeldCertification, today: datetime.date | None = None) -> bool:
    days = days_until(held.expires_on, today)
    return days is not None and days < 0


def needing_attention(
    queryset: QuerySet[HeldCertification] | None = None, today: datetime.date | None = None
) -> QuerySet[HeldCertification]:
    """Held certifications expiring within 90 days, or expired within the last 30.

    Built on HeldCertificationQuerySet.expiring_within / expired, so the windows
    agree with everything else that uses them. Pass a `visible_to(user)` queryset
    to scope it.
    """
    today = today or timezone.localdate()
    base = HeldCertification.objects.all() if queryset is None else queryset
    recent_cutoff = today - datetime.timedelta(days=RECENTLY_EXPIRED_DAYS)
    return base.expiring_within(EXPIRY_WARNING_DAYS, today) | base.expired(today).filter(
        expires_on__gte=recent_cutoff
    )
