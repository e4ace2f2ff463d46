"""The Django admin: a workspace people-ops can use all day.

Three rules shape everything below:

* Scoping comes from `querysets.visible_to`: every hire-related admin's
  `get_queryset` and every foreign-key choice (select boxes and autocomplete
  results alike) goes through it, so a hiring manager who is staff never sees
  another manager's hire, plan, assignment, certification or guidance. The
  change history views are guarded the same way (simple-history would
  otherwise fall back to the historical copy of an object the user may not see).
* Rules about *which rows* (overdue, health) come from querysets.py; nothing
  here re-defines them.
* State changes with business rules (complete, waive, archive, attaching
  guidance) go through services.py. Plain field edits are saved by the admin
  itself after the ModelForm has run `full_clean` (model `clean()` and the
  database constraints), and they bump `version` so the dashboard's optimistic
  concurrency notices an edit made here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, IntegerField, Model, Q, QuerySet, Value, When
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import catalog, services
from .models import (
    Assignment,
    Certification,
    Course,
    Guidance,
    HeldCertification,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleProfile,
    TrainingPlan,
    User,
)
from .querysets import AT_RISK_WINDOW_DAYS, HEALTH_RULES, can_view_all, due_within_q, overdue_q

admin.site.site_header = "Onboarding tracker"
admin.site.site_title = "Onboarding tracker admin"
admin.site.index_title = "People-ops workspace"

HEALTH_LABELS = {
    "overdue": "Overdue",
    "at_risk": "At risk",
    "no_plan": "No plan",
    "on_track": "On track",
    "complete": "Complete",
}
# Sorting the health column puts the rows that need attention first.
HEALTH_RANK = Case(
    *(When(health=value, then=Value(rank)) for rank, value in enumerate(HEALTH_LABELS)),
    default=Value(len(HEALTH_LABELS)),
    output_field=IntegerField(),
)

# Set on the request by ScopedAdmin.get_form so that foreign-key choices can keep
# the object's current value (for example an inactive hiring manager).
_ADMIN_OBJECT_ATTR = "_onboarding_admin_object"


# --- helpers -------------------------------------------------------------------------------


def _is_view(request: HttpRequest, model: type[Model], view: str) -> bool:
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
    the value the object already has so that editing it does not fail.
    """
    remote = db_field.remote_field.model
    user = request.user
    if remote is User:
        current = getattr(obj, db_field.attname, None) if obj is not None else None
        keep = Q(pk=current) if current else Q()
        allowed = Q(is_active=True) if can_view_all(user) else Q(pk=user.pk)
        return User.objects.filter(allowed | keep).order_by("first_name", "last_name", "username")
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


def _bump_version(obj: Model) -> None:
    """Next version from the database row, so a revert from history never goes backwards."""
    current = type(obj)._default_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
    obj.version = (current if current is not None else obj.version) + 1


def _record_certification(assignment: Assignment) -> None:
    """Mirror services.assignment_set_status: a certification date makes a held certification."""
    certification_id = assignment.course.certification_id
    if assignment.certification_earned_on and certification_id:
        HeldCertification.objects.get_or_create(
            hire_id=assignment.plan.hire_id,
            certification_id=certification_id,
            earned_on=assignment.certification_earned_on,
            defaults={"assignment": assignment},
        )


