"""Plan pages: create, read and edit plans, their assignments and their guidance.

Every plan, assignment and plan guidance is fetched through `visible_to(user)`,
so another manager's object answers 404 on every URL, GET or POST. Writes go
through `services`; status changes work inline with htmx (the row and the
plan's progress block are swapped) and as ordinary POSTs without JavaScript.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..forms.plans import (
    AssignmentAddForm,
    AssignmentEditForm,
    AssignmentStatusForm,
    GuidanceAttachForm,
    PlanCreateForm,
    PlanEditForm,
    PlanGuidanceNoteForm,
    apply_service_errors,
    manual_guidance_for,
)
from ..models import Assignment, NewHire, PlanGuidance, PlanTemplate, TrainingPlan
from ..services import StaleObjectError
from ..staleness import stale_message

TRUE_VALUES = {"1", "true", "on", "yes"}


# --- fetching ------------------------------------------------------------------------------


def _plan_for(request: HttpRequest, pk: int) -> TrainingPlan:
    """The plan with its progress counts and health, or 404 if not the user's."""
    return get_object_or_404(selectors.plans_with_progress(request.user), pk=pk)


def _assignment_for(request: HttpRequest, pk: int) -> Assignment:
    return get_object_or_404(
        Assignment.objects.visible_to(request.user).select_related(
            "plan__hire", "course__certification"
        ),
        pk=pk,
    )


def _plan_progress(request: HttpRequest, plan_pk: int) -> dict:
    """The progress block's context, recomputed after a change."""
    return {"plan": _plan_for(request, plan_pk)}


def _plan_url(plan_pk: int, anchor: str = "") -> str:
    url = reverse("onboarding:plan_detail", args=[plan_pk])
    return f"{url}#{anchor}" if anchor else url


def _stale_message(error: StaleObjectError, expected_version: int | None, noun: str) -> str:
    return stale_message(error.current, expected_version, noun, error.changed)


# --- plans ---------------------------------------------------------------------------------


def _chosen_template(params) -> PlanTemplate | None:
    value = params.get("template") or ""
    if not value.isdigit():
        return None
    return PlanTemplate.objects.filter(active=True, pk=value).first()


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, hire_pk: int) -> HttpResponse:
    """Blank or from a template; the template's due dates are shown and editable first."""
    hire = get_object_or_404(
        NewHire.objects.visible_to(request.user).select_related("hiring_manager"), pk=hire_pk
    )
    params = request.POST if request.method == "POST" else request.GET
    # Opened afresh, the page starts from the template that suits the hire's role
    # profile; once someone has chosen (even "Blank plan"), their choice stands.
    suggested = None
    if "template" not in params:
        suggested = selectors.suggested_template(hire)
        template = suggested
    else:
        template = _chosen_template(params)
    chosen = str(template.pk) if template else ""
    initial = {
        "template": template,
        "title": params.get("title", ""),
        "target_date": params.get("target_date") or None,
    }
    form = PlanCreateForm(hire=hire, template=template, initial=initial)
    if suggested is not None:
        form.fields["template"].help_text = (
            f"Chosen because it suits the {hire.role_profile} role profile; pick another or "
            "a blank plan if this hire needs something else. " + form.fields["template"].help_text
        )

    if request.method == "POST":
        if request.POST.get("rows_for", "") != chosen:
            # The template changed without its courses on screen (no JavaScript):
            # show its due dates first instead of saving dates nobody has seen.
            messages.info(request, "Check the due dates of the template's courses, then save.")
        else:
            form = PlanCreateForm(request.POST, hire=hire, template=template)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    plan = services.plan_create(
                        actor=request.user,
                        hire=hire,
                        title=data["title"],
                        template=data["template"],
                        target_date=data["target_date"],
                        due_dates=form.due_dates(),
                    )
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    messages.success(request, f"Plan “{plan.title}” created for {hire}.")
                    return redirect(plan)

    rows_url = reverse("onboarding:plan_create", args=[hire.pk])
    form.fields["template"].widget.attrs.update(
        {
            "hx-get": rows_url,
            "hx-trigger": "change",
            "hx-target": "#template-rows",
            "hx-swap": "innerHTML",
        }
    )
    context = {"hire": hire, "form": form, "rows_for": chosen}
    if request.htmx and request.method == "GET":
        return render(request, "onboarding/plans/_template_rows.html", context)
    return render(request, "onboarding/plans/plan_form.html", context)


