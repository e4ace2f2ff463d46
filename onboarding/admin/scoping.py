"""What every onboarding admin shares: scoping, history guards, versions, columns, filters.

Three rules shape the whole admin package:

* Scoping comes from `querysets.visible_to`: every hire-related admin's
  `get_queryset` and every foreign-key choice (select boxes and autocomplete
  results alike) goes through it, so a hiring manager who is staff never sees
  another manager's hire, plan, assignment, certification or guidance. The
  change history views are guarded the same way (simple-history would
  otherwise fall back to the historical copy of an object the user may not see).
* Rules about *which rows* (overdue, health) come from rules.py; nothing
  here re-defines them.
* Every write goes through services.py, as the dashboard's do: the change
  forms, inline rows, actions and template expansion call the same service
  functions (so waiving needs a reason here too, completing records the
  certification, every write bumps `version` and records who made it).
  A change form locks its row while it checks the version the person saw, and
  the lock holds until the admin's transaction ends: of two saves of the same
  version exactly one goes through; the other is refused with what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .. import exports, selectors, services
from ..models import Assignment, HeldCertification, PlanGuidance, TrainingPlan, User
from ..rules import (
    AT_RISK_WINDOW_DAYS,
    HEALTH_LABELS,
    HEALTH_RULES,
    Health,
    can_view_all,
    due_within_q,
    health_rank_expression,
    manager_candidates,
    overdue_q,
)
from ..staleness import stale_message

# Set on the request by ScopedAdmin.get_form so that foreign-key choices can keep
# the object's current value (for example an inactive hiring manager).
_ADMIN_OBJECT_ATTR = "_onboarding_admin_object"


# --- helpers -------------------------------------------------------------------------------


def export_csv_action(export_name: str) -> Callable:
    """ "Export selected as CSV" through the dashboard's exporter (same columns, same
    formula-safe cells); the queryset is already scoped by the admin's get_queryset."""

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_selected(modeladmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        rows = selectors.selected_rows(export_name, queryset)
        return exports.stream_response(export_name, rows)

    return export_selected


def is_admin_view(request: HttpRequest, model: type[Model], view: str) -> bool:
    """Whether this request is the admin's `view` (changelist, change, ...) for `model`."""
    match = getattr(request, "resolver_match", None)
    name = f"{model._meta.app_label}_{model._meta.model_name}_{view}"
    return match is not None and match.url_name == name


def scoped_choices(
    db_field: Any, request: HttpRequest, obj: Model | None = None
) -> QuerySet | None:
    """The rows `request.user` may pick for a foreign key, or None for "no scoping".

    Hire-related models are limited by `visible_to`. Users (hiring manager, plan
    owner) are limited to the requesting user for anyone but people-ops, plus
    the value the object already has so that editing it does not fail: the one
    rule of rules.manager_candidates.
    """
    remote = db_field.remote_field.model
    user = request.user
    if remote is User:
        current_id = getattr(obj, db_field.attname, None) if obj is not None else None
        current = User.objects.filter(pk=current_id).first() if current_id else None
        return manager_candidates(user, current)
    queryset = remote._default_manager.all()
    if hasattr(queryset, "visible_to"):
        queryset = queryset.visible_to(user)
        # Their __str__ follows these relations: one query for the whole list.
        if remote is TrainingPlan:
            queryset = queryset.select_related("hire")
        elif remote is Assignment:
            queryset = queryset.select_related("course", "plan__hire")
        elif remote is HeldCertification:
            queryset = queryset.select_related("certification", "hire")
        return queryset
    return None


def health_badge(value: str | None) -> str:
    if not value:
        return "-"
    return format_html(
        '<span class="health health-{}" title="{}">{}</span>',
        value,
        HEALTH_RULES.get(value, ""),
        HEALTH_LABELS.get(value, value),
    )


def progress_text(obj: Any) -> str:
    percent = getattr(obj, "percent_complete", None)
    if percent is None:
        return "-"
    done = obj.completed_count + obj.waived_count
    return f"{percent}% ({done}/{obj.total_count})"


def adopt(obj: Model, saved: Model) -> None:
    """Make the admin's unsaved `obj` the row a service created.

    The admin keeps working with its own instance after save_model (inline
    formsets are bound to it, the log entry names it), so it takes over the
    saved row's values and state.
    """
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def report(
    request: HttpRequest,
    *,
    done: int,
    verb: str,
    skipped: int = 0,
    skip_reason: str = "",
    failed: list[str] | None = None,
) -> None:
    """One message per outcome, so a partly failed action says what happened to each part."""
    if done:
        messages.success(request, f"{done} {'item' if done == 1 else 'items'} {verb}.")
    if skipped:
        messages.info(request, f"{skipped} skipped: {skip_reason}.")
    for failure in failed or []:
        messages.error(request, failure)
    if not (done or skipped or failed):
        messages.info(request, "Nothing changed.")


def error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


def apply_to_each(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    apply: Callable[[Any], object],
    skip: Callable[[Any], bool],
    verb: str,
    skip_reason: str,
) -> None:
    """Run a service on each selected row, then report once per outcome.

    A row the service refuses (a model rule, a newer save) is reported by name
    while the others still go through: one bad row never ends in a 500.
    """
    done, skipped, failed = 0, 0, []
    for obj in queryset:
        if skip(obj):
            skipped += 1
            continue
        try:
            apply(obj)
        except (ValidationError, services.StaleObjectError) as error:
            failed.append(f"{obj}: {error_text(error)}")
        else:
            done += 1
    report(request, done=done, verb=verb, skipped=skipped, skip_reason=skip_reason, failed=failed)


# --- forms ---------------------------------------------------------------------------------


class VersionedAdminForm(forms.ModelForm):
    """Refuses to save over a change someone else made after this form was opened.

    The check locks the row (the admin runs each change form in a transaction,
    so the lock lasts until the save is in) and names what the other person
    changed. Inline rows use it too.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    check_version = True
    noun = "record"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        expected = cleaned.get("expected_version")
        # An unchanged row (an inline the person did not touch) has nothing to lose.
        edited = any(name != "expected_version" for name in self.changed_data)
        if self.check_version and self.instance.pk and expected is not None and edited:
            try:
                services.lock_current(self.instance, expected)
            except services.StaleObjectError as error:
                raise ValidationError(
                    stale_message(error.current, expected, self.noun, error.changed),
                    code="stale",
                ) from None
            except type(self.instance).DoesNotExist:
                raise ValidationError("Someone else deleted this record.", code="gone") from None
        return cleaned

    def expected(self) -> int | None:
        """The version to hand to the service (None when saving an old copy on purpose)."""
        return self.cleaned_data.get("expected_version") if self.check_version else None


# --- list filters --------------------------------------------------------------------------


class HealthFilter(admin.SimpleListFilter):
    """Filters on the `health` annotation of with_progress() (ProgressChangeList adds it)."""

    title = "health"
    parameter_name = "health"
    include_no_plan = True

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (value, label)
            for value, label in Health.choices
            if value != Health.NO_PLAN or self.include_no_plan
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in Health.values:
            return queryset.filter(health=self.value())
        return queryset


class PlanHealthFilter(HealthFilter):
    include_no_plan = False


class OverdueFilter(admin.SimpleListFilter):
    """Overdue as rules.overdue_q defines it, plus "due soon"."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("yes", "Overdue"),
            ("soon", f"Due within {AT_RISK_WINDOW_DAYS} days"),
            ("no", "Not overdue"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(overdue_q())
        if self.value() == "soon":
            return queryset.filter(due_within_q(AT_RISK_WINDOW_DAYS))
        if self.value() == "no":
            return queryset.exclude(overdue_q())
        return queryset


class DiscussedFilter(admin.SimpleListFilter):
    title = "discussed with the hire"
    parameter_name = "discussed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Discussed"), ("no", "Not yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "no")
        return queryset


# --- base admin classes --------------------------------------------------------------------


class ProgressChangeList(ChangeList):
    """A changelist whose health and progress columns come from `with_progress()`.

    Annotating the whole list makes the database join, group and count every
    assignment before it can take one page, and the paginator's count and the
    date hierarchy pay the same again (1.6 s for 10,000 hires on SQLite). So
    the page is chosen on the plain table and only its rows are aggregated, in
    one more query. Filtering or sorting on health/progress needs every row's
    value, and only then is the whole list annotated.
    """

    progress_columns = frozenset({"health", "progress", "plan_count"})

    def _needs_progress_on_every_row(self, request: HttpRequest) -> bool:
        if request.GET.get(HealthFilter.parameter_name):
            return True
        ordered = self.get_ordering_field_columns()
        columns = {self.list_display[i] for i in ordered if 0 <= i < len(self.list_display)}
        return bool(columns & self.progress_columns)

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        if self._needs_progress_on_every_row(request) and not hasattr(self, "_annotated"):
            self._annotated = True
            self.root_queryset = self.root_queryset.with_progress().annotate(
                health_rank=health_rank_expression()
            )
        return super().get_queryset(request, exclude_parameters)

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        missing = [row.pk for row in rows if not hasattr(row, "health")]
        if missing:
            by_pk = selectors.with_progress_by_id(self.model._default_manager.all(), missing)
            for row in rows:
                row.__dict__.update(by_pk.get(row.pk, {}))
        self.result_list = rows


class ProgressColumnsMixin:
    """The progress and health columns of a hire or plan, from `with_progress()` values."""

    @admin.display(description="progress", ordering="percent_complete")
    def progress(self, obj: Model) -> str:
        return progress_text(obj)

    @admin.display(description="health", ordering="health_rank")
    def health(self, obj: Model) -> str:
        return health_badge(getattr(obj, "health", None))


class ProgressListMixin(ProgressColumnsMixin):
    """A changelist that aggregates progress for its page only (see ProgressChangeList)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ProgressChangeList


class ScopedAdmin(admin.ModelAdmin):
    """Rows and foreign-key choices limited by `visible_to(request.user)` where it exists."""

    # Relations that __str__ follows, for change pages and autocomplete results.
    # Not applied to the changelist: Django skips list_select_related when the
    # queryset already has a select_related, and the list needs more relations.
    str_select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(request.user)
        if self.str_select_related and not is_admin_view(request, self.model, "changelist"):
            queryset = queryset.select_related(*self.str_select_related)
        return queryset

    def get_form(self, request: HttpRequest, obj: Model | None = None, **kwargs: Any):
        setattr(request, _ADMIN_OBJECT_ATTR, obj)
        form = super().get_form(request, obj, **kwargs)
        if issubclass(form, VersionedAdminForm):
            # Reverting from the history page saves an old copy on purpose.
            form.check_version = not is_admin_view(request, self.model, "simple_history")
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if "queryset" not in kwargs:
            queryset = scoped_choices(db_field, request, getattr(request, _ADMIN_OBJECT_ATTR, None))
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedHistoryAdmin(ScopedAdmin, SimpleHistoryAdmin):
    """History in the admin, without simple-history's fallback that would show any row."""

    def _ensure_visible(self, request: HttpRequest, object_id: str) -> None:
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            raise Http404 from None
        # People-ops may read the history of a deleted row; nobody else sees
        # a row that get_queryset does not give them.
        if not can_view_all(request.user) and not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict | None = None,
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class KeepGuidanceOnCascadeMixin:
    """Deleting a plan (or hire) takes its guidance with it.

    Plan guidance itself can never be deleted in the admin, which would
    otherwise make every plan undeletable even for a superuser.
    """

    def get_deleted_objects(self, objs: Any, request: HttpRequest):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(PlanGuidance._meta.verbose_name)
        return deleted, counts, perms_needed, protected
