"""The private calendar feed and the profile page that manages it."""

from __future__ import annotations

import datetime

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from onboarding import services
from onboarding.calendar_feed import calendar_token_revoke
from onboarding.models import User

from .factories import AssignmentFactory, NewHireFactory, TrainingPlanFactory

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
SITE = "https://onboarding.example.com"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def feed_url(user: User) -> str:
    return reverse("onboarding:calendar_feed", args=[user.calendar_token])


def fetch(user: User) -> Calendar:
    """The user's feed, fetched the way a calendar app does: no session cookie."""
    response = Client().get(feed_url(user))
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def events(calendar: Calendar, kind: str = "assignment") -> dict[str, object]:
    """The feed's events of one kind ("assignment" or "check-in") by UID."""
    return {
        str(event["UID"]): event
        for event in calendar.walk("VEVENT")
        if str(event["UID"]).startswith(f"{kind}-")
    }


@pytest.fixture
def owner_token(owner) -> str:
    return owner.regenerate_calendar_token()


# --- the feed ------------------------------------------------------------------------------


def test_it_serves_a_valid_calendar_of_sessions_and_due_dates(owner, owner_token, plan):
    a = AssignmentFactory(
        plan=plan,
        course__title="Launch basics",
        due_date=TODAY + 10 * DAY,
        scheduled_for=TODAY + 5 * DAY,
        status="scheduled",
    )
    response = Client().get(feed_url(owner))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    found = events(calendar)
    assert set(found) == {
        f"assignment-{a.pk}-due@onboarding.example.com",
        f"assignment-{a.pk}-session@onboarding.example.com",
    }
    due = found[f"assignment-{a.pk}-due@onboarding.example.com"]
    session = found[f"assignment-{a.pk}-session@onboarding.example.com"]
    for event in (due, session):
        start = event.decoded("DTSTART")
        assert isinstance(start, datetime.date) and not isinstance(start, datetime.datetime)
        assert event["DTSTART"].params.get("VALUE") == "DATE"
        assert event.decoded("DTEND") == start + DAY
        assert event["DTSTAMP"]
        assert "Hana Hire" in str(event["SUMMARY"]) and "Launch basics" in str(event["SUMMARY"])
        assert "Hana Hire" in str(event["DESCRIPTION"])
        assert str(event["URL"]) == f"{SITE}/plans/{plan.pk}/"
    assert due.decoded("DTSTART") == TODAY + 10 * DAY
    assert session.decoded("DTSTART") == TODAY + 5 * DAY
    assert b"DTSTART;VALUE=DATE:" in response.content


def test_it_drops_the_due_date_of_finished_courses_but_keeps_their_session(
    owner, owner_token, plan
):
    done = AssignmentFactory(
        plan=plan,
        status="completed",
        completed_on=TODAY - DAY,
        due_date=TODAY + 3 * DAY,
        scheduled_for=TODAY - 2 * DAY,
    )
    AssignmentFactory(plan=plan, status="waived", due_date=TODAY + 3 * DAY, scheduled_for=TODAY)
    assert set(events(fetch(owner))) == {f"assignment-{done.pk}-session@onboarding.example.com"}


def test_it_leaves_out_archived_hires(owner, owner_token, plan):
    AssignmentFactory(plan=plan, due_date=TODAY + 3 * DAY)
    services.hire_archive(actor=owner, hire=plan.hire)
    assert events(fetch(owner)) == {}


def test_it_never_shows_another_managers_hires(owner, owner_token, outsider, plan):
    mine = AssignmentFactory(plan=plan)
    theirs = AssignmentFactory(
        plan=TrainingPlanFactory(hire=NewHireFactory(hiring_manager=outsider, full_name="Otto"))
    )
    outsider.regenerate_calendar_token()

    own_feed = events(fetch(owner))
    other_feed = events(fetch(outsider))

    assert all(f"assignment-{mine.pk}-" in uid for uid in own_feed) and own_feed
    assert all(f"assignment-{theirs.pk}-" in uid for uid in other_feed) and other_feed
    assert b"Otto" not in Client().get(feed_url(owner)).content


