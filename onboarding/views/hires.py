"""Hire pages: the list (also shown on the home page), create, edit, detail, archive."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .. import caching, selectors, services
from ..forms.hires import HireBulkForm, HireForm
from ..forms.plans import apply_service_errors
from ..links import site_root
from ..models import NewHire
from ..rules import can_view_all
from ..selectors import display_value

# --- the hires table ---------------------------------------------------------------------


def hire_table_html(
    request: HttpRequest,
    *,
    heading: str = "Hires",
    today: datetime.date | None = None,
    bulk_actions: bool = False,
) -> dict:
    """The hires table this request asks for, rendered: cached until the data changes.

    A dict for onboarding/hires/_table.html: `html` (all but the bulk form's CSRF
    token), `has_rows`, `bulk` (the table offers bulk actions: asked for, and the viewer
    may change hires), and `active_hires` (the unfiltered count, which the home page's
    card reuses; None when filtered).
    """
    bulk = bulk_actions and request.user.has_perm("onboarding.change_newhire")

    def render_table() -> dict:
        table = selectors.hire_table(user=request.user, data=request.GET, today=today)
        if bulk:
            table["bulk_form"] = HireBulkForm(user=request.user)
        html = render_to_string(
            "onboarding/hires/_table_body.html", {**table, "table_heading": heading}, request
        )
        return {
            "html": html,  # a SafeString: the template escaped it
            "has_rows": bool(table["hires"]),
            "bulk": bulk,
            "active_hires": None if table["filtered"] else table["page_obj"].paginator.count,
        }

    return caching.cached_for_request(
        request,
        "hire-table",
        render_table,
        varies=f"{heading}|{bulk}|{caching.page_varies(request)}",
    )


@login_required
def hire_list(request: HttpRequest) -> HttpResponse:
    hire_table = hire_table_html(request, heading="Results", bulk_actions=True)
    return render(request, "onboarding/hires/list.html", {"hire_table": hire_table})


def _names(hires: list[NewHire]) -> str:
    shown = ", ".join(hire.full_name for hire in hires[:5])
    return shown + (f" and {len(hires) - 5} more" if len(hires) > 5 else "")


@login_required
@permission_required("onboarding.change_newhire", raise_exception=True)
@require_POST
def hire_bulk(request: HttpRequest) -> HttpResponse:
    """One action for the hires ticked in the list: the same services as one at a time,
    in one transaction (all or nothing), and a summary naming who changed."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("onboarding:hire_list")
    ids = {value for value in request.POST.getlist("hires") if value.isdigit()}
    hires = list(NewHire.objects.visible_to(request.user).filter(pk__in=ids).order_by("full_name"))
    if len(hires) != len(ids):
        raise Http404("Some of these hires do not exist or are someone else's.")
    form = HireBulkForm(request.POST, user=request.user)
    if not hires:
        messages.error(request, "Nothing changed: tick the hires first.")
        return redirect(back)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, f"Nothing changed: {problems}")
        return redirect(back)
    data = form.cleaned_data
    count = f"{len(hires)} hire{'s' if len(hires) != 1 else ''}"
    try:
        if data["action"] == "plan":
            services.hire_bulk_plan_create(
                actor=request.user, hires=hires, template=data["template"]
            )
            done = f"Gave {count} a plan from “{data['template']}”"
        elif data["action"] == "archive":
            services.hire_bulk_archive(actor=request.user, hires=hires)
            done = f"Archived {count}"
        else:
            services.hire_bulk_reassign(
                actor=request.user, hires=hires, hiring_manager=data["hiring_manager"]
            )
            done = f"Moved {count} to {data['hiring_manager']}"
    except ValidationError as error:
        messages.error(request, f"Nothing changed: {' '.join(error.messages)}")
        return redirect(back)
    messages.success(request, f"{done}: {_names(hires)}.")
    return redirect(back)


# --- create and edit ---------------------------------------------------------------------


@login_required
@permission_required("onboarding.add_newhire", raise_exception=True)
def hire_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = HireForm(request.POST, user=request.user)
        if form.is_valid():
            changes = form.changes()
            # A manager's new hire is theirs; people-ops pick the manager on the form.
            changes.setdefault("hiring_manager", request.user)
            try:
                hire = services.hire_create(actor=request.user, **changes)
            except ValidationError as error:
                apply_service_errors(form, error)
            except IntegrityError:
                # Two people adding the same email at the same moment.
                form.add_error("email", "Another hire already uses this email address.")
            else:
                messages.success(request, f"{hire.full_name} was added.")
                return redirect(hire)
        messages.error(request, "The hire was not saved. Correct the fields marked below.")
    else:
        form = HireForm(user=request.user)
    return render(request, "onboarding/hires/form.html", {"form": form, "hire": None})