def _detail_context(
    request: HttpRequest,
    plan: TrainingPlan,
    *,
    add_form: AssignmentAddForm | None = None,
) -> dict:
    assignments = selectors.plan_assignments(plan)
    today = timezone.localdate()
    if add_form is None:
        default_due = plan.target_date or today + datetime.timedelta(days=30)
        add_form = AssignmentAddForm(plan=plan, initial={"due_date": default_due})
    attachable = list(manual_guidance_for(plan))
    return {
        "plan": plan,
        "hire": plan.hire,
        "assignments": assignments,
        "status_choices": Assignment.Status.choices,
        "today": today,
        "add_form": add_form,
        "guidance_items": selectors.plan_guidance(plan),
        "activity": selectors.hire_activity(plan),
        "attach_form": GuidanceAttachForm(plan=plan) if attachable else None,
    }


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    return render(request, "onboarding/plans/plan_detail.html", _detail_context(request, plan))


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    if request.method == "POST":
        form = PlanEditForm(request.POST, plan=plan, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.plan_update(
                    actor=request.user,
                    plan=plan,
                    expected_version=data["version"],
                    title=data["title"],
                    owner=data["owner"],
                    target_date=data["target_date"],
                )
            except StaleObjectError as error:
                # Keep the user's values; the next save is made against the current version.
                fresh = request.POST.copy()
                fresh["version"] = str(error.current.version)
                form = PlanEditForm(fresh, plan=plan, user=request.user)
                form.is_valid()
                form.add_error(None, _stale_message(error, data["version"], "plan"))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "Plan saved.")
                return redirect(plan)
    else:
        form = PlanEditForm(
            plan=plan,
            user=request.user,
            initial={
                "title": plan.title,
                "owner": plan.owner,
                "target_date": plan.target_date,
                "version": plan.version,
            },
        )
    return render(request, "onboarding/plans/plan_edit.html", {"plan": plan, "form": form})


# --- assignments ---------------------------------------------------------------------------