def test_it_shows_people_ops_every_hire(owner, outsider, people_ops, plan):
    AssignmentFactory(plan=plan)
    AssignmentFactory(plan=TrainingPlanFactory(hire=NewHireFactory(hiring_manager=outsider)))
    people_ops.regenerate_calendar_token()
    assert len(events(fetch(people_ops))) == 2


def test_it_keeps_uids_stable_so_calendar_apps_update_events(owner, owner_token, plan):
    a = AssignmentFactory(plan=plan, due_date=TODAY + 10 * DAY)
    first = events(fetch(owner))
    second = events(fetch(owner))
    assert first.keys() == second.keys()
    assert [e.to_ical() for e in first.values()] == [e.to_ical() for e in second.values()]

    services.assignment_update(
        actor=owner, assignment=a, due_date=TODAY + 20 * DAY, expected_version=a.version
    )
    moved = events(fetch(owner))
    assert moved.keys() == first.keys()
    [event] = moved.values()
    assert event.decoded("DTSTART") == TODAY + 20 * DAY
    assert int(event["SEQUENCE"]) > int(next(iter(first.values()))["SEQUENCE"])


@pytest.mark.parametrize("assignments", [1, 8])
def test_it_builds_the_feed_in_a_fixed_number_of_queries(
    owner, owner_token, django_assert_num_queries, assignments
):
    for n in range(assignments):
        plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
        AssignmentFactory(plan=plan, scheduled_for=TODAY + n * DAY)
    client = Client()
    # The token's owner, their permissions (user and group: visible_to asks whether
    # they are people-ops), then the assignments, then the open check-ins.
    with django_assert_num_queries(5):
        response = client.get(feed_url(owner))
    calendar = Calendar.from_ical(response.content)
    assert len(events(calendar)) == 2 * assignments
    assert len(events(calendar, "check-in")) == 4 * assignments


# --- tokens --------------------------------------------------------------------------------


def test_it_answers_404_to_a_wrong_token(db, owner_token):
    response = Client().get(reverse("onboarding:calendar_feed", args=["not-the-token"]))
    assert response.status_code == 404


def test_it_answers_404_to_an_inactive_users_token(owner, owner_token):
    owner.is_active = False
    owner.save()
    assert Client().get(reverse("onboarding:calendar_feed", args=[owner_token])).status_code == 404


def test_it_answers_404_once_the_link_is_turned_off(owner_client, owner, owner_token):
    url = feed_url(owner)
    response = owner_client.post(reverse("onboarding:calendar_revoke"), follow=True)
    assert "Calendar link turned off" in response.content.decode()
    owner.refresh_from_db()
    assert owner.calendar_token is None
    assert Client().get(url).status_code == 404


def test_it_makes_a_new_link_and_retires_the_old_one(owner_client, owner, owner_token):
    old_url = feed_url(owner)
    response = owner_client.post(reverse("onboarding:calendar_regenerate"), follow=True)
    assert "The old link no longer works" in response.content.decode()
    owner.refresh_from_db()
    assert owner.calendar_token and owner.calendar_token != owner_token
    assert Client().get(old_url).status_code == 404
    assert Client().get(feed_url(owner)).status_code == 200


def test_it_creates_a_first_link_after_revoking(owner_client, owner, owner_token):
    calendar_token_revoke(user=owner)
    owner_client.post(reverse("onboarding:calendar_regenerate"))
    owner.refresh_from_db()
    assert owner.calendar_token
    assert Client().get(feed_url(owner)).status_code == 200


# --- the profile page ----------------------------------------------------------------------