def _report(
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


# --- forms ---------------------------------------------------------------------------------


class VersionedAdminForm(forms.ModelForm):
    """Refuses to save over a change someone else made after this form was opened."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    check_version = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        expected = cleaned.get("expected_version")
        if self.check_version and self.instance.pk and expected is not None:
            current = (
                type(self.instance)
                ._default_manager.filter(pk=self.instance.pk)
                .values_list("version", flat=True)
                .first()
            )
            if current is not None and current != expected:
                raise ValidationError(
                    "Someone else saved this record after you opened it. Open it again to "
                    "see their changes, then make yours.",
                    code="stale",
                )
        return cleaned


class WaiveForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in each assignment's notes.",
    )


WAIVE_LIST_LIMIT = 50
WAIVE_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load admin_urls %}
{% block bodyclass %}{{ block.super }} app-{{ opts.app_label }}
 model-{{ opts.model_name }}{% endblock %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url 'admin:app_list' app_label=opts.app_label %}">
{{ opts.app_config.verbose_name }}</a>
&rsaquo; <a href="{% url opts|admin_urlname:'changelist' %}">
{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; Waive
</div>{% endblock %}
{% block content %}
<p>Waive {{ assignments|length }} assignment{{ assignments|length|pluralize }}? Waived courses
no longer count towards the plan's progress. Say why: the reason is kept in the notes.</p>
<ul>{% for assignment in shown %}
<li>{{ assignment.course.title }} for {{ assignment.plan.hire }} (due {{ assignment.due_date }},
{{ assignment.get_status_display|lower }})</li>{% endfor %}
{% if more %}<li>and {{ more }} more</li>{% endif %}
</ul>
<form method="post">{% csrf_token %}
{% if form.errors %}<p class="errornote">Give a reason to waive these courses.</p>{% endif %}
<fieldset class="module aligned">
<div class="form-row">{{ form.reason.errors }}{{ form.reason.label_tag }} {{ form.reason }}
<div class="help">{{ form.reason.help_text }}</div></div>
</fieldset>
{% for assignment in assignments %}
<input type="hidden" name="{{ action_checkbox_name }}" value="{{ assignment.pk }}">{% endfor %}
<input type="hidden" name="select_across" value="{{ select_across }}">
<input type="hidden" name="action" value="waive_selected">
<input type="hidden" name="post" value="yes">
<div class="submit-row">
<input type="submit" class="default" value="Waive">
<a href="{% url opts|admin_urlname:'changelist' %}" class="button cancel-link">No, take me back</a>
</div>
</form>
{% endblock %}"""
)


# --- list filters --------------------------------------------------------------------------


class ArchivedFilter(admin.SimpleListFilter):
    """Archived hires are hidden unless asked for, as on the dashboard."""

    title = "status"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Active"), ("yes", "Archived"), ("all", "All")]

    def choices(self, changelist: Any):
        value = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or "no"
        if value == "no":
            return queryset.filter(archived_at__isnull=True)
        if value == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class HealthFilter(admin.SimpleListFilter):
    """Filters on the `health` annotation of with_progress() (ProgressChangeList adds it)."""

    title = "health"
    parameter_name = "health"
    include_no_plan = True

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (value, label)
            for value, label in HEALTH_LABELS.items()
            if value != "no_plan" or self.include_no_plan
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in HEALTH_LABELS:
            return queryset.filter(health=self.value())
        return queryset


class PlanHealthFilter(HealthFilter):
    include_no_plan = False


class OverdueFilter(admin.SimpleListFilter):
    """Overdue as querysets.overdue_q defines it, plus "due soon"."""

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
                health_rank=HEALTH_RANK
            )
        return super().get_queryset(request, exclude_parameters)

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        missing = [row.pk for row in rows if not hasattr(row, "health")]
        if missing:
            progress = self.model._default_manager.filter(pk__in=missing).with_progress()
            names = list(progress.query.annotations)
            by_pk = {values.pop("pk"): values for values in progress.values("pk", *names)}
            for row in rows:
                row.__dict__.update(by_pk.get(row.pk, {}))
        self.result_list = rows


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
        if self.str_select_related and not _is_view(request, self.model, "changelist"):
            queryset = queryset.select_related(*self.str_select_related)
        return queryset

    def get_form(self, request: HttpRequest, obj: Model | None = None, **kwargs: Any):
        setattr(request, _ADMIN_OBJECT_ATTR, obj)
        form = super().get_form(request, obj, **kwargs)
        if issubclass(form, VersionedAdminForm):
            # Reverting from the history page saves an old copy on purpose.
            form.check_version = not _is_view(request, self.model, "simple_history")
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if "queryset" not in kwargs:
            queryset = scoped_choices(db_field, request, getattr(request, _ADMIN_OBJECT_ATTR, None))
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        if change and hasattr(obj, "version"):
            _bump_version(obj)
        super().save_model(request, obj, form, change)


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


