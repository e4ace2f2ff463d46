"""Users and what the reminders send them: the user admin and the digest deliveries."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .. import services
from ..models import DigestDelivery, User
from ..rules import can_view_all
from .scoping import VersionedAdminForm


class UserAdminChangeForm(VersionedAdminForm, UserChangeForm):
    noun = "user"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    list_display = (*DjangoUserAdmin.list_display, "receives_digest", "is_active")
    list_filter = (*DjangoUserAdmin.list_filter, "receives_digest")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Reminders", {"fields": ("receives_digest", "has_calendar_feed", "expected_version")}),
    )
    readonly_fields = ("has_calendar_feed",)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The add form has no version (and has already set the password on obj).
        expected = form.expected() if change else None
        services.user_account_save(actor=request.user, account=obj, expected_version=expected)

    @admin.display(boolean=True, description="calendar feed on")
    def has_calendar_feed(self, obj: User) -> bool:
        # The token itself is a secret: show only whether one exists.
        return bool(obj.calendar_token)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    """The record `send_reminders` keeps of each digest: read here, written only by it.

    Viewing needs the model's view permission as usual; on top of that, anyone
    but people-ops sees only the digests sent to them. Deleting a row makes the
    next run send that day's digest again, so only a superuser may.
    """

    list_display = ("recipient", "digest_date", "claimed_at", "sent_at", "item_count")
    list_filter = ("digest_date",)
    search_fields = ("recipient__username",)
    list_select_related = ("recipient",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if can_view_all(request.user):
            return queryset
        return queryset.filter(recipient=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser
