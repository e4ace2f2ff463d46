"""Ramp check-ins: the page where a manager rates a hire against the role's expectations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from .. import selectors, services
from ..forms.plans import apply_service_errors
from ..forms.ramp import CheckInForm, level_field, note_field
from ..services import StaleObjectError
from ..staleness import stale_message


@login_required
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    check_in = get_object_or_404(selectors.check_ins_visible(request.user), pk=pk)
    rows = selectors.check_in_rows(check_in)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("onboarding.change_checkin"):
            raise PermissionDenied
        form = CheckInForm(request.POST, rows=rows)
        complete = request.POST.get("action") == "complete"
        if form.is_valid():
            expected = form.cleaned_data["version"]
            try:
                services.check_in_record(
                    actor=request.user,
                    check_in=check_in,
                    ratings=form.ratings(),
                    summary=form.cleaned_data["summary"],
                    complete=complete,
                    expected_version=expected,
                )
            except StaleObjectError as error:
                message = stale_message(error.current, expected, "check-in", error.changed)
                if error.current.summary:
                    # Check-ins begin without a history row (the trigger inserts them),
                    # so name the summary as it reads now.
                    message += f" The summary now reads: “{error.current.summary}”."
                form.add_error(None, message)
                status = 409
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                done = "completed" if complete else "saved"
                messages.success(request, f"{check_in.get_kind_display()} check-in {done}.")
                return redirect(
                    reverse("onboarding:hire_detail", args=[check_in.hire_id]) + "#ramp"
                )
    else:
        initial = {"version": check_in.version, "summary": check_in.summary}
        for row in rows:
            initial[level_field(row)] = row.level
            initial[note_field(row)] = row.note
        form = CheckInForm(initial=initial, rows=rows)
        if not request.user.has_perm("onboarding.change_checkin"):
            for field in form.fields.values():
                field.disabled = True
    return render(
        request,
        "onboarding/ramp/check_in.html",
        {
            "check_in": check_in,
            "hire": check_in.hire,
            "form": form,
            "rows": form.bound_rows(),
            "can_change": request.user.has_perm("onboarding.change_checkin"),
            "state": check_in.state(),
        },
        status=status,
    )


urlpatterns = [
    path("check-ins/<int:pk>/", check_in, name="check_in"),
]