def _stale_message(form: HireForm, error: services.StaleObjectError) -> str:
    parts = []
    for name in error.changed:
        model_field = NewHire._meta.get_field(name)
        yours = form.cleaned_data.get(name, error.changed[name][0])
        saved = getattr(error.current, name)
        parts.append(
            f"{model_field.verbose_name.capitalize()}: yours “{display_value(yours)}”, "
            f"saved “{display_value(saved)}”"
        )
    detail = "; ".join(parts) if parts else "the record was archived or restored"
    return (
        "Someone else saved this hire while you were editing, so your changes were not "
        f"saved. What differs — {detail}. Check the form and save again to keep yours."
    )


@login_required
@permission_required("onboarding.change_newhire", raise_exception=True)
def hire_edit(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(NewHire.objects.visible_to(request.user), pk=pk)
    if request.method == "POST":
        form = HireForm(request.POST, instance=hire, user=request.user)
        if form.is_valid():
            try:
                services.hire_update(
                    actor=request.user,
                    hire=hire,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.changes(),
                )
            except services.StaleObjectError as error:
                messages.error(request, _stale_message(form, error))
                # Keep the user's input, but against the version now saved, so a second
                # save is a deliberate overwrite rather than another refusal.
                data = request.POST.copy()
                data["expected_version"] = str(error.current.version)
                form = HireForm(data, instance=error.current, user=request.user)
                return render(
                    request,
                    "onboarding/hires/form.html",
                    {"form": form, "hire": error.current},
                    status=409,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            except IntegrityError:
                form.add_error("email", "Another hire already uses this email address.")
            else:
                messages.success(request, f"Changes to {hire.full_name} were saved.")
                return redirect(hire)
        messages.error(request, "The changes were not saved. Correct the fields marked below.")
        hire.refresh_from_db()
    else:
        form = HireForm(instance=hire, user=request.user)
    return render(request, "onboarding/hires/form.html", {"form": form, "hire": hire})


# --- archive -----------------------------------------------------------------------------


@login_required
@permission_required("onboarding.change_newhire", raise_exception=True)
@require_POST
def hire_archive(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(NewHire.objects.visible_to(request.user), pk=pk)
    services.hire_archive(actor=request.user, hire=hire)
    messages.success(
        request,
        f"{hire.full_name} was archived: hidden from the default lists, nothing deleted.",
    )
    return redirect(hire)


@login_required
@permission_required("onboarding.change_newhire", raise_exception=True)
@require_POST
def hire_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(NewHire.objects.visible_to(request.user), pk=pk)
    services.hire_unarchive(actor=request.user, hire=hire)
    messages.success(request, f"{hire.full_name} is active again.")
    return redirect(hire)


# --- the hire's own account --------------------------------------------------------------


@login_required
@permission_required("onboarding.change_newhire", raise_exception=True)
@require_POST
def hire_invite(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(NewHire.objects.visible_to(request.user), pk=pk)
    try:
        invitation, _token = services.invitation_send(
            actor=request.user, hire=hire, link_root=site_root(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Invitation sent to {hire.email}; the link works once, until "
            f"{invitation.expires_at:%d %b %Y}.",
        )
    return redirect(reverse("onboarding:hire_detail", args=[hire.pk]) + "#account")


@login_required
@permission_required("onboarding.change_newhire", raise_exception=True)
@require_POST
def hire_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(NewHire.objects.visible_to(request.user), pk=pk)
    if services.invitation_revoke(actor=request.user, hire=hire):
        messages.success(request, f"The invitation of {hire.full_name} was withdrawn.")
    else:
        messages.info(request, f"{hire.full_name} had no open invitation.")
    return redirect(reverse("onboarding:hire_detail", args=[hire.pk]) + "#account")


# --- detail and history ------------------------------------------------------------------


@login_required
def hire_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(selectors.hires_with_people(request.user), pk=pk)
    history = selectors.hire_history(hire)
    ramp = selectors.hire_ramp(hire)
    return render(
        request,
        "onboarding/hires/detail.html",
        {
            "hire": hire,
            "plans": selectors.hire_plans(hire),
            "certifications": selectors.hire_certifications(hire),
            "ramp": ramp,
            "invitation": hire.invitations.first(),
            "ramp_chart": ramp.chart(),
            "history": history[: selectors.HISTORY_SHOWN],
            "history_total": len(history),
            "show_manager": can_view_all(request.user),
        },
    )


urlpatterns = [
    path("hires/", hire_list, name="hire_list"),
    path("hires/new/", hire_create, name="hire_create"),
    path("hires/bulk/", hire_bulk, name="hire_bulk"),
    path("hires/<int:pk>/", hire_detail, name="hire_detail"),
    path("hires/<int:pk>/edit/", hire_edit, name="hire_edit"),
    path("hires/<int:pk>/archive/", hire_archive, name="hire_archive"),
    path("hires/<int:pk>/unarchive/", hire_unarchive, name="hire_unarchive"),
    path("hires/<int:pk>/invite/", hire_invite, name="hire_invite"),
    path(
        "hires/<int:pk>/invitation/revoke/", hire_invitation_revoke, name="hire_invitation_revoke"
    ),
]
