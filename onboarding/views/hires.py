"""Hire pages: the list (also shown on the home page), create, edit, detail, archive."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import BooleanField, ExpressionWrapper, F, Model, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from .. import services
from ..filters import HireFilterSet
from ..forms.hires import HireForm
from ..forms.plans import apply_service_errors
from ..models import (
    Assignment,
    Course,
    Guidance,
    HeldCertification,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    RoleProfile,
    TrainingPlan,
    User,
)
from ..rules import can_view_all, overdue_q

PER_PAGE = 50
HISTORY_SHOWN = 50
# Upper bound of history rows read per model for one hire: keeps the page cheap even
# for a hire edited thousands of times (the oldest changes then show without detail).
HISTORY_ROWS_PER_MODEL = 500


# --- the hires table ---------------------------------------------------------------------


def hire_table(request: HttpRequest, per_page: int = PER_PAGE) -> dict:
    """The filtered, sorted, paginated hires table, in a fixed number of queries.

    Picks the page first, then aggregates: the paginator counts the plain filtered
    hire rows, one query takes the page's ids in order, one aggregates progress and
    health for those ids only, and one finds each hire's next due assignment.
    """
    today = timezone.localdate()
    hire_filter = HireFilterSet(
        request.GET, queryset=NewHire.objects.visible_to(request.user), request=request
    )
    filtered = hire_filter.qs
    # The id is the tie-breaker so pages never overlap or skip rows.
    ordering = list(filtered.query.order_by) or list(NewHire._meta.ordering)
    ids = filtered.order_by(*ordering, "pk").values_list("pk", flat=True)
    paginator = Paginator(ids, per_page)
    page = paginator.get_page(request.GET.get("page"))
    page_ids = list(page.object_list)

    rows: list[NewHire] = []
    if page_ids:
        hires = (
            NewHire.objects.filter(pk__in=page_ids)
            .with_progress(today)
            .select_related("role_profile", "hiring_manager")
        )
        by_id = {hire.pk: hire for hire in hires}
        next_due = _next_due_items(page_ids, today)
        for pk in page_ids:
            hire = by_id[pk]
            hire.next_due = next_due.get(pk)
            rows.append(hire)
    return {
        "filter": hire_filter,
        "page_obj": page,
        "hires": rows,
        "show_manager": can_view_all(request.user),
        # Any parameter but paging and sorting narrows the list (empty-state wording).
        "filtered": any(v for k, v in request.GET.items() if k not in ("page", "sort")),
    }


@dataclass(frozen=True)
class NextDue:
    """A hire's earliest-due open assignment, as the hires table shows it."""

    course_title: str
    due_date: datetime.date
    is_overdue: bool


def _next_due_items(hire_ids: list[int], today: datetime.date) -> dict[int, NextDue]:
    """The earliest-due open assignment of each hire, in one query (a window function).

    Three columns rather than model instances: building 50 assignments and their
    courses was a third of the hires table's time.
    """
    rows = (
        Assignment.objects.open()
        .filter(plan__hire_id__in=hire_ids)
        .annotate(
            hire_id=F("plan__hire_id"),
            rank=Window(
                RowNumber(),
                partition_by=[F("plan__hire_id")],
                order_by=[F("due_date").asc(), F("position").asc(), F("pk").asc()],
            ),
            overdue=ExpressionWrapper(overdue_q(today), output_field=BooleanField()),
        )
        .filter(rank=1)
        .values_list("hire_id", "course__title", "due_date", "overdue")
    )
    return {
        hire_id: NextDue(course_title=title, due_date=due, is_overdue=bool(overdue))
        for hire_id, title, due, overdue in rows
    }


@login_required
def hire_list(request: HttpRequest) -> HttpResponse:
    return render(request, "onboarding/hires/list.html", hire_table(request))


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


def _display(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.date):
        return date_format(value, "j M Y")
    return Truncator(str(value)).chars(60)


