"""List pages that the CSV exports mirror: /assignments/ and /tuition/.

Each page and its export share one FilterSet (through selectors.filterset), so
"Export CSV" downloads exactly the rows on screen, on every page of them. The
queries are in selectors.py (pick the page, then load its rows).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from .. import exports, selectors

PAGE_SIZE = 50

# (value of ?sort=, column label); the values are those of AssignmentFilterSet's
# OrderingFilter and of exports.TUITION_SORTS.
ASSIGNMENT_SORTS = [("hire", "Hire"), ("course", "Course"), ("due", "Due"), ("status", "Status")]
TUITION_SORTS = [("quarter", "Quarter"), ("manager", "Hiring manager"), ("payer", "Paid by")]
TUITION_TOTAL_SORT = ("total", "Tuition")


def sort_headers(query: QueryDict, columns: list[tuple[str, str]], current: str) -> list[dict]:
    """Column headers that sort by themselves: first click ascending, second descending."""
    headers = []
    for key, label in columns:
        params = query.copy()
        params.pop("page", None)
        if current == key:
            state, params["sort"] = "ascending", f"-{key}"
        elif current == f"-{key}":
            state, params["sort"] = "descending", key
        else:
            state, params["sort"] = None, key
        headers.append(
            {"key": key, "label": label, "url": f"?{params.urlencode()}", "state": state}
        )
    return headers


def _is_filtered(query: QueryDict) -> bool:
    return any(key not in ("page", "sort") and any(query.getlist(key)) for key in query)


@require_GET
@login_required
def assignment_list(request: HttpRequest) -> HttpResponse:
    listed = selectors.assignment_page(user=request.user, data=request.GET)
    return render(
        request,
        "onboarding/lists/assignment_list.html",
        {
            **listed,
            "headers": sort_headers(request.GET, ASSIGNMENT_SORTS, request.GET.get("sort", "")),
            "filtered": _is_filtered(request.GET),
            "export_columns": exports.COLUMN_HELP["assignments"],
        },
    )


@require_GET
@login_required
def tuition(request: HttpRequest) -> HttpResponse:
    listed = selectors.tuition_page(user=request.user, data=request.GET)
    current = request.GET.get("sort", "quarter")
    return render(
        request,
        "onboarding/lists/tuition.html",
        {
            **listed,
            "headers": sort_headers(request.GET, TUITION_SORTS, current),
            "total_header": sort_headers(request.GET, [TUITION_TOTAL_SORT], current)[0],
            "keep_sort": True,  # the FilterSet form has no sort field here
            "export_columns": exports.COLUMN_HELP["tuition"],
            "filtered": _is_filtered(request.GET),
        },
    )


urlpatterns = [
    path("assignments/", assignment_list, name="assignment_list"),
    path("tuition/", tuition, name="tuition"),
]
