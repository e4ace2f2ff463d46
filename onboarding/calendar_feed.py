"""The private iCalendar feed: a user's hires' training sessions and due dates.

Calendar apps poll the feed URL without a login cookie, so the URL carries a
secret token (User.calendar_token). Revoking the token clears it; regenerating
replaces it, and the old URL then answers 404.

Every event has a UID derived from the assignment's primary key and the site's
host, so a calendar app updates an event when a date changes instead of adding a
second one. SEQUENCE follows the assignment's version and DTSTAMP its last change.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vDuration

from .links import FALLBACK_SITE_URL, absolute_url
from .models import Assignment, CheckIn, User
from .rules import UNSPENT_STATUS, open_q

PRODID = "-//Onboarding tracker//Training calendar//EN"
# Older events drop out of the feed: a calendar app keeps what it already has,
# and the feed stays small for a long-serving manager.
FEED_PAST_DAYS = 365
ONE_DAY = datetime.timedelta(days=1)


def feed_host() -> str:
    """The host part of every UID: the site's, not the request's, so UIDs stay stable
    whichever address a calendar app used."""
    return urlsplit(settings.SITE_URL or FALLBACK_SITE_URL).hostname or "onboarding.invalid"


def feed_assignments(owner: User, today: datetime.date | None = None):
    """The assignments the owner's feed shows, in one query.

    The owner's scope applies (visible_to): a manager sees only their own hires,
    people-ops every hire. Archived hires and waived courses are left out.
    """
    since = (today or timezone.localdate()) - datetime.timedelta(days=FEED_PAST_DAYS)
    return (
        Assignment.objects.visible_to(owner)
        .filter(plan__hire__archived_at__isnull=True)
        .exclude(status=UNSPENT_STATUS)
        .filter((open_q() & Q(due_date__gte=since)) | Q(scheduled_for__gte=since))
        .select_related("plan__hire", "course")
        .order_by("due_date", "pk")
    )


def feed_check_ins(owner: User, today: datetime.date | None = None):
    """The open check-ins the owner's feed shows (same scope and window as the assignments)."""
    since = (today or timezone.localdate()) - datetime.timedelta(days=FEED_PAST_DAYS)
    return (
        CheckIn.objects.visible_to(owner)
        .open()
        .filter(hire__archived_at__isnull=True, due_date__gte=since)
        .select_related("hire")
        .order_by("due_date", "pk")
    )


def _check_in_event(check_in: CheckIn, host: str, link_root: str | None) -> Event:
    url = absolute_url(reverse("onboarding:check_in", args=[check_in.pk]), root=link_root)
    # No edit timestamp on a check-in: the due date's midnight keeps DTSTAMP stable.
    stamp = datetime.datetime.combine(check_in.due_date, datetime.time.min, tzinfo=datetime.UTC)
    event = Event()
    event.add("uid", f"check-in-{check_in.pk}@{host}")
    event.add("dtstart", check_in.due_date)
    event.add("dtend", check_in.due_date + ONE_DAY)
    event.add("dtstamp", stamp)
    event.add("sequence", check_in.version)
    event.add("summary", f"Check-in: {check_in.hire.full_name}, {check_in.get_kind_display()}")
    event.add(
        "description",
        f"{check_in.get_kind_display()} check-in of {check_in.hire.full_name}: rate them "
        f"against what the role needs here.\n{url}",
    )
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event


def _event(
    assignment: Assignment,
    *,
    kind: str,
    day: datetime.date,
    summary: str,
    host: str,
    link_root: str | None,
) -> Event:
    hire = assignment.plan.hire
    course = assignment.course
    plan_url = absolute_url(
        reverse("onboarding:plan_detail", args=[assignment.plan_id]), root=link_root
    )
    event = Event()
    event.add("uid", f"assignment-{assignment.pk}-{kind}@{host}")
    # All-day event: DTSTART;VALUE=DATE, and DTEND the day after (exclusive).
    event.add("dtstart", day)
    event.add("dtend", day + ONE_DAY)
    event.add("dtstamp", assignment.updated_at.astimezone(datetime.UTC))
    event.add("last-modified", assignment.updated_at.astimezone(datetime.UTC))
    event.add("sequence", assignment.version)
    event.add("summary", summary)
    event.add(
        "description",
        f"{hire.full_name}: {course.title} ({course.provider})\n"
        f"Plan: {assignment.plan.title}\n"
        f"Due {assignment.due_date:%d %b %Y}; status: {assignment.get_status_display()}\n"
        f"{plan_url}",
    )
    event.add("url", plan_url)
    event.add("transp", "TRANSPARENT")  # a reminder, not a meeting that blocks time
    return event


def build_feed(
    owner: User, today: datetime.date | None = None, *, link_root: str | None = None
) -> bytes:
    """The owner's feed as RFC 5545 text (UTF-8 bytes), links under `link_root`."""
    host = feed_host()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Onboarding: {owner}")
    calendar.add("x-wr-caldesc", "Training sessions and due dates of your new hires.")
    # Hints for how often calendar apps should poll.
    calendar.add("x-published-ttl", "PT1H")
    calendar.add(
        "refresh-interval", vDuration(datetime.timedelta(hours=1)), parameters={"VALUE": "DURATION"}
    )

    for assignment in feed_assignments(owner, today):
        who = assignment.plan.hire.full_name
        course = assignment.course.title
        if assignment.scheduled_for:
            calendar.add_component(
                _event(
                    assignment,
                    kind="session",
                    day=assignment.scheduled_for,
                    summary=f"Training: {who}, {course}",
                    host=host,
                    link_root=link_root,
                )
            )
        if assignment.is_open:
            calendar.add_component(
                _event(
                    assignment,
                    kind="due",
                    day=assignment.due_date,
                    summary=f"Due: {who}, {course}",
                    host=host,
                    link_root=link_root,
                )
            )
    for check_in in feed_check_ins(owner, today):
        calendar.add_component(_check_in_event(check_in, host, link_root))
    return calendar.to_ical()


def calendar_token_regenerate(*, user: User) -> str:
    """A new secret feed URL; the old one stops working at once."""
    return user.regenerate_calendar_token()


def calendar_token_revoke(*, user: User) -> None:
    """Turn the feed off: no token, so every feed URL of this user answers 404."""
    user.calendar_token = None
    user.save(update_fields=["calendar_token"])