# --- users ---------------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (*DjangoUserAdmin.list_display, "receives_digest", "is_active")
    list_filter = (*DjangoUserAdmin.list_filter, "receives_digest")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Reminders", {"fields": ("receives_digest", "has_calendar_feed")}),
    )
    readonly_fields = ("has_calendar_feed",)

    @admin.display(boolean=True, description="calendar feed on")
    def has_calendar_feed(self, obj: User) -> bool:
        # The token itself is a secret: show only whether one exists.
        return bool(obj.calendar_token)


# --- catalog -------------------------------------------------------------------------------


@admin.register(RoleProfile)
class RoleProfileAdmin(ScopedAdmin):
    list_display = ("name", "archetype", "active")
    list_filter = ("archetype", "active")
    search_fields = ("name", "expectations")
    ordering = ("name",)


@admin.register(Certification)
class CertificationAdmin(ScopedAdmin):
    list_display = ("name", "abbreviation", "issuer", "framework_bound")
    list_filter = ("framework_bound", "issuer")
    search_fields = ("name", "abbreviation", "issuer")
    ordering = ("issuer", "name")


@admin.register(Course)
class CourseAdmin(ScopedAdmin):
    list_display = (
        "title",
        "provider",
        "delivery",
        "duration_hours",
        "tuition",
        "currency",
        "certification",
        "active",
    )
    list_filter = ("active", "delivery", "provider", "certification__framework_bound")
    search_fields = ("title", "provider", "certification__name", "certification__abbreviation")
    autocomplete_fields = ("certification",)
    list_select_related = ("certification",)
    ordering = ("provider", "title")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class PlanTemplateItemInline(admin.TabularInline):
    model = PlanTemplateItem
    fields = ("course", "due_offset_days", "position")
    autocomplete_fields = ("course",)
    extra = 0
    ordering = ("position", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("course")


@admin.register(PlanTemplate)
class PlanTemplateAdmin(ScopedAdmin):
    list_display = ("name", "course_count", "active")
    list_filter = ("active",)
    search_fields = ("name", "description")
    ordering = ("name",)
    inlines = (PlanTemplateItemInline,)
    list_select_related = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if _is_view(request, PlanTemplate, "changelist"):
            queryset = queryset.annotate(course_count=Count("items"))
        return queryset

    @admin.display(description="courses", ordering="course_count")
    def course_count(self, obj: PlanTemplate) -> int:
        return obj.course_count


class GuidanceAdminForm(forms.ModelForm):
    class Meta:
        model = Guidance
        fields = ("title", "slug", "rule", "position", "active", "body")


@admin.register(Guidance)
class GuidanceAdmin(ScopedAdmin):
    form = GuidanceAdminForm
    list_display = ("title", "slug", "rule", "position", "active", "updated_at")
    list_filter = ("rule", "active")
    search_fields = ("title", "slug", "body")
    ordering = ("position", "title")
    readonly_fields = ("updated_at",)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Guidance | None = None):
        return {} if obj else {"slug": ("title",)}

    def get_form(self, request: HttpRequest, obj: Guidance | None = None, **kwargs: Any):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and obj.rule == Guidance.Rule.ALWAYS and "rule" in form.base_fields:
            # Disabled rather than read-only: a disabled field stays in the form,
            # so full_clean still validates the "always stays active" constraint
            # (a read-only field would be excluded and the database would raise).
            form.base_fields["rule"].disabled = True
            form.base_fields["rule"].help_text = "Every plan carries this guidance."
        if obj is not None and obj.slug == catalog.MILEAGE_SLUG and "slug" in form.base_fields:
            form.base_fields["slug"].disabled = True
        return form


