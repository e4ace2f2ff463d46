"""The user's own profile: digest on/off, the private calendar feed link, password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from ..calendar_feed import calendar_token_regenerate, calendar_token_revoke
from ..forms.accounts import DigestPreferenceForm
from ..links import absolute_url, site_root
from ..services import StaleObjectError, digest_preference_set
from ..staleness import stale_message


def feed_urls(request: HttpRequest) -> dict[str, str]:
    """The user's feed as an https link to copy and a webcal:// link that opens a calendar app."""
    token = request.user.calendar_token
    if not token:
        return {}
    # SITE_URL when set (the canonical address a calendar app should keep), else the
    # host this page was opened on: a link to another host and port would go nowhere.
    feed_url = absolute_url(
        reverse("onboarding:calendar_feed", args=[token]), root=site_root(request)
    )
    return {
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST, instance=user)
        if form.is_valid():
            expected = form.cleaned_data["expected_version"]
            try:
                digest_preference_set(
                    user=user,
                    receives_digest=form.cleaned_data["receives_digest"],
                    expected_version=expected,
                )
            except StaleObjectError as error:
                text = stale_message(error.current, expected, "account", error.changed)
                messages.error(request, text)
                form = DigestPreferenceForm(instance=error.current)
                context = {"form": form, **feed_urls(request)}
                return render(request, "onboarding/account/profile.html", context, status=409)
            if user.receives_digest:
                messages.success(request, "You will get the reminder digest by email.")
            else:
                messages.success(request, "Reminder digests are off. Turn them on here any time.")
            return redirect("onboarding:profile")
        messages.error(request, "Your settings were not saved; see below.")
    else:
        form = DigestPreferenceForm(instance=user)
    return render(request, "onboarding/account/profile.html", {"form": form, **feed_urls(request)})


@login_required
@require_POST
def calendar_regenerate(request: HttpRequest) -> HttpResponse:
    had_link = bool(request.user.calendar_token)
    calendar_token_regenerate(user=request.user)
    if had_link:
        messages.success(
            request,
            "New calendar link made. The old link no longer works: update it in your calendar app.",
        )
    else:
        messages.success(request, "Calendar link made. Add it to your calendar app.")
    return redirect(reverse("onboarding:profile") + "#calendar")


@login_required
@require_POST
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    if request.user.calendar_token:
        calendar_token_revoke(user=request.user)
        messages.success(request, "Calendar link turned off. Calendars using it stop updating.")
    else:
        messages.info(request, "You had no calendar link to turn off.")
    return redirect(reverse("onboarding:profile") + "#calendar")


urlpatterns = [
    path("account/", profile, name="profile"),
    path("account/calendar/regenerate/", calendar_regenerate, name="calendar_regenerate"),
    path("account/calendar/revoke/", calendar_revoke, name="calendar_revoke"),
]