def _stale_message(form: HireForm, error: services.StaleObjectError) -> str:
    parts = []
    for name in error.changed:
        model_field = NewHire._meta.get_field(name)
        yours = form.cleaned_data.get(name, error.changed[name][0])
        saved = getattr(error.current, name)
        parts.append(
            f"{model_field.verbose_name.capitalize()}: yours “{_display(yours)}”, "
            f"saved “{_display(saved)}”"
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


# --- detail and history ------------------------------------------------------------------


@login_required
def hire_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hire = get_object_or_404(
        NewHire.objects.visible_to(request.user).select_related("role_profile", "hiring_manager"),
        pk=pk,
    )
    plans = list(
        TrainingPlan.objects.filter(hire=hire)
        .with_progress()
        .with_overdue_count()
        .select_related("owner", "template")
        .order_by("-created_at", "-pk")
    )
    certifications = list(
        HeldCertification.objects.filter(hire=hire)
        .select_related("certification")
        .order_by("-earned_on", "pk")
    )
    history = hire_history(hire)
    return render(
        request,
        "onboarding/hires/detail.html",
        {
            "hire": hire,
            "plans": plans,
            "certifications": certifications,
            "history": history[:HISTORY_SHOWN],
            "history_total": len(history),
            "show_manager": can_view_all(request.user),
        },
    )


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: User | None
    kind: str  # hire, plan, assignment, guidance
    subject: str
    action: str  # added, changed, removed
    changes: list[tuple[str, str, str]] = field(default_factory=list)


# Bookkeeping columns that change on every save and say nothing to a reader.
_HISTORY_SKIP = {"id", "version", "created_at", "updated_at", "body", "attached_at"}
_ACTIONS = {"+": "added", "~": "changed", "-": "removed"}
# Rows whose creation left no history (the database trigger attaches the "mileage may
# vary" guidance in SQL): their first change is compared with the state they start in.
_BASELINES = {
    PlanGuidance: {"manager_note": "", "acknowledged_at": None, "acknowledged_by_id": None},
}
_LABELS = {
    "acknowledged_at": "Discussed with the hire",
    "acknowledged_by": "Marked discussed by",
    "manager_note": "Manager's note",
}


def _tracked(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if f.attname not in _HISTORY_SKIP]


def _records(queryset, limit: int = HISTORY_ROWS_PER_MODEL) -> list:
    rows = list(
        queryset.select_related("history_user").order_by("-history_date", "-history_id")[:limit]
    )
    rows.reverse()
    return rows


def hire_history(hire: NewHire) -> list[HistoryEntry]:
    """Who changed what and when, for the hire and its plans, assignments and guidance.

    Reads each history table once (removed plans included) and resolves the
    names behind foreign keys with one query per related model, so the number
    of queries does not depend on how much history there is.
    """
    hire_rows = _records(NewHire.history.filter(id=hire.pk))
    plan_rows = _records(TrainingPlan.history.filter(hire_id=hire.pk))
    plan_ids = {row.id for row in plan_rows}
    assignment_rows = _records(Assignment.history.filter(plan_id__in=plan_ids))
    guidance_rows = _records(PlanGuidance.history.filter(plan_id__in=plan_ids))

    plan_titles: dict[int, str] = {row.id: row.title for row in plan_rows}
    names = _NameLookup()
    for model, rows in (
        (NewHire, hire_rows),
        (TrainingPlan, plan_rows),
        (Assignment, assignment_rows),
        (PlanGuidance, guidance_rows),
    ):
        names.collect(model, rows)
    names.resolve(plan_titles)

    entries: list[HistoryEntry] = []
    entries += _entries(NewHire, hire_rows, "hire", lambda r: "Hire", names)
    entries += _entries(TrainingPlan, plan_rows, "plan", lambda r: f"Plan “{r.title}”", names)
    entries += _entries(
        Assignment,
        assignment_rows,
        "assignment",
        lambda r: (
            f"{names.get('course_id', r.course_id)} in “{plan_titles.get(r.plan_id, 'a plan')}”"
        ),
        names,
    )
    entries += _entries(
        PlanGuidance,
        guidance_rows,
        "guidance",
        lambda r: (
            f"Guidance “{names.get('guidance_id', r.guidance_id)}” on "
            f"“{plan_titles.get(r.plan_id, 'a plan')}”"
        ),
        names,
    )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


class _NameLookup:
    """Display names for foreign-key ids found in history rows: one query per model."""

    MODELS = {
        "role_profile_id": RoleProfile,
        "hiring_manager_id": User,
        "owner_id": User,
        "acknowledged_by_id": User,
        "course_id": Course,
        "template_id": PlanTemplate,
        "guidance_id": Guidance,
    }

    def __init__(self) -> None:
        self.wanted: dict[type[Model], set[int]] = {}
        self.names: dict[type[Model], dict[int, str]] = {}
        self.plan_titles: dict[int, str] = {}

    def collect(self, model: type[Model], rows: Iterable) -> None:
        for attname, related in self.MODELS.items():
            if not any(f.attname == attname for f in model._meta.concrete_fields):
                continue
            ids = {getattr(row, attname) for row in rows} - {None}
            self.wanted.setdefault(related, set()).update(ids)

    def resolve(self, plan_titles: dict[int, str]) -> None:
        self.plan_titles = plan_titles
        for related, ids in self.wanted.items():
            if ids:
                self.names[related] = {
                    obj.pk: str(obj) for obj in related.objects.filter(pk__in=ids)
                }

    def get(self, attname: str, value: object) -> str:
        if value is None:
            return "—"
        if attname == "plan_id":
            return self.plan_titles.get(value, f"plan #{value}")
        if attname == "hire_id":
            return "this hire"
        related = self.MODELS.get(attname)
        if related is None:
            return str(value)
        if related is Course:
            # Course titles read better without the provider in a sentence.
            name = self.names.get(related, {}).get(value)
            return name.rsplit(" (", 1)[0] if name else f"course #{value}"
        return self.names.get(related, {}).get(value, f"#{value} (removed)")


def _value(model_field, attname: str, value: object, names: _NameLookup) -> str:
    if attname in _NameLookup.MODELS or attname in ("plan_id", "hire_id"):
        return names.get(attname, value)
    if model_field.choices and value is not None:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j M Y, H:i")
    return _display(value)


def _entries(model, rows: list, kind: str, subject, names: _NameLookup) -> list[HistoryEntry]:
    fields = _tracked(model)
    baseline = _BASELINES.get(model)
    previous: dict[int, object] = {}
    entries = []
    for row in rows:
        before = previous.get(row.id)
        changes = []
        if row.history_type == "~" and (before is not None or baseline is not None):
            for model_field in fields:
                attname = model_field.attname
                if before is not None:
                    old = getattr(before, attname)
                elif attname in baseline:
                    old = baseline[attname]
                else:
                    continue
                new = getattr(row, attname)
                if old != new:
                    label = _LABELS.get(model_field.name, str(model_field.verbose_name))
                    changes.append(
                        (
                            label[:1].upper() + label[1:],
                            _value(model_field, attname, old, names),
                            _value(model_field, attname, new, names),
                        )
                    )
        previous[row.id] = row
        if row.history_type == "~" and (before is not None or baseline) and not changes:
            continue  # a save that changed nothing a reader cares about
        entries.append(
            HistoryEntry(
                when=row.history_date,
                who=row.history_user,
                kind=kind,
                subject=subject(row),
                action=_ACTIONS.get(row.history_type, "changed"),
                changes=changes,
            )
        )
    return entries


urlpatterns = [
    path("hires/", hire_list, name="hire_list"),
    path("hires/new/", hire_create, name="hire_create"),
    path("hires/<int:pk>/", hire_detail, name="hire_detail"),
    path("hires/<int:pk>/edit/", hire_edit, name="hire_edit"),
    path("hires/<int:pk>/archive/", hire_archive, name="hire_archive"),
    path("hires/<int:pk>/unarchive/", hire_unarchive, name="hire_unarchive"),
]
