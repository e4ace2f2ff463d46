"""The outcome report: is training moving this organisation's ratings, and at what tuition?"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from .. import caching, exports, outcomes


@require_GET
@login_required
def outcome_report(request: HttpRequest) -> HttpResponse:
    def report_context() -> dict:
        report = outcomes.report(user=request.user, data=request.GET)
        shown = [row for row in report["courses"] if not row.too_few]
        return {
            **report,
            "chart": {
                "labels": [row.name for row in shown],
                "took": [round(row.took_change, 2) for row in shown],
                "others": [round(row.others_change, 2) for row in shown],
            },
            "export_columns": exports.COLUMN_HELP["outcomes"],
            "check_in_columns": exports.COLUMN_HELP["check-ins"],
        }

    body = caching.cached_render(
        request,
        "outcomes",
        "onboarding/outcomes/_report_body.html",
        report_context,
        varies=caching.page_varies(request),
    )
    return render(request, "onboarding/outcomes/report.html", {"body": body})


urlpatterns = [
    path("outcomes/", outcome_report, name="outcomes"),
]