# --- hires ---------------------------------------------------------------------------------


class PlanInline(admin.TabularInline):
    """The hire's plans, read here and edited on the plan's own page."""

    model = TrainingPlan
    fields = ("title", "owner", "template", "target_date", "progress", "health")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_progress().select_related("owner", "template")

    @admin.display(description="progress")
    def progress(self, obj: TrainingPlan) -> str:
        return progress_text(obj)

    @admin.display(description="health")
    def health(self, obj: TrainingPlan) -> str:
        return health_badge(getattr(obj, "health", None))


class HeldCertificationInline(admin.TabularInline):
    model = HeldCertification
    fields = ("certification", "earned_on", "expires_on", "assignment")
    readonly_fields = ("assignment",)
    autocomplete_fields = ("certification",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("certification", "assignment__course", "assignment__plan__hire")
        )


@admin.register(NewHire)
class NewHireAdmin(KeepGuidanceOnCascadeMixin, ScopedHistoryAdmin):
    form = VersionedAdminForm
    list_display = (
        "full_name",
        "email",
        "hiring_manager",
        "role_profile",
        "start_date",
        "plan_count",
        "progress",
        "health",
        "is_archived",
    )
    list_filter = (
        ArchivedFilter,
        HealthFilter,
        ("hiring_manager", admin.RelatedOnlyFieldListFilter),
        "role_profile",
        "new_to_product_management",
    )
    search_fields = ("full_name", "email", "title", "previous_role")
    autocomplete_fields = ("role_profile",)
    list_select_related = ("hiring_manager", "role_profile")
    date_hierarchy = "start_date"
    ordering = ("-start_date", "full_name")
    show_full_result_count = False
    inlines = (PlanInline, HeldCertificationInline)
    actions = ("archive_selected", "unarchive_selected")
    readonly_fields = ("archived_at", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "full_name",
                    "email",
                    "title",
                    "role_profile",
                    "hiring_manager",
                    "start_date",
                    "expected_version",
                )
            },
        ),
        ("Background", {"fields": ("new_to_product_management", "previous_role", "notes")}),
        ("Record", {"fields": ("archived_at", "created_at", "updated_at")}),
    )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ProgressChangeList

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"hiring_manager": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if "new_to_product_management" in form.changed_data:
            # The "new to product management" guidance attaches when the rule starts to hold.
            for plan in form.instance.plans.select_related("hire"):
                services.plan_guidance_sync(plan=plan)

    @admin.display(description="plans", ordering="plan_count")
    def plan_count(self, obj: NewHire) -> int:
        return getattr(obj, "plan_count", 0)

    @admin.display(description="progress", ordering="percent_complete")
    def progress(self, obj: NewHire) -> str:
        return progress_text(obj)

    @admin.display(description="health", ordering="health_rank")
    def health(self, obj: NewHire) -> str:
        return health_badge(getattr(obj, "health", None))

    @admin.display(boolean=True, description="archived", ordering="archived_at")
    def is_archived(self, obj: NewHire) -> bool:
        return obj.is_archived

    @admin.action(description="Archive selected hires", permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = skipped = 0
        for hire in queryset:
            if hire.is_archived:
                skipped += 1
                continue
            services.hire_archive(actor=request.user, hire=hire)
            done += 1
        _report(
            request, done=done, verb="archived", skipped=skipped, skip_reason="already archived"
        )

    @admin.action(description="Unarchive selected hires", permissions=["change"])
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = skipped = 0
        for hire in queryset:
            if not hire.is_archived:
                skipped += 1
                continue
            services.hire_unarchive(actor=request.user, hire=hire)
            done += 1
        _report(request, done=done, verb="unarchived", skipped=skipped, skip_reason="not archived")


@admin.register(HeldCertification)
class HeldCertificationAdmin(ScopedAdmin):
    list_display = ("certification", "hire", "earned_on", "expires_on", "hiring_manager")
    list_filter = (
        "certification__framework_bound",
        "certification",
        ("hire__hiring_manager", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = (
        "hire__full_name",
        "hire__email",
        "certification__name",
        "certification__abbreviation",
    )
    autocomplete_fields = ("hire", "certification", "assignment")
    list_select_related = ("hire", "hire__hiring_manager", "certification")
    date_hierarchy = "earned_on"
    ordering = ("-earned_on", "id")
    show_full_result_count = False

    str_select_related = ("certification", "hire")

    @admin.display(description="hiring manager", ordering="hire__hiring_manager__username")
    def hiring_manager(self, obj: HeldCertification) -> User:
        return obj.hire.hiring_manager


# --- plans ---------------------------------------------------------------------------------


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = (
        "course",
        "due_date",
        "scheduled_for",
        "status",
        "completed_on",
        "certification_earned_on",
        "paid_by",
        "tuition_cost",
        "position",
        "overdue",
    )
    readonly_fields = ("overdue",)
    autocomplete_fields = ("course",)
    extra = 0
    show_change_link = True
    ordering = ("position", "due_date", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("course")

    @admin.display(boolean=True, description="overdue")
    def overdue(self, obj: Assignment) -> bool | None:
        return obj.is_overdue() if obj.pk else None


class NoDeleteInlineFormSet(BaseInlineFormSet):
    """Plan guidance stays attached: ignore a DELETE flag even if someone forges one."""

    def _should_delete_form(self, form: forms.Form) -> bool:
        return False


class AttachGuidanceFormSet(NoDeleteInlineFormSet):
    """Refuses guidance the plan already carries.

    The (plan, guidance) unique constraint is not checked by an inline form,
    because Django leaves the inline foreign key out of per-form validation.
    """

    def clean(self) -> None:
        super().clean()
        if self.instance.pk is None:
            return  # A new plan carries only what the trigger attaches; the service dedupes.
        attached = set(self.instance.guidance.values_list("guidance_id", flat=True))
        for form in self.forms:
            guidance = getattr(form, "cleaned_data", {}).get("guidance")
            if guidance is not None and guidance.pk in attached:
                form.add_error("guidance", f"“{guidance}” is already attached to this plan.")


class PlanGuidanceInline(admin.StackedInline):
    """Guidance already attached: the snapshot is read-only, the manager's note is not."""

    model = PlanGuidance
    formset = NoDeleteInlineFormSet
    verbose_name = "attached guidance"
    verbose_name_plural = "attached guidance"
    fields = ("guidance", "body", "manager_note", "attached_at", "discussed")
    readonly_fields = ("guidance", "body", "attached_at", "discussed")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # AttachGuidanceInline adds; this one only edits notes.

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("guidance", "acknowledged_by")

    @admin.display(description="discussed with the hire")
    def discussed(self, obj: PlanGuidance) -> str:
        if obj.acknowledged_at is None:
            return "Not yet"
        who = f" by {obj.acknowledged_by}" if obj.acknowledged_by else ""
        return f"{obj.acknowledged_at:%Y-%m-%d}{who}"


class AttachGuidanceInline(admin.TabularInline):
    """Attach more guidance by hand; the unique constraint refuses a second copy."""

    model = PlanGuidance
    formset = AttachGuidanceFormSet
    verbose_name = "guidance to attach"
    verbose_name_plural = "attach more guidance"
    fields = ("guidance", "manager_note")
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).none()

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "guidance":
            kwargs["queryset"] = Guidance.objects.filter(active=True).order_by("position")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(TrainingPlan)
class TrainingPlanAdmin(KeepGuidanceOnCascadeMixin, ScopedHistoryAdmin):
    form = VersionedAdminForm
    list_display = (
        "title",
        "hire",
        "hiring_manager",
        "owner",
        "template",
        "target_date",
        "progress",
        "health",
    )
    list_filter = (
        PlanHealthFilter,
        ("hire__hiring_manager", admin.RelatedOnlyFieldListFilter),
        "template",
    )
    search_fields = ("title", "hire__full_name", "hire__email")
    autocomplete_fields = ("hire", "template")
    list_select_related = ("hire", "hire__hiring_manager", "owner", "template")
    date_hierarchy = "target_date"
    ordering = ("-created_at",)
    show_full_result_count = False
    str_select_related = ("hire",)
    inlines = (AssignmentInline, PlanGuidanceInline, AttachGuidanceInline)
    fields = (
        "hire",
        "title",
        "owner",
        "template",
        "target_date",
        "expected_version",
        "created_at",
        "updated_at",
    )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ProgressChangeList

    @admin.display(description="hiring manager", ordering="hire__hiring_manager__username")
    def hiring_manager(self, obj: TrainingPlan) -> User:
        return obj.hire.hiring_manager

    def get_readonly_fields(self, request: HttpRequest, obj: TrainingPlan | None = None):
        if obj is None:
            return ("created_at", "updated_at")
        # A plan belongs to one hire; its template only mattered when it was created.
        return ("hire", "template", "created_at", "updated_at")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        if not can_view_all(request.user):
            initial.setdefault("owner", request.user.pk)
        return initial

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "owner":
            kwargs["required"] = False
            kwargs["help_text"] = "Leave empty for the hire's hiring manager."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: TrainingPlan, form: Any, change: bool) -> None:
        if obj.owner_id is None:
            obj.owner_id = obj.hire.hiring_manager_id
        # On insert the database trigger attaches the "mileage may vary" guidance.
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is PlanGuidance:
            self._save_guidance_formset(request, formset)
            return
        if formset.model is Assignment:
            for inline_form in formset.initial_forms:
                if inline_form.has_changed() and inline_form.instance.pk:
                    _bump_version(inline_form.instance)
        super().save_formset(request, form, formset, change)
        if formset.model is Assignment:
            for assignment in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                _record_certification(assignment)

    def _save_guidance_formset(self, request: HttpRequest, formset: Any) -> None:
        # Attaching goes through the service (snapshot of today's text, never twice);
        # notes through plan_guidance_update so the history records who wrote them.
        # The three lists are what the admin's change message reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed():
                continue
            note = inline_form.cleaned_data.get("manager_note", "")
            if inline_form.instance.pk:
                services.plan_guidance_update(
                    actor=request.user, plan_guidance=inline_form.instance, manager_note=note
                )
                formset.changed_objects.append((inline_form.instance, inline_form.changed_data))
            else:
                attached = services.guidance_attach(
                    plan=formset.instance, guidance=inline_form.cleaned_data["guidance"]
                )
                if note:
                    services.plan_guidance_update(
                        actor=request.user, plan_guidance=attached, manager_note=note
                    )
                formset.new_objects.append(attached)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        plan = form.instance
        if not change and plan.template_id:
            self._add_template_courses(request, plan)
        # After the inline assignments exist, so rule-based guidance sees them.
        services.plan_guidance_sync(plan=plan)

    def _add_template_courses(self, request: HttpRequest, plan: TrainingPlan) -> None:
        """Courses of the chosen template that the inline rows did not already add."""
        present = set(plan.assignments.values_list("course_id", flat=True))
        dues = services.plan_template_due_dates(
            template=plan.template, start_date=plan.hire.start_date
        )
        added = [
            services.assignment_add(actor=request.user, plan=plan, course=item.course, due_date=due)
            for item, due in dues
            if item.course_id not in present
        ]
        if added and plan.target_date is None:
            plan.target_date = max(a.due_date for a in plan.assignments.all())
            plan.save(update_fields=["target_date"])
        if added:
            messages.info(
                request, f"{len(added)} course(s) added from the template “{plan.template}”."
            )

    @admin.display(description="progress", ordering="percent_complete")
    def progress(self, obj: TrainingPlan) -> str:
        return progress_text(obj)

    @admin.display(description="health", ordering="health_rank")
    def health(self, obj: TrainingPlan) -> str:
        return health_badge(getattr(obj, "health", None))


# --- assignments ---------------------------------------------------------------------------


@admin.register(Assignment)
class AssignmentAdmin(ScopedHistoryAdmin):
    form = VersionedAdminForm
    list_display = (
        "course",
        "hire",
        "plan",
        "status",
        "due_date",
        "overdue",
        "completed_on",
        "paid_by",
        "tuition_cost",
    )
    list_filter = (
        OverdueFilter,
        ("due_date", admin.DateFieldListFilter),
        "status",
        "paid_by",
        ("plan__hire__hiring_manager", admin.RelatedOnlyFieldListFilter),
        "course",
    )
    search_fields = (
        "course__title",
        "course__provider",
        "plan__title",
        "plan__hire__full_name",
        "plan__hire__email",
        "notes",
    )
    autocomplete_fields = ("plan", "course")
    list_select_related = ("course", "plan", "plan__hire")
    # No date_hierarchy: on SQLite its year list runs a Python function over every
    # row (0.5 s at 100,000 assignments); the date filter costs no query.
    ordering = ("due_date", "id")
    show_full_result_count = False
    str_select_related = ("course", "plan__hire")
    actions = ("complete_selected", "waive_selected", "reopen_selected")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("plan", "course", "due_date", "scheduled_for", "expected_version")}),
        ("Status", {"fields": ("status", "completed_on", "certification_earned_on")}),
        ("Tuition", {"fields": ("tuition_cost", "paid_by")}),
        ("Other", {"fields": ("notes", "position", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Assignment | None = None):
        if obj is None:
            return self.readonly_fields
        return ("plan", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Assignment, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "certification_earned_on" in form.changed_data:
            _record_certification(obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.plan_guidance_sync(plan=form.instance.plan)

    @admin.display(description="hire", ordering="plan__hire__full_name")
    def hire(self, obj: Assignment) -> NewHire:
        return obj.plan.hire

    @admin.display(boolean=True, description="overdue")
    def overdue(self, obj: Assignment) -> bool:
        return obj.is_overdue()

    @admin.action(description="Mark completed (today)", permissions=["change"])
    def complete_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done, skipped, failed = 0, 0, []
        for assignment in queryset:
            if assignment.status == Assignment.Status.COMPLETED:
                skipped += 1
                continue
            try:
                services.assignment_complete(actor=request.user, assignment=assignment)
            except (ValidationError, services.StaleObjectError) as error:
                failed.append(f"{assignment}: {_error_text(error)}")
            else:
                done += 1
        _report(
            request,
            done=done,
            verb="marked completed today",
            skipped=skipped,
            skip_reason="already completed (their date is kept)",
            failed=failed,
        )

    @admin.action(description="Waive… (asks for a reason)", permissions=["change"])
    def waive_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        # First call: from the changelist, show the confirmation page. Second call:
        # the page posts back with post=yes and the reason.
        form = WaiveForm(request.POST if "post" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            done, skipped, failed = 0, 0, []
            for assignment in queryset:
                if assignment.status == Assignment.Status.WAIVED:
                    skipped += 1
                    continue
                try:
                    services.assignment_waive(
                        actor=request.user, assignment=assignment, reason=reason
                    )
                except (ValidationError, services.StaleObjectError) as error:
                    failed.append(f"{assignment}: {_error_text(error)}")
                else:
                    done += 1
            _report(
                request,
                done=done,
                verb="waived",
                skipped=skipped,
                skip_reason="already waived",
                failed=failed,
            )
            return None
        if form.is_bound:
            messages.error(request, "Nothing was waived: give a reason.")
        assignments = list(queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": "Waive assignments",
            "opts": self.model._meta,
            "assignments": assignments,
            "shown": assignments[:WAIVE_LIST_LIMIT],
            "more": max(0, len(assignments) - WAIVE_LIST_LIMIT),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, WAIVE_TEMPLATE, context)

    @admin.action(description="Reopen (not completed, not waived)", permissions=["change"])
    def reopen_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done, skipped, failed = 0, 0, []
        for assignment in queryset:
            if assignment.is_open:
                skipped += 1
                continue
            try:
                services.assignment_reopen(actor=request.user, assignment=assignment)
            except (ValidationError, services.StaleObjectError) as error:
                failed.append(f"{assignment}: {_error_text(error)}")
            else:
                done += 1
        _report(
            request,
            done=done,
            verb="reopened",
            skipped=skipped,
            skip_reason="already open",
            failed=failed,
        )


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


# --- plan guidance -------------------------------------------------------------------------


@admin.register(PlanGuidance)
class PlanGuidanceAdmin(ScopedHistoryAdmin):
    list_display = ("guidance", "hire", "plan", "attached_at", "is_discussed", "has_note")
    list_filter = (
        DiscussedFilter,
        ("attached_at", admin.DateFieldListFilter),
        "guidance",
        ("plan__hire__hiring_manager", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("guidance__title", "plan__title", "plan__hire__full_name", "manager_note")
    autocomplete_fields = ("plan", "guidance")
    list_select_related = ("guidance", "plan", "plan__hire")
    # Newest first by primary key (attach order): sorting the joined rows by
    # attached_at cost 0.2 s at 30,000 rows. No date_hierarchy: see AssignmentAdmin.
    ordering = ("-id",)
    show_full_result_count = False
    str_select_related = ("guidance", "plan__hire")
    actions = ("mark_discussed", "mark_not_discussed")
    fields = (
        "plan",
        "guidance",
        "body",
        "manager_note",
        "attached_at",
        "acknowledged_at",
        "acknowledged_by",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: PlanGuidance | None = None):
        # The body is the snapshot taken when attached: never edited here.
        readonly = ("body", "attached_at", "acknowledged_at", "acknowledged_by")
        return readonly if obj is None else ("plan", "guidance", *readonly)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # Guidance stays attached once attached.

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "guidance":
            kwargs["queryset"] = Guidance.objects.filter(active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: PlanGuidance, form: Any, change: bool) -> None:
        if not change:
            # The form's unique check already refused a second copy.
            obj.body = obj.guidance.body
        super().save_model(request, obj, form, change)

    @admin.display(description="hire", ordering="plan__hire__full_name")
    def hire(self, obj: PlanGuidance) -> NewHire:
        return obj.plan.hire

    @admin.display(boolean=True, description="discussed", ordering="acknowledged_at")
    def is_discussed(self, obj: PlanGuidance) -> bool:
        return obj.is_discussed

    @admin.display(boolean=True, description="manager's note")
    def has_note(self, obj: PlanGuidance) -> bool:
        return bool(obj.manager_note)

    @admin.action(description="Mark discussed with the hire", permissions=["change"])
    def mark_discussed(self, request: HttpRequest, queryset: QuerySet) -> None:
        for plan_guidance in queryset:
            services.plan_guidance_update(
                actor=request.user, plan_guidance=plan_guidance, discussed=True
            )
        _report(request, done=len(queryset), verb="marked discussed")

    @admin.action(description="Mark not yet discussed", permissions=["change"])
    def mark_not_discussed(self, request: HttpRequest, queryset: QuerySet) -> None:
        for plan_guidance in queryset:
            services.plan_guidance_update(
                actor=request.user, plan_guidance=plan_guidance, discussed=False
            )
        _report(request, done=len(queryset), verb="marked not yet discussed")
