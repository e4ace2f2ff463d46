"""New hires and the certifications they hold."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .. import services
from ..forms import CheckedCountsInlineFormSet
from ..models import HeldCertification, NewHire, TrainingPlan, User
from .scoping import (
    HealthFilter,
    KeepGuidanceOnCascadeMixin,
    ProgressColumnsMixin,
    ProgressListMixin,
    ScopedAdmin,
    ScopedHistoryAdmin,
    VersionedAdminForm,
    adopt,
    apply_to_each,
    export_csv_action,
)

# The fields services.hire_update accepts, in two sections of the change page.
_BACKGROUND_FIELDS = ("new_to_product_management", "previous_role", "notes")
_IDENTITY_FIELDS = tuple(name for name in services.HIRE_FIELDS if name not in _BACKGROUND_FIELDS)


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


class PlanInline(ProgressColumnsMixin, admin.TabularInline):
    """The hire's plans, read here and edited on the plan's own page."""

    formset = CheckedCountsInlineFormSet

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


def save_held_certification(request: HttpRequest, form: Any, obj: HeldCertification) -> None:
    data = form.cleaned_data
    if obj.pk is None:
        held = services.held_certification_create(
            actor=request.user,
            hire=data.get("hire") or obj.hire,
            certification=data["certification"],
            earned_on=data["earned_on"],
            expires_on=data.get("expires_on"),
            assignment=data.get("assignment"),
        )
        adopt(obj, held)
        return
    changes = {
        name: data[name] for name in form.changed_data if name in services.HELD_CERTIFICATION_FIELDS
    }
    if changes:
        services.held_certification_update(
            actor=request.user, held=obj, expected_version=form.expected(), **changes
        )


def save_held_certifications(request: HttpRequest, formset: Any) -> None:
    # The three lists are what the admin's change message reads.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        obj = form.instance
        if form in formset.deleted_forms:
            if obj.pk:
                services.held_certification_remove(actor=request.user, held=obj)
                formset.deleted_objects.append(obj)
        elif form.has_changed():
            new = obj.pk is None
            obj.hire = formset.instance
            save_held_certification(request, form, obj)
            if new:
                formset.new_objects.append(obj)
            else:
                formset.changed_objects.append((obj, form.changed_data))


class HeldCertificationAdminForm(VersionedAdminForm):
    noun = "held certification"


class HeldCertificationInline(admin.TabularInline):
    form = HeldCertificationAdminForm
    formset = CheckedCountsInlineFormSet
    model = HeldCertification
    fields = ("certification", "earned_on", "expires_on", "assignment", "expected_version")
    readonly_fields = ("assignment",)
    autocomplete_fields = ("certification",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("certification", "assignment__course", "assignment__plan__hire")
        )


class NewHireAdminForm(VersionedAdminForm):
    noun = "hire"


@admin.register(NewHire)
class NewHireAdmin(ProgressListMixin, KeepGuidanceOnCascadeMixin, ScopedHistoryAdmin):
    form = NewHireAdminForm
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
    actions = ("archive_selected", "unarchive_selected", "export_selected")
    export_selected = export_csv_action("hires")
    readonly_fields = ("archived_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": (*_IDENTITY_FIELDS, "expected_version")}),
        ("Background", {"fields": _BACKGROUND_FIELDS}),
        ("Record", {"fields": ("archived_at", "created_at", "updated_at")}),
    )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"hiring_manager": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request: HttpRequest, obj: NewHire, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {name: data[name] for name in services.HIRE_FIELDS if name in data}
        if not change:
            adopt(obj, services.hire_create(actor=request.user, **fields))
            return
        if form.check_version:
            fields = {name: fields[name] for name in form.changed_data if name in fields}
        # The service attaches the "new to product management" guidance when that
        # rule starts to hold.
        services.hire_update(
            actor=request.user, hire=obj, expected_version=form.expected(), **fields
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is HeldCertification:
            save_held_certifications(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    @admin.display(description="plans", ordering="plan_count")
    def plan_count(self, obj: NewHire) -> int:
        return getattr(obj, "plan_count", 0)

    @admin.display(boolean=True, description="archived", ordering="archived_at")
    def is_archived(self, obj: NewHire) -> bool:
        return obj.is_archived

    @admin.action(description="Archive selected hires", permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_archived(request, queryset, archived=True)

    @admin.action(description="Unarchive selected hires", permissions=["change"])
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_archived(request, queryset, archived=False)

    def _set_archived(self, request: HttpRequest, queryset: QuerySet, *, archived: bool) -> None:
        service = services.hire_archive if archived else services.hire_unarchive
        apply_to_each(
            request,
            queryset,
            apply=lambda hire: service(actor=request.user, hire=hire),
            skip=lambda hire: hire.is_archived == archived,
            verb="archived" if archived else "unarchived",
            skip_reason="already archived" if archived else "not archived",
        )


@admin.register(HeldCertification)
class HeldCertificationAdmin(ScopedAdmin):
    form = HeldCertificationAdminForm
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

    def save_model(
        self, request: HttpRequest, obj: HeldCertification, form: Any, change: bool
    ) -> None:
        save_held_certification(request, form, obj)

    def delete_model(self, request: HttpRequest, obj: HeldCertification) -> None:
        services.held_certification_remove(actor=request.user, held=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for held in queryset:
            services.held_certification_remove(actor=request.user, held=held)
