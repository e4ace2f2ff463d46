"""List pages that the CSV exports mirror: /assignments/ and /tuition/.

Each page and its export share one FilterSet (through exports.filterset_for), so
"Export CSV" downloads exactly the rows on screen, on every page of them.

Pick the page first: the assignment page counts and slices primary keys only
(a plain COUNT(*) and an ordered id query), then loads the 50 rows of the page
with their joins — the number of queries does not depend on the number of rows.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from .. import exports
from ..models import Assignment, PlanGuidance
from ..pagination import CappedCountPaginator

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


def _page_of_assignments(request: HttpRequest, queryset: QuerySet):
    paginator = CappedCountPaginator(queryset.values_list("pk", flat=True), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    ids = list(page.object_list)
    undiscussed = PlanGuidance.objects.filter(plan=OuterRef("plan_id"), acknowledged_at=None)
    rows = {
        row.pk: row
        for row in Assignment.objects.filter(pk__in=ids)
        .select_related(
            "plan__hire__hiring_manager", "plan__hire__role_profile", "course__certification"
        )
        .annotate(guidance_open=Exists(undiscussed))
    }
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def _is_filtered(query: QueryDict) -> bool:
    return any(key not in ("page", "sort") and any(query.getlist(key)) for key in query)


@require_GET
@login_required
def assignment_list(request: HttpRequest) -> HttpResponse:
    filterset = exports.filterset_for("assignments", request.GET, request=request)
    if filterset.is_valid():
        queryset = exports.ordered("assignments", filterset.qs)
    else:
        queryset = Assignment.objects.none()  # the form shows what to fix
    page = _page_of_assignments(request, queryset)
    return render(
        request,
        "onboarding/lists/assignment_list.html",
        {
            "filter": filterset,
            "page": page,
            "headers": sort_headers(request.GET, ASSIGNMENT_SORTS, request.GET.get("sort", "")),
            "filtered": _is_filtered(request.GET),
            "export_columns": exports.COLUMN_HELP["assignments"],
        },
    )


@require_GET
@login_required
def tuition(request: HttpRequest) -> HttpResponse:
    filterset = exports.filterset_for("tuition", request.GET, request=request)
    sort_error = ""
    try:
        sort = exports.tuition_sort(request.GET)
    except exports.ExportFilterError as error:
        sort, sort_error = "quarter", str(error)
    if filterset.is_valid() and not sort_error:
        queryset = filterset.qs
    else:
        queryset = Assignment.objects.none()
    # Grouped rows: the paginator counts the groups, the page fetches 50 of them.
    page = Paginator(exports.tuition_rows(queryset, sort, named=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    current = request.GET.get("sort", "quarter")
    return render(
        request,
        "onboarding/lists/tuition.html",
        {
            "filter": filterset,
            "page": page,
            "headers": sort_headers(request.GET, TUITION_SORTS, current),
            "total_header": sort_headers(request.GET, [TUITION_TOTAL_SORT], current)[0],
            "totals": exports.tuition_totals(queryset),
            "sort_error": sort_error,
            "keep_sort": True,  # the FilterSet form has no sort field here
            "export_columns": exports.COLUMN_HELP["tuition"],
            "filtered": _is_filtered(request.GET),
        },
    )


urlpatterns = [
    path("assignments/", assignment_list, name="assignment_list"),
    path("tuition/", tuition, name="tuition"),
]
