"""Search from the navigation bar: hires, plans and courses by name, in one page.

A people-ops user with thousands of hires types a name and gets there; each section
links to its full list when there are more matches than it shows.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET

from .. import selectors


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    results = selectors.search(user=request.user, text=request.GET.get("q", ""))
    # One hire (with, at most, their own plans) and no course: that is where the person
    # wanted to go.
    if (
        len(results.hires) == 1
        and not (results.courses or results.more_hires or results.more_plans)
        and all(plan.hire_id == results.hires[0].pk for plan in results.plans)
    ):
        return redirect(results.hires[0])
    too_long = len(request.GET.get("q", "").strip()) > selectors.SEARCH_MAX_LENGTH
    return render(
        request,
        "onboarding/search.html",
        {"results": results, "too_long": too_long, "max_length": selectors.SEARCH_MAX_LENGTH},
    )


urlpatterns = [
    path("search/", search, name="search"),
]
