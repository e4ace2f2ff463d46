"""The catalog: role profiles, competencies, certifications, courses, templates and guidance."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .. import catalog, services
from ..forms import CheckedCountsInlineFormSet
from ..models import (
    Certification,
    Competency,
    Course,
    Guidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleExpectation,
    RoleProfile,
)
from .scoping import ScopedAdmin, VersionedAdminForm, is_admin_view


class CatalogAdmin(ScopedAdmin):
    """A catalog entry's change page refuses a save made from an outdated page.

    VersionedAdminForm locks the row and compares versions while validating; the
    write goes through the same service as the dashboard's catalog pages.
    """

    form = VersionedAdminForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.catalog_entry_save(actor=request.user, entry=obj, expected_version=form.expected())


class RoleExpectationInline(admin.TabularInline):
    formset = CheckedCountsInlineFormSet
    model = RoleExpectation
    fields = ("competency", "expected_level", "note")
    extra = 0
    ordering = ("competency__position", "competency__name")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 1})}}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("competency")


@admin.register(RoleProfile)
class RoleProfileAdmin(CatalogAdmin):
    list_display = ("name", "archetype", "active")
    list_filter = ("archetype", "active")
    search_fields = ("name", "expectations")
    ordering = ("name",)
    inlines = (RoleExpectationInline,)


@admin.register(Competency)
class CompetencyAdmin(CatalogAdmin):
    list_display = ("name", "slug", "position", "active")
    list_filter = ("active",)
    search_fields = ("name", "slug", "description")
    ordering = ("position", "name")
    inlines = (RoleExpectationInline,)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Competency | None = None):
        return {} if obj else {"slug": ("name",)}


@admin.register(RoleExpectation)
class RoleExpectationAdmin(CatalogAdmin):
    list_display = ("role_profile", "competency", "expected_level")
    list_filter = ("role_profile", "competency", "expected_level")
    list_select_related = ("role_profile", "competency")
    ordering = ("role_profile__name", "competency__position")


@admin.register(Certification)
class CertificationAdmin(CatalogAdmin):
    list_display = ("name", "abbreviation", "issuer", "framework_bound")
    list_filter = ("framework_bound", "issuer")
    search_fields = ("name", "abbreviation", "issuer")
    ordering = ("issuer", "name")


@admin.register(Course)
class CourseAdmin(CatalogAdmin):
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
    filter_horizontal = ("competencies",)
    list_select_related = ("certification",)
    ordering = ("provider", "title")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class PlanTemplateItemInline(admin.TabularInline):
    formset = CheckedCountsInlineFormSet
    model = PlanTemplateItem
    fields = ("course", "due_offset_days", "position")
    autocomplete_fields = ("course",)
    extra = 0
    ordering = ("position", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("course")


@admin.register(PlanTemplate)
class PlanTemplateAdmin(CatalogAdmin):
    list_display = ("name", "course_count", "active")
    list_filter = ("active",)
    search_fields = ("name", "description")
    ordering = ("name",)
    inlines = (PlanTemplateItemInline,)
    list_select_related = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if is_admin_view(request, PlanTemplate, "changelist"):
            queryset = queryset.annotate(course_count=Count("items"))
        return queryset

    @admin.display(description="courses", ordering="course_count")
    def course_count(self, obj: PlanTemplate) -> int:
        return obj.course_count


class GuidanceAdminForm(VersionedAdminForm):
    class Meta:
        model = Guidance
        fields = ("title", "slug", "rule", "position", "active", "body")


@admin.register(Guidance)
class GuidanceAdmin(CatalogAdmin):
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
