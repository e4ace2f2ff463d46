"""Dashboard home: summary cards, what needs attention, charts and the hires table."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from .. import caching, stats
from ..models import User
from .hires import hire_table_html


@login_required
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    hire_table = hire_table_html(request, today=today)

    # The figures do not depend on the table's filters or page: one entry for all of them.
    figures = caching.cached_render(
        request,
        "home-figures",
        "onboarding/home_figures.html",
        lambda: figures_context(request.user, today, active_hires=hire_table["active_hires"]),
    )
    return render(request, "onboarding/home.html", {"figures": figures, "hire_table": hire_table})


def figures_context(user: User, today: datetime.date, *, active_hires: int | None) -> dict:
    """What home_figures.html shows: cards, attention lists, charts, per-manager rows."""
    cohorts = stats.cohort_completion(user, today)
    tuition = stats.tuition_by_quarter(user, today)
    return {
        "cards": stats.cards(user, today, active_hires=active_hires),
        "attention": stats.attention(user, today),
        "manager_rows": stats.manager_breakdown(user, today),
        "cohorts": cohorts,
        "tuition": tuition,
        # Read by static/js/charts.js from <script type="application/json"> tags,
        # which the Content Security Policy allows because they are never executed.
        "cohort_chart": {
            "labels": [c["label"] for c in cohorts],
            "percent": [c["percent"] for c in cohorts],
            "assignments": [c["total"] for c in cohorts],
        },
        # One chart per currency: amounts in different currencies are never added.
        "tuition_charts": [
            {
                "currency": block["currency"],
                "quarters": block["quarters"],
                "data_id": f"tuition-chart-data-{block['currency']}",
                "data": {
                    "currency": block["currency"],
                    "labels": [q["label"] for q in block["quarters"]],
                    "employer": [q["employer"] for q in block["quarters"]],
                    "hire": [q["hire"] for q in block["quarters"]],
                },
            }
            for block in tuition["currencies"]
        ],
        "has_cohort_data": any(c["total"] for c in cohorts),
        "plan_needed_days": stats.PLAN_NEEDED_WITHIN_DAYS,
        "sessions_days": stats.SESSIONS_WITHIN_DAYS,
    }


# Signing in and out are actions too: say that they happened. The receivers live here
# because this module is loaded with the URLs, before any sign-in can be handled.
@receiver(user_logged_in, dispatch_uid="onboarding.signed_in_message")
def _signed_in_message(sender, request, user, **kwargs) -> None:
    if request is not None and not request.path.startswith("/admin/"):
        messages.success(request, f"Signed in as {user}.", fail_silently=True)


@receiver(user_logged_out, dispatch_uid="onboarding.signed_out_message")
def _signed_out_message(sender, request, user, **kwargs) -> None:
    if request is not None:
        messages.info(request, "You have signed out.", fail_silently=True)


urlpatterns = [
    path("", home, name="home"),
]