@login_required
@require_POST
def assignment_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    form = AssignmentAddForm(request.POST, plan=plan)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assignment_add(
                actor=request.user,
                plan=plan,
                course=data["course"],
                due_date=data["due_date"],
                scheduled_for=data["scheduled_for"],
                tuition_cost=data["tuition_cost"],
                paid_by=data["paid_by"] or None,
                notes=data["notes"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Added “{assignment.course.title}” to the plan.")
            return redirect(_plan_url(plan.pk, f"assignment-{assignment.pk}"))
    messages.error(request, "The course was not added: correct the form below.")
    context = _detail_context(request, plan, add_form=form)
    return render(request, "onboarding/plans/plan_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment_for(request, pk)
    if request.method == "POST":
        form = AssignmentEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            expected = data.pop("version")
            try:
                services.assignment_update(
                    actor=request.user, assignment=assignment, expected_version=expected, **data
                )
            except StaleObjectError as error:
                fresh = request.POST.copy()
                fresh["version"] = str(error.current.version)
                form = AssignmentEditForm(fresh)
                form.is_valid()
                form.add_error(None, _stale_message(error, expected, "assignment"))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, f"Saved “{assignment.course.title}”.")
                return redirect(_plan_url(assignment.plan_id, f"assignment-{assignment.pk}"))
    else:
        form = AssignmentEditForm(
            initial={
                "due_date": assignment.due_date,
                "scheduled_for": assignment.scheduled_for,
                "tuition_cost": assignment.tuition_cost,
                "paid_by": assignment.paid_by,
                "notes": assignment.notes,
                "version": assignment.version,
            }
        )
    return render(
        request,
        "onboarding/plans/assignment_edit.html",
        {"assignment": assignment, "plan": assignment.plan, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST takes the course out of the plan."""
    assignment = _assignment_for(request, pk)
    if request.method == "POST":
        title, plan_pk = assignment.course.title, assignment.plan_id
        services.assignment_remove(actor=request.user, assignment=assignment)
        messages.success(request, f"Removed “{title}” from the plan.")
        return redirect(_plan_url(plan_pk, "assignments"))
    return render(
        request,
        "onboarding/plans/assignment_remove.html",
        {"assignment": assignment, "plan": assignment.plan},
    )


@login_required
@require_POST
def assignment_move(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment_for(request, pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        messages.error(request, "Choose whether to move the course up or down.")
    else:
        services.assignment_move(
            actor=request.user, assignment=assignment, offset=-1 if direction == "up" else 1
        )
        messages.success(request, f"Moved “{assignment.course.title}” {direction}.")
    return redirect(_plan_url(assignment.plan_id, f"assignment-{assignment.pk}"))


def _status_message(assignment: Assignment) -> str:
    text = f"“{assignment.course.title}” is now {assignment.get_status_display().lower()}"
    if assignment.completed_on:
        text += f" (completed on {date_format(assignment.completed_on, 'j M Y')})"
    return text + "."


def _form_errors_text(form: AssignmentStatusForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@login_required
@require_POST
def assignment_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one assignment's status.

    With htmx the answer is the row (with any error in it) plus the plan's
    progress block and a status message out-of-band; without JavaScript it
    redirects back to the plan with a message.
    """
    assignment = _assignment_for(request, pk)
    form = AssignmentStatusForm(request.POST)
    row_form, row_error, notice = None, "", ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assignment_set_status(
                actor=request.user,
                assignment=assignment,
                status=data["status"],
                completed_on=data["completed_on"],
                certification_earned_on=(
                    data["certification_earned_on"] if assignment.course.certification_id else None
                ),
                certification_expires_on=(
                    data["certification_expires_on"] if assignment.course.certification_id else None
                ),
                reason=data["reason"],
                expected_version=data["version"],
            )
        except StaleObjectError as error:
            row_error = _stale_message(error, data["version"], "assignment")
        except ValidationError as error:
            apply_service_errors(form, error)
            row_form = form
        else:
            notice = _status_message(assignment)
    else:
        row_form = form

    if row_form is not None:
        row_error = f"Not saved: {_form_errors_text(row_form)}"
    if row_error or row_form is not None:
        # The service may have changed the instance in memory before refusing.
        assignment = _assignment_for(request, pk)

    if not request.htmx:
        if notice:
            messages.success(request, notice)
        else:
            messages.error(request, row_error)
        return redirect(_plan_url(assignment.plan_id, f"assignment-{assignment.pk}"))

    context = {
        "a": assignment,
        "row_form": row_form,
        "row_error": row_error,
        "notice": notice,
        "status_choices": Assignment.Status.choices,
        "today": timezone.localdate(),
        **_plan_progress(request, assignment.plan_id),
    }
    return render(request, "onboarding/plans/_status_response.html", context)


# --- guidance ------------------------------------------------------------------------------


@login_required
@require_POST
def plan_guidance_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the manager's note and/or mark the guidance discussed (or not) with the hire."""
    item = get_object_or_404(
        PlanGuidance.objects.visible_to(request.user).select_related("guidance", "acknowledged_by"),
        pk=pk,
    )
    note, discussed, error, expected, draft = None, None, "", None, None
    if "manager_note" in request.POST:
        form = PlanGuidanceNoteForm(request.POST)
        if form.is_valid():
            note, expected = form.cleaned_data["manager_note"], form.cleaned_data["version"]
        else:
            error = _form_errors_text(form)
    if "discussed" in request.POST:
        discussed = request.POST["discussed"].lower() in TRUE_VALUES
    if note is None and discussed is None and not error:
        error = "Nothing to save: write a note or mark the guidance discussed."

    notice = ""
    if not error:
        try:
            services.plan_guidance_update(
                actor=request.user,
                plan_guidance=item,
                manager_note=note,
                discussed=discussed,
                expected_version=expected,
            )
        except StaleObjectError as error_:
            error = _stale_message(error_, expected, "guidance note")
            # Show the note now saved beside the person's own text, which stays in the box.
            item, draft = error_.current, note
    if not error:
        if note is not None:
            notice = f"Note saved on “{item.guidance.title}”."
        elif discussed:
            notice = f"“{item.guidance.title}” marked as discussed with the hire."
        else:
            notice = f"“{item.guidance.title}” marked as not yet discussed."

    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect(_plan_url(item.plan_id, f"guidance-{item.pk}"))
    return render(
        request,
        "onboarding/plans/_guidance_response.html",
        {
            "pg": item,
            "notice": notice,
            "error": error,
            "draft": draft,
            "note_saved": note is not None and not error,
        },
        status=409 if draft is not None else 200,
    )


@login_required
@require_POST
def plan_guidance_attach(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    form = GuidanceAttachForm(request.POST, plan=plan)
    if form.is_valid():
        attached = services.guidance_attach(plan=plan, guidance=form.cleaned_data["guidance"])
        messages.success(request, f"Attached “{attached.guidance.title}” to the plan.")
        return redirect(_plan_url(plan.pk, f"guidance-{attached.pk}"))
    messages.error(request, "Choose guidance from the library that is not attached yet.")
    return redirect(_plan_url(plan.pk, "guidance"))


urlpatterns = [
    path("hires/<int:hire_pk>/plans/new/", plan_create, name="plan_create"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plan_edit, name="plan_edit"),
    path("plans/<int:pk>/assignments/add/", assignment_add, name="assignment_add"),
    path("plans/<int:pk>/guidance/attach/", plan_guidance_attach, name="plan_guidance_attach"),
    path("assignments/<int:pk>/status/", assignment_status, name="assignment_status"),
    path("assignments/<int:pk>/edit/", assignment_edit, name="assignment_edit"),
    path("assignments/<int:pk>/remove/", assignment_remove, name="assignment_remove"),
    path("assignments/<int:pk>/move/", assignment_move, name="assignment_move"),
    path("plan-guidance/<int:pk>/", plan_guidance_update, name="plan_guidance_update"),
]
