"""Evidence files: downloaded only through this view, which checks who may see them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services
from ..models import Evidence


@require_GET
@login_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(selectors.evidence_visible(request.user), pk=pk)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    # The stored type is sniffed from the bytes; the browser must not guess another.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def evidence_review(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(
        Evidence.objects.visible_to(request.user).select_related("assignment"), pk=pk
    )
    services.evidence_mark_reviewed(actor=request.user, evidence=evidence)
    messages.success(request, f"“{evidence.original_name}” marked as reviewed.")
    if evidence.assignment_id:
        return redirect(evidence.assignment.plan.get_absolute_url() + "#hire-activity")
    return redirect("onboarding:home")


urlpatterns = [
    path("evidence/<int:pk>/", evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/reviewed/", evidence_review, name="evidence_review"),
]
