"""The hire's own pages (/me/) and the invitation link that lets them in.

Everything is looked up through the signed-in hire's own account: another hire's
assignment or check-in is a 404, like anything else outside /me/ (the
HireAreaMiddleware). Writes go through the same services as the manager's, so
the change history records the hire as the one who made the change.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..forms.me import (
    EvidenceForm,
    FeedbackForm,
    InvitationPasswordForm,
    NotePreferenceForm,
    ProgressForm,
)
from ..forms.plans import apply_service_errors
from ..forms.ramp import SelfRatingForm
from ..models import CheckIn, PlanGuidance
from ..services import InvitationError, StaleObjectError, digest_preference_set
from ..staleness import stale_message


def _my_hire(request: HttpRequest):
    hire = selectors.hire_of_account(request.user)
    if hire is None:
        raise Http404
    return hire


def _back(anchor: str = "") -> HttpResponse:
    return redirect(reverse("onboarding:me") + (f"#{anchor}" if anchor else ""))


def _errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    hire = _my_hire(request)
    plans = selectors.my_plans(hire)
    for plan in plans:
        for assignment in plan.assignments.all():
            assignment.progress_form = ProgressForm(
                initial={
                    "status": assignment.status
                    if assignment.status in services.HIRE_REPORTABLE_STATUSES
                    else "",
                    "on": assignment.completed_on or assignment.scheduled_for,
                    "version": assignment.version,
                },
                prefix=f"a{assignment.pk}",
            )
    return render(
        request,
        "onboarding/me/plan.html",
        {
            "hire": hire,
            "plans": plans,
            "guidance": selectors.my_guidance(hire),
            "check_ins": selectors.my_check_ins(hire),
            "evidence_form": EvidenceForm(),
            "preference_form": NotePreferenceForm(
                initial={"receives_digest": request.user.receives_digest}
            ),
        },
    )


@login_required
@require_POST
def me_progress(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(selectors.my_assignment(request.user, pk))
    form = ProgressForm(request.POST, prefix=f"a{assignment.pk}")
    if form.is_valid():
        try:
            services.assignment_report_progress(
                actor=request.user,
                assignment=assignment,
                status=form.cleaned_data["status"],
                on=form.cleaned_data["on"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleObjectError as error:
            messages.error(
                request,
                stale_message(error.current, form.cleaned_data["version"], "course", error.changed),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            assignment.refresh_from_db()
            messages.success(
                request, f"{assignment.course.title}: {assignment.get_status_display().lower()}."
            )
    else:
        messages.error(request, f"{assignment.course.title} was not changed: {_errors(form)}")
    return _back(f"assignment-{assignment.pk}")


@login_required
@require_POST
def me_evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(selectors.my_assignment(request.user, pk))
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.evidence_add(
                actor=request.user, assignment=assignment, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            messages.error(request, f"Nothing was attached: {' '.join(error.messages)}")
        else:
            messages.success(request, f"Attached to {assignment.course.title}.")
    else:
        messages.error(request, f"Nothing was attached: {_errors(form)}")
    return _back(f"assignment-{assignment.pk}")


@login_required
@require_POST
def me_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(selectors.my_assignment(request.user, pk))
    form = FeedbackForm(request.POST, prefix=f"f{assignment.pk}")
    if form.is_valid():
        try:
            services.course_feedback_submit(
                actor=request.user,
                assignment=assignment,
                usefulness=form.cleaned_data["usefulness"],
                apply_here=form.cleaned_data["apply_here"],
                does_not_fit=form.cleaned_data["does_not_fit"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Thank you: your feedback on {assignment.course.title}.")
    else:
        messages.error(request, f"Your feedback was not saved: {_errors(form)}")
    return _back(f"assignment-{assignment.pk}")


@login_required
@require_POST
def me_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    attached = get_object_or_404(
        PlanGuidance.objects.filter(plan__hire__account=request.user).select_related("guidance"),
        pk=pk,
    )
    services.plan_guidance_update(actor=request.user, plan_guidance=attached, discussed=True)
    messages.success(request, f"“{attached.guidance.title}”: marked as read.")
    return _back(f"guidance-{attached.pk}")


@login_required
@require_POST
def me_preferences(request: HttpRequest) -> HttpResponse:
    _my_hire(request)
    form = NotePreferenceForm(request.POST)
    if form.is_valid():
        wanted = form.cleaned_data["receives_digest"]
        digest_preference_set(user=request.user, receives_digest=wanted)
        on = "on" if request.user.receives_digest else "off"
        messages.success(request, f"Weekly note turned {on}.")
    return _back("preferences")


@login_required
@require_http_methods(["GET", "POST"])
def me_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    check_in = get_object_or_404(
        CheckIn.objects.filter(hire__account=request.user, hire__archived_at__isnull=True),
        pk=pk,
    )
    rows = selectors.check_in_rows(check_in)
    if request.method == "POST":
        form = SelfRatingForm(request.POST, rows=rows)
        if form.is_valid():
            try:
                services.check_in_rate_self(
                    actor=request.user, check_in=check_in, levels=form.levels()
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "Your own ratings were saved.")
                return _back(f"check-in-{check_in.pk}")
    else:
        form = SelfRatingForm(
            initial={f"level_{row.competency.pk}": row.self_level for row in rows}, rows=rows
        )
    if check_in.completed_at is not None:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "onboarding/me/check_in.html",
        {"check_in": check_in, "hire": check_in.hire, "form": form, "rows": form.bound_rows()},
    )


# --- the invitation link (no sign-in) ------------------------------------------------------

INVITATION_PROBLEMS = {
    "unknown": "This link is not valid. Check that you copied the whole link from the email.",
    "used": "This link was already used. Sign in with the password you chose.",
    "revoked": "This link no longer works: your manager sent a newer one or withdrew it.",
    "expired": "This link has expired. Ask your manager to send a new one.",
}


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_check(token=token)
    except InvitationError as error:
        return render(
            request,
            "onboarding/me/invitation_problem.html",
            {"problem": INVITATION_PROBLEMS[error.state], "state": error.state},
            status=404 if error.state == "unknown" else 410,
        )
    account = invitation.hire.account
    form = InvitationPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(token=token, password=form.cleaned_data["new_password1"])
        except InvitationError as error:
            return render(
                request,
                "onboarding/me/invitation_problem.html",
                {"problem": INVITATION_PROBLEMS[error.state], "state": error.state},
                status=410,
            )
        except ValidationError as error:
            form.add_error("new_password2", error)
        else:
            account.refresh_from_db()
            login(request, account, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome. This is your onboarding plan.")
            return redirect("onboarding:me")
    return render(
        request,
        "onboarding/me/invitation.html",
        {"form": form, "hire": invitation.hire, "username": account.username},
    )


urlpatterns = [
    path("me/", me, name="me"),
    path("me/assignments/<int:pk>/progress/", me_progress, name="me_progress"),
    path("me/assignments/<int:pk>/evidence/", me_evidence_add, name="me_evidence_add"),
    path("me/assignments/<int:pk>/feedback/", me_feedback, name="me_feedback"),
    path("me/guidance/<int:pk>/read/", me_acknowledge, name="me_acknowledge"),
    path("me/check-ins/<int:pk>/", me_check_in, name="me_check_in"),
    path("me/preferences/", me_preferences, name="me_preferences"),
    path("invitations/<str:token>/", invitation_accept, name="invitation_accept"),
]
