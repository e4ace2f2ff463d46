"""Health check and error pages."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _api_problem(request: HttpRequest, status: int, title: str) -> JsonResponse | None:
    """Errors under /api/ that happen outside the API's views (an address no route
    matches, a failure in middleware) answer as the API does: problem details."""
    if not request.path.startswith("/api/"):
        return None
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status},
        status=status,
        content_type="application/problem+json",
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _api_problem(request, 400, "Invalid request") or render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _api_problem(request, 403, "Not allowed") or render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _api_problem(request, 404, "Not found") or render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may have come from a context processor.
    from django.template import loader

    return _api_problem(request, 500, "Server error") or HttpResponse(
        loader.get_template("500.html").render(), status=500
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
]