def test_it_sends_anonymous_visitors_of_the_profile_to_login(client, db):
    response = client.get(reverse("onboarding:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["profile", "calendar_regenerate", "calendar_revoke"])
def test_it_needs_a_login_for_every_post(client, owner, owner_token, name):
    response = client.post(reverse(f"onboarding:{name}"), {"receives_digest": ""})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    owner.refresh_from_db()
    assert owner.calendar_token == owner_token and owner.receives_digest


@pytest.mark.parametrize("name", ["profile", "calendar_regenerate", "calendar_revoke"])
def test_it_needs_a_csrf_token_for_every_post(owner, owner_token, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse(f"onboarding:{name}"), {"receives_digest": ""})
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.calendar_token == owner_token and owner.receives_digest


@pytest.mark.parametrize("name", ["calendar_regenerate", "calendar_revoke"])
def test_it_refuses_get_on_token_actions(owner_client, owner_token, name):
    assert owner_client.get(reverse(f"onboarding:{name}")).status_code == 405


def test_it_shows_the_profile_with_the_feed_link(owner_client, owner, owner_token):
    response = owner_client.get(reverse("onboarding:profile"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{SITE}/calendar/{owner_token}.ics"' in html
    assert f'href="webcal://onboarding.example.com/calendar/{owner_token}.ics"' in html
    assert "Add to calendar" in html
    assert reverse("onboarding:calendar_regenerate") in html
    assert reverse("onboarding:calendar_revoke") in html
    assert reverse("password_change") in html
    assert "csrfmiddlewaretoken" in html


def test_it_links_to_the_requests_host_when_site_url_is_unset(
    owner_client, owner, owner_token, plan, settings
):
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["tracker.internal"]
    AssignmentFactory(plan=plan, due_date=TODAY + 10 * DAY)
    html = owner_client.get(reverse("onboarding:profile"), HTTP_HOST="tracker.internal:8123")
    feed = f"tracker.internal:8123/calendar/{owner_token}.ics"
    assert f'value="http://{feed}"' in html.content.decode()
    assert f'href="webcal://{feed}"' in html.content.decode()

    response = Client().get(feed_url(owner), HTTP_HOST="tracker.internal:8123")
    [event] = events(Calendar.from_ical(response.content)).values()
    assert str(event["URL"]).startswith("http://tracker.internal:8123/plans/")
    # UIDs do not follow the address used, or a second address would duplicate events.
    assert str(event["UID"]).endswith("@localhost")


def test_it_prefers_site_url_to_the_requests_host(owner_client, owner, owner_token, settings):
    settings.ALLOWED_HOSTS = ["tracker.internal"]
    html = owner_client.get(reverse("onboarding:profile"), HTTP_HOST="tracker.internal:8123")
    assert f'value="{SITE}/calendar/{owner_token}.ics"' in html.content.decode()


def test_it_offers_to_create_a_link_when_there_is_none(owner_client):
    html = owner_client.get(reverse("onboarding:profile")).content.decode()
    assert "Create calendar link" in html and ".ics" not in html


def test_it_shows_the_profile_to_people_ops_and_plain_users(client, people_ops, plain_user):
    for user in (people_ops, plain_user):
        client.force_login(user)
        assert client.get(reverse("onboarding:profile")).status_code == 200


def test_it_turns_the_digest_off_and_on(owner_client, owner):
    response = owner_client.post(reverse("onboarding:profile"), {}, follow=True)
    assert "Reminder digests are off" in response.content.decode()
    owner.refresh_from_db()
    assert owner.receives_digest is False

    owner_client.post(reverse("onboarding:profile"), {"receives_digest": "on"})
    owner.refresh_from_db()
    assert owner.receives_digest is True


def test_it_renders_the_add_to_calendar_partial_as_a_link_to_the_profile(db):
    html = render_to_string("onboarding/account/calendar_link.html", {})
    assert f'href="{reverse("onboarding:profile")}#calendar"' in html
    assert "Add to calendar" in html


def test_it_lists_open_check_ins_of_the_owners_hires(owner, outsider, owner_token, plan):
    from onboarding.models import CheckIn

    NewHireFactory(hiring_manager=outsider)  # another manager's hire: never in the feed
    baseline = CheckIn.objects.get(hire=plan.hire, kind="baseline")
    CheckIn.objects.filter(pk=baseline.pk).update(completed_at=timezone.now())
    found = events(fetch(owner), "check-in")
    open_ones = CheckIn.objects.filter(hire=plan.hire, completed_at__isnull=True)
    assert set(found) == {f"check-in-{c.pk}@onboarding.example.com" for c in open_ones}
    day_30 = open_ones.get(kind="day_30")
    event = found[f"check-in-{day_30.pk}@onboarding.example.com"]
    assert event.decoded("dtstart") == day_30.due_date
    assert str(event["SUMMARY"]) == f"Check-in: {plan.hire.full_name}, Day 30"
    assert f"{SITE}/check-ins/{day_30.pk}/" in str(event["URL"])
