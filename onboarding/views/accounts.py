"""The user's own profile: digest on/off, the private calendar feed link, password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from ..calendar_feed import calendar_token_regenerate, calendar_token_revoke
from ..forms.accounts import ApiTokenForm, DigestPreferenceForm
from ..links import absolute_url, site_root
from ..selectors import api_tokens_of
from ..services import (
    StaleObjectError,
    api_token_create,
    api_token_revoke,
    digest_preference_set,
)
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


def _page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    context.setdefault("form", DigestPreferenceForm(instance=request.user))
    context.setdefault("token_form", ApiTokenForm())
    context["api_tokens"] = api_tokens_of(request.user)
    context.update(feed_urls(request))
    return render(request, "onboarding/account/profile.html", context, status=status)


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
                return _page(request, 409, form=DigestPreferenceForm(instance=error.current))
            if user.receives_digest:
                messages.success(request, "You will get the reminder digest by email.")
            else:
                messages.success(request, "Reminder digests are off. Turn them on here any time.")
            return redirect("onboarding:profile")
        messages.error(request, "Your settings were not saved; see below.")
        return _page(request, form=form)
    return _page(request)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Make an API token and show its secret on this page, once: it is not kept anywhere
    (not even in the session, which a redirect would need)."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = api_token_create(
                actor=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _page(request, new_token=token, new_secret=secret)
    messages.error(request, "No token was made; see below.")
    return _page(request, token_form=form)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_tokens_of(request.user), pk=pk)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, f"Token {token.name} revoked: it stops working at once.")
    return redirect(reverse("onboarding:profile") + "#api-tokens")


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
    path("account/tokens/", token_create, name="api_token_create"),
    path("account/tokens/<int:pk>/revoke/", token_revoke, name="api_token_revoke"),
]
