"""CSV exports at fixed paths; each takes the query string of the list it mirrors.

/exports/hires.csv        the hires table on the dashboard (HireFilterSet)
/exports/assignments.csv  /assignments/ (AssignmentFilterSet)
/exports/tuition.csv      /tuition/ (TuitionFilterSet, plus ?sort= of TUITION_SORTS)
/exports/outcomes.csv     /outcomes/ (OutcomeFilterSet)
/exports/check-ins.csv    one row per rating of the hires /outcomes/ covers (OutcomeFilterSet)

Column sets and the tuition rule are documented in onboarding/exports.py.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.http import require_GET

from .. import exports, selectors


def _export(request: HttpRequest, name: str) -> HttpResponse:
    try:
        rows = selectors.export_rows(name, request.GET, user=request.user)
    except selectors.FilterError as error:
        # A hand-edited or stale link: say what is wrong instead of exporting other rows.
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    return exports.stream_response(name, rows)


@require_GET
@login_required
def export_hires(request: HttpRequest) -> HttpResponse:
    return _export(request, "hires")


@require_GET
@login_required
def export_assignments(request: HttpRequest) -> HttpResponse:
    return _export(request, "assignments")


@require_GET
@login_required
def export_tuition(request: HttpRequest) -> HttpResponse:
    return _export(request, "tuition")


@require_GET
@login_required
def export_outcomes(request: HttpRequest) -> HttpResponse:
    return _export(request, "outcomes")


@require_GET
@login_required
def export_check_ins(request: HttpRequest) -> HttpResponse:
    return _export(request, "check-ins")


urlpatterns = [
    path("exports/hires.csv", export_hires, name="export_hires"),
    path("exports/assignments.csv", export_assignments, name="export_assignments"),
    path("exports/tuition.csv", export_tuition, name="export_tuition"),
    path("exports/outcomes.csv", export_outcomes, name="export_outcomes"),
    path("exports/check-ins.csv", export_check_ins, name="export_check_ins"),
]
