"""Cohort import: upload a CSV, check the preview of every row, then commit in one click.

Between the two steps the validated file waits in the user's session (compressed;
sessions live in the database, so any app server can take the second request).
The confirm button carries a random token naming that upload, so an old tab
cannot commit a newer file. The commit validates the file again, records a
HireImport and starts a background task that writes all or nothing (imports.run);
the browser lands on the run's page, whose progress bar polls until it ends and
then links to the imported hires.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from .. import imports, services
from ..forms.imports import HireImportConfirmForm, HireImportForm
from ..models import HireImport, PlanTemplate

SESSION_KEY = "hire_import"
TEMPLATE = "onboarding/imports/hire_import.html"
RUN_TEMPLATE = "onboarding/imports/hire_import_run.html"
PROGRESS_TEMPLATE = "onboarding/imports/_progress.html"


def _store(request: HttpRequest, content: bytes, template: PlanTemplate | None, name: str) -> str:
    token = secrets.token_urlsafe(24)
    request.session[SESSION_KEY] = {
        "token": token,
        "content": base64.b64encode(zlib.compress(content)).decode("ascii"),
        "template": template.pk if template else None,
        "name": name[:200],
    }
    return token


def _load(request: HttpRequest, token: str) -> dict | None:
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, dict) or not secrets.compare_digest(
        str(stored.get("token", "")), token
    ):
        return None
    try:
        stored["bytes"] = zlib.decompress(base64.b64decode(stored["content"]))
    except (ValueError, TypeError, KeyError, zlib.error):
        return None
    return stored


def _page(request: HttpRequest, **context) -> HttpResponse:
    context.setdefault("form", HireImportForm(max_bytes=imports.MAX_BYTES))
    context.setdefault("columns", imports.COLUMNS)
    context.setdefault("required", imports.REQUIRED)
    context.setdefault("max_rows", imports.MAX_ROWS)
    context.setdefault("example_prefix", imports.EXAMPLE_PREFIX)
    return render(request, TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("onboarding.add_newhire", raise_exception=True)
def hire_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "token" in request.POST:
        return _commit(request)
    if request.method != "POST":
        return _page(request)

    form = HireImportForm(request.POST, request.FILES, max_bytes=imports.MAX_BYTES)
    if not form.is_valid():
        messages.error(request, "Nothing was imported. Check the form below.")
        return _page(request, form=form)
    preview = imports.parse(form.cleaned_data["file"], user=request.user)
    template = form.cleaned_data["template"]
    confirm = None
    request.session.pop(SESSION_KEY, None)
    if preview.ok:
        token = _store(request, form.cleaned_data["file"], template, request.FILES["file"].name)
        confirm = HireImportConfirmForm(initial={"token": token})
        messages.info(
            request,
            f"All {len(preview.rows)} rows are valid. Check them, then import.",
        )
    else:
        messages.error(request, _rejection(preview))
    return _page(request, form=form, preview=preview, confirm=confirm, template=template)


def _rejection(preview: imports.ImportPreview) -> str:
    problems = preview.messages()
    shown = " ".join(problems[:3])
    more = f" And {len(problems) - 3} more, listed below." if len(problems) > 3 else ""
    return f"Nothing was imported. {shown}{more}"


def _commit(request: HttpRequest) -> HttpResponse:
    confirm = HireImportConfirmForm(request.POST)
    stored = _load(request, confirm.data.get("token", "")) if confirm.is_valid() else None
    if stored is None:
        messages.error(
            request, "That preview has expired or a newer file was uploaded. Upload the file again."
        )
        return redirect("onboarding:hire_import")
    request.session.pop(SESSION_KEY, None)

    template = None
    if stored["template"] is not None:
        template = PlanTemplate.objects.filter(pk=stored["template"], active=True).first()
        if template is None:
            messages.error(
                request, "The chosen plan template is no longer available. Nothing was imported."
            )
            return redirect("onboarding:hire_import")
    # Checked again here, so an upload that has gone stale since the preview is
    # refused on this page rather than in the background.
    preview = imports.parse(stored["bytes"], user=request.user)
    if not preview.ok:
        messages.error(request, _rejection(preview))
        return _page(request, preview=preview, template=template)
    run = services.hire_import_start(
        actor=request.user,
        content=stored["bytes"],
        file_name=stored.get("name", ""),
        template=template,
        rows_total=len(preview.rows),
    )
    return redirect(run)


def _run_of(request: HttpRequest, pk: int) -> HireImport:
    # Only the person who started it (and people-ops) sees a run; others get 404.
    return get_object_or_404(
        HireImport.objects.visible_to(request.user).select_related("template"), pk=pk
    )


@require_GET
@login_required
@permission_required("onboarding.add_newhire", raise_exception=True)
def hire_import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's page: a progress bar that polls until the run ends."""
    run = _run_of(request, pk)
    return render(request, RUN_TEMPLATE, {"run": run, **_run_context(run)})


@require_GET
@login_required
@permission_required("onboarding.add_newhire", raise_exception=True)
def hire_import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls every second; a finished run's fragment no
    longer polls."""
    run = _run_of(request, pk)
    return render(request, PROGRESS_TEMPLATE, {"run": run, **_run_context(run)})


def _run_context(run: HireImport) -> dict:
    return {
        "hires_url": f"{reverse('onboarding:hire_list')}?{urlencode({'imported': run.batch})}",
        "error_lines": run.error_message.splitlines(),
        "stalled": run.stalled(),
    }


@require_GET
@login_required
@permission_required("onboarding.add_newhire", raise_exception=True)
def hire_import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="hire-import-template.csv"'
    return response


urlpatterns = [
    path("hires/import/", hire_import, name="hire_import"),
    path("hires/import/<int:pk>/", hire_import_run, name="hire_import_run"),
    path("hires/import/<int:pk>/progress/", hire_import_progress, name="hire_import_progress"),
    path("hires/import/template.csv", hire_import_template, name="hire_import_template"),
]
