"""What hires send from their own page, and their invitations: read here, scoped.

Invitations are sent and withdrawn on the hire page, evidence is reviewed on the
plan page and feedback comes from the hire: the admin shows them, it does not
write them (no token or file is ever shown here beyond a download link).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ..models import CourseFeedback, Evidence, HireInvitation
from .ramp import ReadOnlyMixin
from .scoping import ScopedAdmin


@admin.register(HireInvitation)
class HireInvitationAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("hire", "created_at", "expires_at", "used_at", "revoked_at", "state")
    list_filter = (
        ("used_at", admin.EmptyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("hire__full_name", "hire__email")
    list_select_related = ("hire",)
    ordering = ("-created_at",)
    show_full_result_count = False
    fields = ("hire", "created_by", "created_at", "expires_at", "used_at", "revoked_at", "state")
    readonly_fields = fields
    str_select_related = ("hire",)

    @admin.display(description="state")
    def state(self, obj: HireInvitation) -> str:
        return obj.state()


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("original_name", "hire", "content_type", "size", "uploaded_at", "reviewed_at")
    list_filter = ("content_type", ("reviewed_at", admin.EmptyFieldListFilter))
    search_fields = ("original_name", "assignment__plan__hire__full_name")
    list_select_related = ("assignment__plan__hire", "held_certification__hire")
    ordering = ("-uploaded_at",)
    show_full_result_count = False
    fields = (
        "original_name",
        "download",
        "content_type",
        "size",
        "assignment",
        "held_certification",
        "uploaded_by",
        "uploaded_at",
        "reviewed_by",
        "reviewed_at",
    )
    readonly_fields = fields
    str_select_related = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("assignment__plan__hire", "held_certification__hire")
        )

    @admin.display(description="hire")
    def hire(self, obj: Evidence) -> str:
        owner = obj.assignment.plan.hire if obj.assignment_id else obj.held_certification.hire
        return str(owner)

    @admin.display(description="file")
    def download(self, obj: Evidence) -> str:
        return format_html(
            '<a href="{}">Download</a>', reverse("onboarding:evidence_download", args=[obj.pk])
        )


@admin.register(CourseFeedback)
class CourseFeedbackAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ("assignment", "usefulness", "submitted_at")
    list_filter = ("usefulness",)
    search_fields = ("assignment__plan__hire__full_name", "assignment__course__title")
    list_select_related = ("assignment__course", "assignment__plan__hire")
    ordering = ("-submitted_at",)
    show_full_result_count = False
    str_select_related = ("assignment__course", "assignment__plan__hire")
