"""Check-ins and their ratings: read here, scoped; rated on the check-in page.

Recording a check-in has rules (every competency rated before completing, who
completed it and when, the version the manager saw), so the admin shows them
and links to the check-in page, which writes through services.check_in_record.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ..forms import CheckedCountsInlineFormSet
from ..models import CheckIn, CompetencyRating, NewHire
from .scoping import ScopedHistoryAdmin


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RatingInline(ReadOnlyMixin, admin.TabularInline):
    formset = CheckedCountsInlineFormSet
    model = CompetencyRating
    fields = ("competency", "manager_level", "self_level", "note")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("competency")


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyMixin, ScopedHistoryAdmin):
    list_display = ("hire", "kind", "due_date", "completed_at", "completed_by", "rate")
    list_filter = ("kind", ("completed_at", admin.EmptyFieldListFilter), "due_date")
    search_fields = ("hire__full_name", "hire__email")
    list_select_related = ("hire", "completed_by")
    ordering = ("due_date", "id")
    show_full_result_count = False
    str_select_related = ("hire",)
    fields = ("hire", "kind", "due_date", "completed_at", "completed_by", "summary", "rate")
    readonly_fields = fields
    inlines = (RatingInline,)

    @admin.display(description="rate on the check-in page")
    def rate(self, obj: CheckIn) -> str:
        return format_html(
            '<a href="{}">Open the check-in</a>', reverse("onboarding:check_in", args=[obj.pk])
        )


@admin.register(CompetencyRating)
class CompetencyRatingAdmin(ReadOnlyMixin, ScopedHistoryAdmin):
    list_display = ("competency", "hire", "kind", "manager_level", "self_level")
    list_filter = ("competency", "check_in__kind", "manager_level")
    search_fields = ("check_in__hire__full_name", "competency__name")
    list_select_related = ("competency", "check_in__hire")
    ordering = ("-id",)
    show_full_result_count = False
    str_select_related = ("competency", "check_in__hire")

    @admin.display(description="hire", ordering="check_in__hire__full_name")
    def hire(self, obj: CompetencyRating) -> NewHire:
        return obj.check_in.hire

    @admin.display(description="check-in", ordering="check_in__kind")
    def kind(self, obj: CompetencyRating) -> str:
        return obj.check_in.get_kind_display()
